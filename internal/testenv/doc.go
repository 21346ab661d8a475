// Package testenv runs Warden's binaries and their real peers (Debian's
// prometheus and prometheus-alertmanager, node_exporter v1.12.1, amtool
// v0.34.2) on loopback for the end-to-end tests and the benchmarks.
//
// One file a concern: binaries.go builds Warden's commands, process.go
// starts and stops any program, wait.go waits for ports and conditions,
// prometheus.go and alertmanager.go talk to those servers over their APIs
// (http.go bounds every such call in time), and peers.go finds or installs
// the programs Warden is run beside.
package testenv
