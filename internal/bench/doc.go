// Package bench holds the benchmarks that run Warden beside its peers
// (node_exporter v1.12.1, amtool v0.34.2) on this machine and report
// ratios. They carry the bench build tag; `make bench` runs them.
package bench
