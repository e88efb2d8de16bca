package vault

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// TestLinksIncremental applies random creates, edits, alias changes and
// deletes to a note set and checks after each one that the incrementally
// kept graph and backlinks equal those of a note set built from scratch.
// Names are drawn from a small pool so that links keep gaining and losing
// targets, shortest-path and same-folder choices flip, and case variants,
// relative links and aliases collide.
func TestLinksIncremental(t *testing.T) {
	t.Parallel()
	folders := []string{"", "a/", "a/b/", "c/", "A/"}
	stems := []string{"x", "y", "X", "note", "two", "al1"}
	targets := []string{"x", "y", "X", "note", "Note.md", "two", "a/x", "b/x", "a/b/y", "/c/note", "./x", "../y", "../../x",
		"..", "missing", "Missing", "al1", "AL1", "al/two", "x#h", "y^b", "img.png", "c/al1"}
	aliasPool := []string{"al1", "AL1", "al/two", "x", "Missing", "note"}
	r := rand.New(rand.NewPCG(1, 2))
	pick := func(pool []string, n int) []string {
		var out []string
		for range n {
			out = append(out, pool[r.IntN(len(pool))])
		}
		return out
	}
	n := newNames()
	for step := range 3000 {
		p := folders[r.IntN(len(folders))] + stems[r.IntN(len(stems))] + ".md"
		old := n.byPath[p]
		e := linked(p, pick(aliasPool, r.IntN(3)), pick(targets, r.IntN(6))...)
		e.title = pick(stems, 1)[0]
		switch {
		case old == nil:
			n.add(e)
		case r.IntN(3) == 0:
			n.remove(old)
		default:
			if r.IntN(2) == 0 {
				e.aliases = old.aliases // an edit that keeps the aliases
			}
			n.replace(old, e)
		}
		if step%3 == 0 && r.IntN(2) == 0 {
			continue // let changes pile up between refreshes too
		}
		n.refresh(true)
		scratch := newNames()
		for _, e := range n.byPath {
			scratch.add(e)
		}
		scratch.refresh(true)
		got, want := &n.links, &scratch.links
		if !reflect.DeepEqual(got.nodes, want.nodes) {
			t.Fatalf("step %d (%s): nodes differ\n got %v\nwant %v", step, p, got.nodes, want.nodes)
		}
		if !slices.Equal(got.edges, want.edges) {
			t.Fatalf("step %d (%s): edges differ\n got %v\nwant %v", step, p, got.edges, want.edges)
		}
		for _, node := range want.nodes {
			g, w := slices.Sorted(slices.Values(got.in[node.ID])), slices.Sorted(slices.Values(want.in[node.ID]))
			if !slices.Equal(g, w) {
				t.Fatalf("step %d (%s): backlinks of %s = %v, want %v", step, p, node.ID, g, w)
			}
		}
	}
	if len(n.byPath) < 10 || len(n.links.edges) < 10 || len(n.links.unresolved) == 0 {
		t.Fatalf("the random set ended too small to mean much: %d notes, %d edges, %d unresolved",
			len(n.byPath), len(n.links.edges), len(n.links.unresolved))
	}
}
