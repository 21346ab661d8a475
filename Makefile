# Warden. `make run` starts the node exporter on a secure default;
# `make test` installs what the tests need and runs them all.

GO       ?= go
BIN      := bin
RUN_DIR  := .warden
PORT     ?= 9100
PKG      := github.com/prometheus/common/version
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BRANCH   ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
BUILD_DATE ?= $(shell git log -1 --format=%cd --date=format:%Y%m%d-%H:%M:%S 2>/dev/null || echo unknown)
LDFLAGS  := -s -w -X $(PKG).Version=$(VERSION) -X $(PKG).Revision=$(REVISION) -X $(PKG).Branch=$(BRANCH) -X $(PKG).BuildUser=warden -X $(PKG).BuildDate=$(BUILD_DATE)
BINARIES := warden_node_exporter wardentool
export CGO_ENABLED ?= 0

# What runs as root: test-package installs and purges a .deb. Without root,
# sudo (internal/scripts/test-deps.sh checks first that it needs no password), and
# what it built in bin/ and dist/ is given back to the caller afterwards.
AS_ROOT := $(if $(filter 0,$(shell id -u)),,sudo -n env PATH="$$PATH")

.PHONY: all build run test test-deps unit e2e lint fmt-check vet bench fuzz clean

all: build

build:
	@mkdir -p $(BIN)
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ $(addprefix ./cmd/,$(BINARIES))

# Runs warden_node_exporter on 127.0.0.1:$(PORT) (make run PORT=9101) with
# TLS, a client certificate and basic auth, all made by `wardentool init`
# into .warden/ on first run; internal/scripts/run.sh says which port is free when
# PORT is taken.
run: build
	@internal/scripts/run.sh $(BIN) $(RUN_DIR) $(PORT)

# The stages, in order; internal/scripts/test.sh runs each as `make STAGE`, stops at
# the first failure and prints one line per stage with its result and time.
TEST_STAGES := test-deps lint unit e2e test-package helm-check
test:
	@MAKE='$(MAKE)' internal/scripts/test.sh $(TEST_STAGES)

# Checks within seconds that every stage can run here (root or sudo,
# Debian, Go, no warden package installed), then installs the Debian
# packages the tests run: see internal/scripts/test-deps.sh and README.md.
test-deps:
	@internal/scripts/test-deps.sh

unit:
	CGO_ENABLED=1 $(GO) test -race -count=1 ./...

e2e:
	$(GO) test -count=1 -tags e2e -timeout 20m ./internal/e2e/...

GOLANGCI_LINT_VERSION := v2.15.0
GOLANGCI_LINT := $(BIN)/tools/golangci-lint

$(GOLANGCI_LINT):
	GOBIN=$(abspath $(BIN)/tools) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

lint: vet fmt-check $(GOLANGCI_LINT)
	$(GOLANGCI_LINT) run ./...

