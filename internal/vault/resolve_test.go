package vault

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// namesOf builds a lookup over notes given as "path" or "path|alias1,alias2".
func namesOf(specs ...string) names {
	n := newNames()
	for _, s := range specs {
		p, al, _ := strings.Cut(s, "|")
		e := newEntry(p, nil)
		e.tags = []string{}
		if al != "" {
			e.aliases = strings.Split(al, ",")
		}
		n.add(e)
	}
	return n
}

func TestResolve(t *testing.T) {
	t.Parallel()
	n := namesOf(
		"Alpha.md",
		"projects/Alpha.md",
		"projects/deep/Beta.md",
		"archive/Beta.md",
		"z/long/path/Gamma.md",
		"a/Gamma.md",
		"people/Ada Lovelace.md|Ada,The Countess",
		"people/Zed.md|ambiguous",
		"Other.md|ambiguous",
		"sub/Delta.md",
		"sub/inner/Eps.md",
		"x/Note.md",
		"y/Note.md",
		"CaseTest.md",
	)
	tests := []struct {
		name, target, source, want string // want "" = unresolved
	}{
		{"exact basename at root", "Alpha", "z.md", "Alpha.md"},
		{"path first", "projects/Alpha", "z.md", "projects/Alpha.md"},
		{"path with .md", "projects/Alpha.md", "z.md", "projects/Alpha.md"},
		{"leading slash", "/projects/Alpha", "z.md", "projects/Alpha.md"},
		{"case-insensitive path", "PROJECTS/alpha", "z.md", "projects/Alpha.md"},
		{"case-insensitive name", "casetest", "z.md", "CaseTest.md"},
		{"shortest path wins", "Gamma", "q.md", "a/Gamma.md"},
		{"shortest path among Beta", "beta", "q.md", "archive/Beta.md"},
		{"same folder beats shortest", "Beta", "projects/deep/other.md", "projects/deep/Beta.md"},
		{"vault path beats same folder", "Alpha", "projects/p.md", "Alpha.md"},
		{"equal length: alphabetical", "Note", "q.md", "x/Note.md"},
		{"partial path suffix", "deep/Beta", "q.md", "projects/deep/Beta.md"},
		{"partial path must match segments", "eep/Beta", "q.md", ""},
		{"relative to source folder", "inner/Eps", "sub/Delta.md", "sub/inner/Eps.md"},
		{"dot relative", "./inner/Eps.md", "sub/Delta.md", "sub/inner/Eps.md"},
		{"dot-dot relative", "../Alpha", "projects/deep/Beta.md", "projects/Alpha.md"},
		{"dot-dot out of the vault", "../../Alpha", "sub/x.md", ""},
		{"alias", "Ada", "q.md", "people/Ada Lovelace.md"},
		{"alias case and spaces", "the countess", "q.md", "people/Ada Lovelace.md"},
		{"name with space", "ada lovelace", "q.md", "people/Ada Lovelace.md"},
		{"shared alias: shortest path", "ambiguous", "q.md", "Other.md"},
		{"name beats alias", "Zed", "q.md", "people/Zed.md"},
		{"unresolved", "Nowhere", "q.md", ""},
		{"empty", "  ", "q.md", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if e := n.resolve(tt.target, tt.source); e != nil {
				got = e.path
			}
			if got != tt.want {
				t.Errorf("resolve(%q from %q) = %q, want %q", tt.target, tt.source, got, tt.want)
			}
		})
	}
}

// linked is an entry at p with wikilinks to targets (which may carry
// #heading or ^block).
func linked(p string, aliases []string, targets ...string) *entry {
	var ls []Link
	for _, t := range targets {
		tg, sub := splitSubpath(t)
		ls = append(ls, Link{Raw: t, Target: tg, Subpath: sub, Kind: Wikilink})
	}
	e := newEntry(p, ls)
	e.title, e.tags, e.aliases = stemOf(p), []string{}, aliases
	return e
}

func TestBuildGraph(t *testing.T) {
	t.Parallel()
	n := newNames()
	n.add(linked("a.md", nil, "b", "B#Heading", "b^blk", "dir/c", "Missing Note", "missing note", "a", "pic.png"))
	n.add(linked("b.md", nil))
	n.add(linked("dir/c.md", nil, "a", "Missing Note#x", "zeta/Other.md"))
	n.refresh(true)
	l := &n.links
	want := []Edge{{"a.md", "b.md"}, {"a.md", "dir/c.md"}, {"a.md", "Missing Note"}, {"dir/c.md", "a.md"}, {"dir/c.md", "Missing Note"}, {"dir/c.md", "zeta/Other"}}
	if !slices.Equal(l.edges, want) {
		t.Errorf("edges = %v, want %v", l.edges, want)
	}
	wantNodes := []Node{
		{ID: "Missing Note", Label: "Missing Note", Tags: []string{}, Degree: 2, Unresolved: true},
		{ID: "a.md", Label: "a", Tags: []string{}, Degree: 4},
		{ID: "b.md", Label: "b", Tags: []string{}, Degree: 1},
		{ID: "dir/c.md", Label: "c", Tags: []string{}, Degree: 4},
		{ID: "zeta/Other", Label: "Other", Tags: []string{}, Degree: 1, Unresolved: true},
	}
	if !reflect.DeepEqual(l.nodes, wantNodes) {
		t.Errorf("nodes =\n%v\nwant\n%v", l.nodes, wantNodes)
	}
	if got := l.in["a.md"]; len(got) != 1 || got[0] != "dir/c.md" {
		t.Errorf("backlinks of a.md = %v, want [dir/c.md]", got)
	}

	// Creating the missing note turns the unresolved node into edges to it.
	n.add(linked("notes/missing note.md", nil))
	n.refresh(true)
	want = []Edge{{"a.md", "b.md"}, {"a.md", "dir/c.md"}, {"a.md", "notes/missing note.md"}, {"dir/c.md", "a.md"}, {"dir/c.md", "notes/missing note.md"}, {"dir/c.md", "zeta/Other"}}
	if !slices.Equal(l.edges, want) {
		t.Errorf("after create: edges = %v, want %v", l.edges, want)
	}
}
