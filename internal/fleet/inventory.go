package fleet

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/warden-exporter/warden/internal/pki"
)

// Node is one line of an inventory.
type Node struct {
	// Name names the node's directory and its node label; it is also the
	// first SAN of its certificate.
	Name string
	// Hosts are the certificate's SANs: Name, then the addresses given.
	Hosts []string
	// Host is what Prometheus scrapes: the first address after the name,
	// or the name when the line has none.
	Host string
	// Line is where the node was read ("hosts.txt:3"), for errors.
	Line string
}

// ParseInventory reads an inventory file: one node a line, its name and
// then any further DNS names and IP addresses, separated by blanks
// ("node1.example 10.0.0.1"); '#' starts a comment. Every problem found is
// returned, each naming the file and line.
func ParseInventory(path string) ([]Node, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	return parseInventory(path, b)
}

func parseInventory(path string, b []byte) ([]Node, error) {
	var nodes []Node
	var problems []error
	names := map[string]string{}   // lower-case name -> line
	targets := map[string]string{} // host -> line
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := fmt.Sprintf("%s:%d", path, n)
		text, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		bad := func(format string, args ...any) {
			problems = append(problems, fmt.Errorf("inventory %s: %s", line, fmt.Sprintf(format, args...)))
		}
		if _, _, err := pki.SplitHosts(fields); err != nil {
			bad("%v", err)
			continue
		}
		node := Node{Name: fields[0], Hosts: uniq(fields), Host: fields[0], Line: line}
		if len(fields) > 1 {
			node.Host = fields[1]
		}
		if net.ParseIP(node.Name) == nil && strings.HasSuffix(node.Name, ".") {
			bad("node name %q ends with a dot", node.Name)
			continue
		}
		if prev, ok := names[strings.ToLower(node.Name)]; ok {
			bad("node %s is already on line %s", node.Name, prev)
			continue
		}
		if prev, ok := targets[node.Host]; ok {
			bad("address %s is already scraped for the node on line %s", node.Host, prev)
			continue
		}
		names[strings.ToLower(node.Name)], targets[node.Host] = line, line
		nodes = append(nodes, node)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("inventory %s: %w", path, err)
	}
	if len(nodes) == 0 && len(problems) == 0 {
		problems = append(problems, fmt.Errorf("inventory %s: no node", path))
	}
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	return nodes, nil
}

func uniq(hosts []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, h := range hosts {
		if k := strings.ToLower(h); !seen[k] {
			seen[k] = true
			out = append(out, h)
		}
	}
	return out
}
