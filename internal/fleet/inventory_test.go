package fleet

import (
	"slices"
	"testing"
)

func TestParseInventory(t *testing.T) {
	nodes, err := parseInventory("hosts.txt", []byte(`# the fleet
node1.example 10.0.0.1
node2.example   10.0.0.2 node2.internal   # a comment
node3.example

10.0.0.4
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Node{
		{Name: "node1.example", Hosts: []string{"node1.example", "10.0.0.1"}, Host: "10.0.0.1", Line: "hosts.txt:2"},
		{Name: "node2.example", Hosts: []string{"node2.example", "10.0.0.2", "node2.internal"}, Host: "10.0.0.2", Line: "hosts.txt:3"},
		{Name: "node3.example", Hosts: []string{"node3.example"}, Host: "node3.example", Line: "hosts.txt:4"},
		{Name: "10.0.0.4", Hosts: []string{"10.0.0.4"}, Host: "10.0.0.4", Line: "hosts.txt:6"},
	}
	if len(nodes) != len(want) {
		t.Fatalf("%d nodes, want %d: %+v", len(nodes), len(want), nodes)
	}
	for i := range want {
		if nodes[i].Name != want[i].Name || nodes[i].Host != want[i].Host || nodes[i].Line != want[i].Line || !slices.Equal(nodes[i].Hosts, want[i].Hosts) {
			t.Errorf("node %d = %+v, want %+v", i, nodes[i], want[i])
		}
	}
}

func TestParseInventoryRefuses(t *testing.T) {
	for _, tt := range []struct {
		name, content, want string
	}{
		{"empty", "# nothing\n\n", "inventory hosts.txt: no node"},
		{"not a host", "node1 10.0.0.1\nno/de 10.0.0.2\n", `inventory hosts.txt:2: host "no/de": not a DNS name or IP address: '/' is not allowed in a host name`},
		{"duplicate name", "node1 10.0.0.1\nNODE1 10.0.0.2\n", "inventory hosts.txt:2: node NODE1 is already on line hosts.txt:1"},
		{"duplicate target", "node1 10.0.0.1\nnode2 10.0.0.1\n", "inventory hosts.txt:2: address 10.0.0.1 is already scraped for the node on line hosts.txt:1"},
		{"every problem", "a/b\nc/d\n", "inventory hosts.txt:1: host \"a/b\": not a DNS name or IP address: '/' is not allowed in a host name\ninventory hosts.txt:2: host \"c/d\": not a DNS name or IP address: '/' is not allowed in a host name"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseInventory("hosts.txt", []byte(tt.content))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error:\n%v\nwant:\n%s", err, tt.want)
			}
		})
	}
}
