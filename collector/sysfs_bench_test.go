//go:build linux

package collector

import (
	"os"
	"testing"
)

// BenchmarkReadSysfsValue compares the ways of reading one sysfs attribute.
func BenchmarkReadSysfsValue(b *testing.B) {
	const path = "/sys/class/net/lo/mtu"
	if _, err := os.Stat(path); err != nil {
		b.Skip("no sysfs:", err)
	}
	b.Run("readSysfsValue", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := readSysfsValue(path); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("os.ReadFile", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := os.ReadFile(path); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("os.Open+Read", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, sysfsValueSize)
		for b.Loop() {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := f.Read(buf); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	})
}
