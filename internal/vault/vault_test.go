package vault

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"openagent/internal/store"
)

// waitFor bounds every poll in these tests.
const waitFor = 5 * time.Second

type change struct{ action, path string }

// recorder collects OnChange calls.
type recorder struct {
	mu  sync.Mutex
	got []change
}

func (r *recorder) add(action, path string) {
	r.mu.Lock()
	r.got = append(r.got, change{action, path})
	r.mu.Unlock()
}

func (r *recorder) has(c change) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, g := range r.got {
		if g == c {
			return true
		}
	}
	return false
}

func openDB(t testing.TB, dir string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(dir, "openagent.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// newVault opens and indexes a vault in a temp dir with files written first.
func newVault(t *testing.T, files map[string]string) (*Vault, *recorder) {
	t.Helper()
	v, rec := openVault(t, files)
	if err := v.Index(context.Background()); err != nil {
		t.Fatal(err)
	}
	return v, rec
}

// openVault is newVault without the index.
func openVault(t *testing.T, files map[string]string) (*Vault, *recorder) {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "memories")
	for p, c := range files {
		writeFile(t, filepath.Join(root, p), c)
	}
	rec := &recorder{}
	v, err := Open(context.Background(), root, openDB(t, dir), Options{OnChange: rec.add, Debounce: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v, rec
}

func writeFile(t testing.TB, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func paths(rs []Result) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.Path)
	}
	return out
}

func TestVaultReadWriteIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	v, rec := newVault(t, map[string]string{
		"Alpha.md":            "---\ntitle: The Alpha\ntags: solo\naliases: [Primus]\ntype: idea\n---\nAlpha talks about zebras. See [[Beta]] and [[Missing]].\n",
		"notes/Beta.md":       "Beta mentions [[Alpha#Intro]] and [[Primus]] #project/x\n",
		"notes/deep/Gamma.md": "gamma body with `[[Alpha]]` only in code #project\n",
		".obsidian/skip.md":   "hidden [[Alpha]]",
		"attachment.txt":      "not a note",
	})

	list, err := v.List("")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range list {
		got = append(got, s.Path)
	}
	if want := []string{"Alpha.md", "notes/Beta.md", "notes/deep/Gamma.md"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("List = %q, want %q", got, want)
	}
	if list[0].Title != "The Alpha" || !reflect.DeepEqual(list[0].Tags, []string{"solo"}) || list[0].Type != "idea" {
		t.Errorf("List[0] = %+v", list[0])
	}
	if sub, _ := v.List("notes/deep"); len(sub) != 1 || sub[0].Path != "notes/deep/Gamma.md" {
		t.Errorf("List(notes/deep) = %+v", sub)
	}

	n, err := v.Read(ctx, "Alpha.md")
	if err != nil {
		t.Fatal(err)
	}
	if n.Body != "Alpha talks about zebras. See [[Beta]] and [[Missing]]." || n.Frontmatter["title"] != "The Alpha" {
		t.Errorf("Read body %q frontmatter %v", n.Body, n.Frontmatter)
	}
	if !reflect.DeepEqual(n.Backlinks, []string{"notes/Beta.md"}) {
		t.Errorf("Backlinks(Alpha) = %q, want [notes/Beta.md] (Gamma links only in code)", n.Backlinks)
	}

	rs, err := v.Search(ctx, Query{Text: "zebras"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Path != "Alpha.md" || !strings.Contains(rs[0].Snippet, "<mark>zebras</mark>") || rs[0].Title != "The Alpha" || rs[0].Score <= 0 {
		t.Errorf("Search(zebras) = %+v", rs)
	}
	if rs, _ := v.Search(ctx, Query{Text: "primus"}); !reflect.DeepEqual(paths(rs), []string{"Alpha.md", "notes/Beta.md"}) {
		t.Errorf("Search(primus) by alias = %q", paths(rs))
	}
	if rs, _ := v.Search(ctx, Query{Text: "gamm*"}); !reflect.DeepEqual(paths(rs), []string{"notes/deep/Gamma.md"}) {
		t.Errorf("Search(gamm*) prefix = %q", paths(rs))
	}
	if rs, _ := v.Search(ctx, Query{Text: "gamm"}); len(rs) != 0 {
		t.Errorf("Search(gamm) = %q, want no implied prefix", paths(rs))
	}
	if rs, _ := v.Search(ctx, Query{Text: "mentions OR", Tag: "project"}); len(rs) != 0 {
		t.Errorf("Search(mentions OR) treated OR as an operator: %q", paths(rs))
	}
	if rs, _ := v.Search(ctx, Query{Tag: "#project"}); !reflect.DeepEqual(paths(rs), []string{"notes/Beta.md", "notes/deep/Gamma.md"}) {
		t.Errorf("Search(tag project) = %q, want nested tag included", paths(rs))
	}
	if rs, _ := v.Search(ctx, Query{Text: "body", Tag: "project/x"}); len(rs) != 0 {
		t.Errorf("Search(body, project/x) = %q, want none", paths(rs))
	}
	if rs, _ := v.Search(ctx, Query{Text: "mentions", Tag: "project"}); !reflect.DeepEqual(paths(rs), []string{"notes/Beta.md"}) {
		t.Errorf("Search(mentions, tag project) = %q", paths(rs))
	}

	g := v.Graph()
	if want := []Edge{{"Alpha.md", "notes/Beta.md"}, {"Alpha.md", "Missing"}, {"notes/Beta.md", "Alpha.md"}}; !reflect.DeepEqual(g.Edges, want) {
		t.Errorf("Graph edges = %v, want %v (Beta's two links to Alpha are one edge)", g.Edges, want)
	}
	var missing *Node
	for i := range g.Nodes {
		if g.Nodes[i].ID == "Missing" {
			missing = &g.Nodes[i]
		}
	}
	if len(g.Nodes) != 4 || missing == nil || !missing.Unresolved || missing.Degree != 1 {
		t.Errorf("Graph nodes = %+v", g.Nodes)
	}

	// Write creates the missing note: the unresolved node becomes a note.
	created, err := v.Write(ctx, "Missing.md", "now here, with pelicans\r\n")
	if err != nil || !created {
		t.Fatalf("Write = %v, %v", created, err)
	}
	if b, _ := os.ReadFile(filepath.Join(v.Root(), "Missing.md")); string(b) != "now here, with pelicans\r\n" {
		t.Errorf("file = %q, want the bytes written", b)
	}
	if rs, _ := v.Search(ctx, Query{Text: "pelicans"}); !reflect.DeepEqual(paths(rs), []string{"Missing.md"}) {
		t.Errorf("Search after Write = %q", paths(rs))
	}
	for _, nd := range v.Graph().Nodes {
		if nd.Unresolved {
			t.Errorf("node %q still unresolved", nd.ID)
		}
	}
	if bl, _ := v.Backlinks("Missing.md"); !reflect.DeepEqual(bl, []string{"Alpha.md"}) {
		t.Errorf("Backlinks(Missing) = %q", bl)
	}
	if created, err := v.Append(ctx, "Missing.md", "and a tail"); err != nil || created {
		t.Fatalf("Append = %v, %v", created, err)
	}
	if b, _ := os.ReadFile(filepath.Join(v.Root(), "Missing.md")); string(b) != "now here, with pelicans\r\nand a tail" {
		t.Errorf("after Append file = %q", b)
	}
	if created, err := v.Append(ctx, "new/fresh.md", "first line"); err != nil || !created {
		t.Fatalf("Append new = %v, %v", created, err)
	}
	if err := v.Delete(ctx, "Missing.md"); err != nil {
		t.Fatal(err)
	}
	if rs, _ := v.Search(ctx, Query{Text: "pelicans"}); len(rs) != 0 {
		t.Errorf("Search after Delete = %q", paths(rs))
	}
	if err := v.Delete(ctx, "Missing.md"); !errors.Is(err, ErrNotFound) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Delete again = %v, want ErrNotFound", err)
	}
	if _, err := v.Read(ctx, "nope.md"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Read missing = %v", err)
	}
	for _, want := range []change{{Created, "Missing.md"}, {Updated, "Missing.md"}, {Created, "new/fresh.md"}, {Deleted, "Missing.md"}} {
		if !rec.has(want) {
			t.Errorf("OnChange did not get %v; got %v", want, rec.got)
		}
	}
	if _, err := v.Write(ctx, "x.txt", "no"); !errors.Is(err, ErrNotNote) {
		t.Errorf("Write x.txt = %v, want ErrNotNote", err)
	}
	if _, err := v.Write(ctx, "../x.md", "no"); !errors.Is(err, ErrInvalidPath) {
		t.Errorf("Write ../x.md = %v, want ErrInvalidPath", err)
	}
	if entries, _ := os.ReadDir(v.Root()); len(entries) == 0 {
		t.Error("vault is empty")
	} else {
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".tmp") {
				t.Errorf("temporary file left behind: %s", e.Name())
			}
		}
	}
}

