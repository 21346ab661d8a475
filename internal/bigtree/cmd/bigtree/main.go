// Command bigtree writes the benchmark's synthetic big-host tree (see
// package bigtree) into a directory, and prints the flags that point an
// exporter at it:
//
//	go run ./internal/bigtree/cmd/bigtree -dir /tmp/bighost [-scale 0.25]
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/warden-exporter/warden/internal/bigtree"
)

func main() {
	dir := flag.String("dir", "", "directory to write the tree into (must not exist or be empty)")
	scale := flag.Float64("scale", 1, "size relative to the full big host (0.25: a quarter)")
	flag.Parse()
	if *dir == "" || *scale <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	sizes := bigtree.Full.Scaled(*scale)
	p, err := bigtree.Write(*dir, sizes)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bigtree:", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "wrote", sizes)
	fmt.Printf("--path.procfs=%s --path.sysfs=%s --path.rootfs=%s --path.udev.data=%s\n", p.Proc, p.Sys, p.Rootfs, p.Udev)
}
