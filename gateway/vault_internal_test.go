package gateway

import (
	"bytes"
	"encoding/json"
	"testing"

	"openagent/internal/vault"
)

// TestAppendVaultGraph checks the hand-written graph encoder against
// encoding/json, byte for byte, including awkward strings.
func TestAppendVaultGraph(t *testing.T) {
	t.Parallel()
	odd := []string{"", "plain.md", `quo"te\back`, "tab\tnew\nline\r", "\x00\x01\x1f\b\f", "<html>&amp;",
		"héllo 日本", "bad \xff\xfe utf8", "line\u2028sep\u2029", "emoji 🦜.md", "trunc \xe2\x82"}
	var g vault.Graph
	for i, s := range odd {
		tags := []string{s, "t"}
		if i%3 == 0 {
			tags = []string{}
		}
		if i%5 == 0 {
			tags = nil
		}
		g.Nodes = append(g.Nodes, vault.Node{ID: s, Label: s + "!", Tags: tags, Type: s, Degree: i * 7, Unresolved: i%2 == 0})
		g.Edges = append(g.Edges, vault.Edge{Source: s, Target: odd[(i+1)%len(odd)]})
	}
	for _, graph := range []vault.Graph{{}, {Nodes: []vault.Node{}, Edges: []vault.Edge{}}, g} {
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(vaultGraphBody(graph)); err != nil {
			t.Fatal(err)
		}
		if got := appendVaultGraph(nil, graph); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("appendVaultGraph =\n%s\nencoding/json =\n%s", got, want.Bytes())
		}
	}
}