func TestVaultSymlinks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "secret.md"), "secret words")
	v, _ := newVault(t, map[string]string{"in.md": "inside words"})
	if err := os.Symlink(outside, filepath.Join(v.Root(), "out")); err != nil {
		t.Skip("symlinks not supported:", err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret.md"), filepath.Join(v.Root(), "link.md")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("in.md", filepath.Join(v.Root(), "alias.md")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"out/secret.md", "link.md", "out/new.md"} {
		if _, err := v.Read(ctx, p); !errors.Is(err, ErrInvalidPath) {
			t.Errorf("Read(%q) = %v, want ErrInvalidPath", p, err)
		}
		if _, err := v.Write(ctx, p, "x"); !errors.Is(err, ErrInvalidPath) {
			t.Errorf("Write(%q) = %v, want ErrInvalidPath", p, err)
		}
		if err := v.Delete(ctx, p); !errors.Is(err, ErrInvalidPath) {
			t.Errorf("Delete(%q) = %v, want ErrInvalidPath", p, err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "secret.md")); string(b) != "secret words" {
		t.Errorf("outside file changed: %q", b)
	}
	// A symlink inside the vault to a note inside it reads through.
	if n, err := v.Read(ctx, "alias.md"); err != nil || n.Content != "inside words" {
		t.Errorf("Read(alias.md) = %v, %v", n, err)
	}
	if err := v.Index(ctx); err != nil {
		t.Fatal(err)
	}
	if rs, _ := v.Search(ctx, Query{Text: "secret"}); len(rs) != 0 {
		t.Errorf("index followed a symlink out: %q", paths(rs))
	}
}

func TestVaultWarmIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	root := filepath.Join(dir, "v")
	writeFile(t, filepath.Join(root, "a.md"), "apples")
	writeFile(t, filepath.Join(root, "b.md"), "bananas")
	db := openDB(t, dir)
	v1, err := Open(ctx, root, db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := v1.Index(ctx); err != nil {
		t.Fatal(err)
	}
	v1.Close()

	// Outside the app: one note changes, one vanishes, one appears.
	writeFile(t, filepath.Join(root, "a.md"), "apricots, longer")
	os.Remove(filepath.Join(root, "b.md"))
	writeFile(t, filepath.Join(root, "c.md"), "cherries")
	v2, err := Open(ctx, root, db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer v2.Close()
	if err := v2.Index(ctx); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string][]string{"apples": {}, "apricots": {"a.md"}, "bananas": {}, "cherries": {"c.md"}} {
		rs, err := v2.Search(ctx, Query{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		if got := paths(rs); !reflect.DeepEqual(got, want) {
			t.Errorf("Search(%q) after restart = %q, want %q", q, got, want)
		}
	}
	var rows int
	db.QueryRow(`SELECT count(*) FROM vault_notes`).Scan(&rows)
	if rows != 2 {
		t.Errorf("vault_notes rows = %d, want 2", rows)
	}
}

// TestVaultWatch edits, renames and deletes files behind the vault's back.
func TestVaultWatch(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v, rec := openVault(t, map[string]string{"hub.md": "links to [[topic]] and [[later]]"})
	done := make(chan error, 1)
	go func() { done <- v.Run(ctx) }()
	select {
	case <-v.Ready():
	case <-time.After(waitFor):
		t.Fatal("vault never became ready")
	}
	root := v.Root()
	poll := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(waitFor)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; changes so far %v", what, rec.got)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	search := func(q string) []string {
		rs, err := v.Search(ctx, Query{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		return paths(rs)
	}
	edge := func(src, dst string) bool {
		for _, e := range v.Graph().Edges {
			if e.Source == src && e.Target == dst {
				return true
			}
		}
		return false
	}

	// Create, in a new folder.
	writeFile(t, filepath.Join(root, "sub", "topic.md"), "walruses")
	poll("created note searchable", func() bool { return reflect.DeepEqual(search("walruses"), []string{"sub/topic.md"}) })
	poll("edge to created note", func() bool { return edge("hub.md", "sub/topic.md") })
	poll("created event", func() bool { return rec.has(change{Created, "sub/topic.md"}) })

	// A burst of edits costs one re-index.
	before := v.reindexed.Load()
	for i := range 20 {
		writeFile(t, filepath.Join(root, "sub", "topic.md"), "narwhals "+strings.Repeat("x", i))
	}
	poll("edit searchable", func() bool { return reflect.DeepEqual(search("narwhals"), []string{"sub/topic.md"}) })
	poll("updated event", func() bool { return rec.has(change{Updated, "sub/topic.md"}) })
	time.Sleep(3 * v.debounce) // let any stray timer fire before counting
	if n := v.reindexed.Load() - before; n != 1 {
		t.Errorf("a burst of 20 writes cost %d re-indexes, want 1", n)
	}

	// Rename.
	if err := os.Rename(filepath.Join(root, "sub", "topic.md"), filepath.Join(root, "sub", "later.md")); err != nil {
		t.Fatal(err)
	}
	poll("rename followed", func() bool { return reflect.DeepEqual(search("narwhals"), []string{"sub/later.md"}) })
	poll("graph follows rename", func() bool { return edge("hub.md", "sub/later.md") && edge("hub.md", "topic") })
	poll("rename events", func() bool {
		return rec.has(change{Deleted, "sub/topic.md"}) && rec.has(change{Created, "sub/later.md"})
	})

	// Folder rename and delete.
	if err := os.Rename(filepath.Join(root, "sub"), filepath.Join(root, "moved")); err != nil {
		t.Fatal(err)
	}
	poll("folder move followed", func() bool { return reflect.DeepEqual(search("narwhals"), []string{"moved/later.md"}) })
	writeFile(t, filepath.Join(root, "moved", "extra.md"), "otters")
	poll("moved folder is watched", func() bool { return reflect.DeepEqual(search("otters"), []string{"moved/extra.md"}) })
	if err := os.RemoveAll(filepath.Join(root, "moved")); err != nil {
		t.Fatal(err)
	}
	poll("folder delete followed", func() bool { return len(search("narwhals")) == 0 && len(search("otters")) == 0 })
	poll("delete event", func() bool { return rec.has(change{Deleted, "moved/later.md"}) })
	poll("graph follows delete", func() bool { return edge("hub.md", "later") })

	// Our own writes are not reported twice.
	rec.mu.Lock()
	rec.got = nil
	rec.mu.Unlock()
	if _, err := v.Write(ctx, "own.md", "mine"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * v.debounce)
	rec.mu.Lock()
	got := append([]change{}, rec.got...)
	rec.mu.Unlock()
	if !reflect.DeepEqual(got, []change{{Created, "own.md"}}) {
		t.Errorf("changes after own write = %v, want one created", got)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(waitFor):
		t.Fatal("Run did not return after cancel")
	}
}

// TestVaultWaitReady: WaitReady waits for the first index, reports progress,
// and does not hang on a vault closed before it was indexed.
func TestVaultWaitReady(t *testing.T) {
	t.Parallel()
	v, _ := openVault(t, map[string]string{"a.md": "a", "b/c.md": "c", "d.md": "[[a]]"})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := v.WaitReady(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitReady before any index = %v, want the deadline", err)
	}
	if done, total := v.IndexProgress(); done != 0 || total != 0 {
		t.Errorf("IndexProgress before the walk = %d of %d, want 0 of 0", done, total)
	}
	if err := v.Index(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := v.WaitReady(context.Background()); err != nil {
		t.Fatalf("WaitReady after Index = %v", err)
	}
	if done, total := v.IndexProgress(); done != 3 || total != 3 {
		t.Errorf("IndexProgress = %d of %d, want 3 of 3", done, total)
	}

	early, _ := openVault(t, map[string]string{"a.md": "a"})
	early.Close()
	if err := early.WaitReady(context.Background()); !errors.Is(err, errClosedEarly) {
		t.Errorf("WaitReady on a vault closed unindexed = %v, want %v", err, errClosedEarly)
	}
}
