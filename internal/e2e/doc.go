// Package e2e holds the end-to-end tests: they build Warden's binaries and
// run them against Debian's real prometheus and prometheus-alertmanager on
// loopback. They carry the e2e build tag; `make test` runs them.
package e2e
