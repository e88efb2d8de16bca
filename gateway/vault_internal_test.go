package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
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

// TestVaultGraphSize: the size estimate covers the body when nothing needs
// escaping, so the body is allocated once.
func TestVaultGraphSize(t *testing.T) {
	t.Parallel()
	g := vault.Graph{
		Nodes: []vault.Node{
			{ID: "a.md", Label: "A", Tags: []string{"x", "y/z"}, Type: "note", Degree: 123456},
			{ID: "Missing", Label: "Missing", Tags: []string{}, Degree: 1, Unresolved: true},
			{ID: "b.md", Label: "b", Tags: nil, Degree: 0},
		},
		Edges: []vault.Edge{{Source: "a.md", Target: "b.md"}, {Source: "a.md", Target: "Missing"}},
	}
	for i := range 500 {
		g.Nodes = append(g.Nodes, vault.Node{ID: fmt.Sprintf("folder/note %d.md", i), Label: fmt.Sprintf("note %d", i), Tags: []string{"t"}, Degree: i})
		g.Edges = append(g.Edges, vault.Edge{Source: fmt.Sprintf("folder/note %d.md", i), Target: "a.md"})
	}
	body := appendVaultGraph(nil, g)
	if est := vaultGraphSize(g); est < len(body) || est > len(body)*11/10 {
		t.Errorf("vaultGraphSize = %d for a %d-byte body, want at least the body and at most 10%% more", est, len(body))
	}
}