vet:
	$(GO) vet ./...
	$(GO) vet -tags e2e ./internal/e2e/...
	$(GO) vet -tags bench ./internal/bench/...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Go benchmarks, then Warden beside node_exporter v1.12.1 (go install'ed
# into bin/peers) on this machine and on a generated big-host tree at a
# quarter and at full size (internal/bigtree), and both with a hung hwmon
# read; each figure is reported as a ratio.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) test -tags bench -run '^$$' -bench . -benchtime 1x -timeout 60m -v ./internal/bench/

# Go's native fuzzing of every parser of outside input, one target after
# the other, each for FUZZTIME (make fuzz FUZZTIME=10m; FUZZ_TARGETS to
# pick some). Not part of `make test`: `make unit` replays the corpora
# (testdata/fuzz/ beside each package) as ordinary tests. An input that
# fails is written there, to be kept as a seed beside its fix. Each new
# input of interest is minimized for FUZZMINIMIZETIME (Go's default, 60s,
# stalled every worker for most of a short run).
FUZZTIME ?= 30s
FUZZMINIMIZETIME ?= 5s
FUZZ_TARGETS ?= \
	./webconf:FuzzWebConfig ./webconf:FuzzAuthFile \
	./alertclient:FuzzParseAlerts ./alertclient:FuzzLabelsFromArgs \
	./alertclient:FuzzSpoolBatch ./alertclient:FuzzAlertmanagerAnswer \
	./alertclient:FuzzLoadConfig

fuzz:
	@failed=""; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t#*:}; \
		echo "== $$name ($$pkg) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) $$pkg || failed="$$failed $$name"; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: failed:$$failed"; exit 1; fi

clean:
	rm -rf $(BIN) dist

# Packaging (packaging/): `make package` writes a .deb and an .rpm into dist/,
# with man pages and bash/zsh completion generated from the binaries; nfpm
# comes from the Go module proxy at a pinned version. The package version is
# derived from git describe; file times are the commit's (SOURCE_DATE_EPOCH).
NFPM_VERSION      := v2.45.2
NFPM              := $(GO) run github.com/goreleaser/nfpm/v2/cmd/nfpm@$(NFPM_VERSION)
COMMIT_EPOCH      ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
PKG_VERSION       ?= $(shell packaging/pkg-version.sh '$(VERSION)' "$$(date -u -d @$(COMMIT_EPOCH) +%Y%m%d%H%M%S)")
PKG_ARCH          ?= $(shell $(GO) env GOARCH)
PKG_GEN_DIR       := dist/generated

.PHONY: package test-package reproducible-check

package: build
	rm -rf $(PKG_GEN_DIR) dist/warden_*.deb dist/warden-*.rpm
	packaging/gen-docs.sh $(BIN) $(PKG_GEN_DIR) '$(PKG_VERSION)' "$$(date -u -d @$(COMMIT_EPOCH) +%F)"
	for p in deb rpm; do \
		PKG_VERSION='$(PKG_VERSION)' PKG_ARCH='$(PKG_ARCH)' SOURCE_DATE_EPOCH=$(COMMIT_EPOCH) \
			$(NFPM) package --config packaging/nfpm.yaml --packager $$p --target dist/ || exit 1; \
	done

# Builds the .deb, inspects it, installs it on this machine (root needed),
# runs and scrapes the installed service as its user, removes and purges it;
# then boots a cached Debian root file system with systemd as PID 1
# (debootstrap, systemd-nspawn) and installs, runs, compares, upgrades and
# purges the package there (packaging/test-systemd.sh).
test-package:
	$(AS_ROOT) packaging/test-package.sh$(if $(AS_ROOT),; rc=$$?; sudo -n chown -R "$$(id -u):$$(id -g)" $(BIN) dist; exit $$rc)

# The Helm chart (packaging/helm/warden), without a cluster: helm lint and
# helm template for each values file in its ci/ folder, then the strict
# decoding and security tests (packaging/checks/helmcheck). helm comes from
# the Go module proxy at a pinned version.
HELM_VERSION := v3.22.0
HELM         := $(BIN)/tools/helm
HELM_CHART   := packaging/helm/warden
HELM_KUBE    := 1.33.0

$(HELM):
	GOBIN=$(abspath $(BIN)/tools) $(GO) install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

.PHONY: helm-check
helm-check: $(HELM)
	@$(GO) version -m $(HELM) | awk '$$1 == "mod" { print $$3 }' | grep -qx '$(HELM_VERSION)' || { \
		echo "$(HELM) is not helm $(HELM_VERSION); remove it to reinstall"; exit 1; }
	for f in $(HELM_CHART)/ci/*-values.yaml; do \
		$(HELM) lint --strict --quiet --kube-version $(HELM_KUBE) $(HELM_CHART) -f $$f || exit 1; \
		$(HELM) template warden $(HELM_CHART) --namespace monitoring --kube-version $(HELM_KUBE) -f $$f >/dev/null || exit 1; \
		echo "ok: helm lint and template with $$f"; \
	done
	cd packaging/checks && WARDEN_HELM=$(abspath $(HELM)) $(GO) test -count=1 ./helmcheck/

# Builds the binaries twice, in two copies of the tree at different paths
# and times, and compares the bytes. REPRO_FRESH_CACHE=1 compiles the second
# copy with an empty Go build cache.
reproducible-check:
	packaging/reproducible-check.sh
