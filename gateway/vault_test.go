package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"openagent/gateway"
	"openagent/internal/config"
	"openagent/internal/store"
	"openagent/internal/vault"
	"openagent/internal/vault/vaultgen"
)

// vaultWait bounds every wait and WebSocket read in the vault tests.
const vaultWait = 5 * time.Second

type vaultGW struct {
	cfg   gateway.Config
	url   string
	dir   string // agent directory
	root  string // vault root
	vault *vault.Vault
	srv   *gateway.Server
}

// startVaultGW builds a gateway over a real vault (files written first) and
// serves it with httptest. With run, the vault's watcher runs too.
// How startVaultGW brings the vault up.
type vaultStart int

const (
	indexFirst  vaultStart = iota // Index, then serve
	runWatching                   // Run (index, then watch) and wait for Ready
	notIndexed                    // serve a vault nobody has indexed yet
)

func startVaultGW(t *testing.T, files map[string]string, start vaultStart) *vaultGW {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "memories")
	for p, c := range files {
		vaultWriteFile(t, filepath.Join(root, p), c)
	}
	settings, err := config.Open(filepath.Join(dir, config.FileName))
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), filepath.Join(dir, "openagent.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	v, err := vault.Open(context.Background(), config.Resolve(dir, settings.Config().Memory.VaultPath), db, vault.Options{Debounce: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	cfg := gateway.Config{Dir: dir, Settings: settings, DB: db, Vault: v}
	srv, err := gateway.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	v.SetOnChange(func(action, path string) { srv.Broadcast("vault", action, path) }) // as app wires it
	switch start {
	case runWatching:
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- v.Run(ctx) }()
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("vault Run = %v", err)
			}
		})
		select {
		case <-v.Ready():
		case <-time.After(vaultWait):
			t.Fatal("vault not ready")
		}
	case indexFirst:
		if err := v.Index(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &vaultGW{cfg: cfg, url: hs.URL, dir: dir, root: v.Root(), vault: v, srv: srv}
}

func vaultWriteFile(t testing.TB, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// call sends a request to rawPath (sent as written, not cleaned) and decodes
// a JSON answer into out when out is non-nil. It returns the status and body.
func (g *vaultGW) call(t testing.TB, method, rawPath string, body any, out any) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, g.url+rawPath, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s: Content-Type %q, want JSON", method, rawPath, ct)
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, rawPath, b, err)
		}
	}
	return resp.StatusCode, string(b)
}

type noteListBody struct {
	Notes []struct {
		Path     string   `json:"path"`
		Title    string   `json:"title"`
		Tags     []string `json:"tags"`
		Type     string   `json:"type"`
		Modified float64  `json:"modified"`
		Size     int64    `json:"size"`
	} `json:"notes"`
}

type noteBody struct {
	Path        string         `json:"path"`
	Content     string         `json:"content"`
	Frontmatter map[string]any `json:"frontmatter"`
	Body        string         `json:"body"`
	Title       string         `json:"title"`
	Tags        []string       `json:"tags"`
	Links       []string       `json:"links"`
	Backlinks   []string       `json:"backlinks"`
	Modified    float64        `json:"modified"`
}

type searchBody struct {
	Results []struct {
		Path    string   `json:"path"`
		Title   string   `json:"title"`
		Tags    []string `json:"tags"`
		Snippet string   `json:"snippet"`
		Score   float64  `json:"score"`
	} `json:"results"`
}

type graphBody struct {
	Nodes []struct {
		ID         string   `json:"id"`
		Label      string   `json:"label"`
		Tags       []string `json:"tags"`
		Type       string   `json:"type"`
		Degree     int      `json:"degree"`
		Unresolved bool     `json:"unresolved"`
	} `json:"nodes"`
	Edges []struct {
		Source string `json:"source"`
		Target string `json:"target"`
	} `json:"edges"`
}

func (g graphBody) hasEdge(src, dst string) bool {
	for _, e := range g.Edges {
		if e.Source == src && e.Target == dst {
			return true
		}
	}
	return false
}

func (s searchBody) paths() []string {
	out := []string{}
	for _, r := range s.Results {
		out = append(out, r.Path)
	}
	return out
}

func TestVaultREST(t *testing.T) {
	t.Parallel()
	g := startVaultGW(t, map[string]string{
		"test/glink/alpha.md": "---\ntags: solo\n---\nSee [[test/glink/beta#intro]] and [[Ghost]] and [[BETA|again]].\n",
		"test/glink/beta.md":  "# Intro\nbeta text #inline/nested\n",
	}, indexFirst)

	// List.
	var list noteListBody
	if code, body := g.call(t, "GET", "/api/vault/notes", nil, &list); code != 200 {
		t.Fatalf("list = %d %s", code, body)
	}
	if len(list.Notes) != 2 || list.Notes[0].Path != "test/glink/alpha.md" || !reflect.DeepEqual(list.Notes[0].Tags, []string{"solo"}) ||
		list.Notes[1].Title != "beta" || !reflect.DeepEqual(list.Notes[1].Tags, []string{"inline/nested"}) || list.Notes[0].Modified < 1e9 || list.Notes[0].Size == 0 {
		t.Errorf("list = %+v", list.Notes)
	}
	var sub noteListBody
	g.call(t, "GET", "/api/vault/notes?folder=nothing-here", nil, &sub)
	if sub.Notes == nil || len(sub.Notes) != 0 {
		t.Errorf("list of an empty folder = %+v, want []", sub.Notes)
	}

	// Graph: the path-style link with an anchor gives alpha→beta once.
	var graph graphBody
	if code, body := g.call(t, "GET", "/api/vault/graph", nil, &graph); code != 200 {
		t.Fatalf("graph = %d %s", code, body)
	}
	if len(graph.Edges) != 2 || !graph.hasEdge("test/glink/alpha.md", "test/glink/beta.md") || !graph.hasEdge("test/glink/alpha.md", "Ghost") {
		t.Errorf("graph edges = %+v", graph.Edges)
	}
	for _, n := range graph.Nodes {
		if n.Tags == nil {
			t.Errorf("node %q tags = null, want a list", n.ID)
		}
		if (n.ID == "Ghost") != n.Unresolved {
			t.Errorf("node %+v: unresolved is wrong", n)
		}
		if n.ID == "test/glink/beta.md" && n.Degree != 1 {
			t.Errorf("beta degree = %d, want 1", n.Degree)
		}
	}

	// Write: create, read back, search, update.
	marker := "openagent-rest-zq81"
	var wr struct {
		OK      bool   `json:"ok"`
		Path    string `json:"path"`
		Created bool   `json:"created"`
	}
	path := "test/openagent-rest-x.md"
	content := "---\ntitle: REST note\ntags: [a, b]\n---\nbody with " + marker + " links [[alpha]]\n"
	if code, body := g.call(t, "PUT", "/api/vault/notes/"+path, map[string]string{"content": content}, &wr); code != 200 || !wr.OK || !wr.Created || wr.Path != path {
		t.Fatalf("PUT = %d %s", code, body)
	}
	if b, _ := os.ReadFile(filepath.Join(g.root, "test", "openagent-rest-x.md")); string(b) != content {
		t.Errorf("file on disk = %q, want the content byte for byte", b)
	}
	var note noteBody
	if code, body := g.call(t, "GET", "/api/vault/notes/"+path, nil, &note); code != 200 {
		t.Fatalf("GET = %d %s", code, body)
	}
	if note.Content != content || note.Title != "REST note" || !reflect.DeepEqual(note.Tags, []string{"a", "b"}) || note.Frontmatter["title"] != "REST note" ||
		!strings.HasPrefix(note.Body, "body with") || !reflect.DeepEqual(note.Links, []string{"alpha"}) || note.Backlinks == nil {
		t.Errorf("GET note = %+v", note)
	}
	var alpha noteBody
	g.call(t, "GET", "/api/vault/notes/test/glink/alpha.md", nil, &alpha)
	if !reflect.DeepEqual(alpha.Backlinks, []string{path}) || !reflect.DeepEqual(alpha.Links, []string{"test/glink/beta#intro", "Ghost", "BETA"}) {
		t.Errorf("alpha backlinks %q links %q", alpha.Backlinks, alpha.Links)
	}
	var found searchBody
	if code, body := g.call(t, "GET", "/api/vault/search?q="+marker, nil, &found); code != 200 {
		t.Fatalf("search = %d %s", code, body)
	}
	if !reflect.DeepEqual(found.paths(), []string{path}) || !strings.Contains(found.Results[0].Snippet, "<mark>") || found.Results[0].Title != "REST note" {
		t.Errorf("search = %+v", found)
	}
	var tagged searchBody
	g.call(t, "GET", "/api/vault/search?tag=inline", nil, &tagged)
	if !reflect.DeepEqual(tagged.paths(), []string{"test/glink/beta.md"}) || tagged.Results[0].Tags == nil {
		t.Errorf("search by tag = %+v", tagged)
	}
	var solo searchBody
	g.call(t, "GET", "/api/vault/search?q=glink", nil, &solo)
	for _, r := range solo.Results {
		if r.Path == "test/glink/alpha.md" && !reflect.DeepEqual(r.Tags, []string{"solo"}) {
			t.Errorf("scalar tags in search = %q, want [solo]", r.Tags)
		}
	}
	var limited searchBody
	g.call(t, "GET", "/api/vault/search?q=glink&limit=1", nil, &limited)
	if len(limited.Results) != 1 {
		t.Errorf("limit=1 gave %d results", len(limited.Results))
	}
	var empty searchBody
	g.call(t, "GET", "/api/vault/search?q=", nil, &empty)
	if empty.Results == nil || len(empty.Results) != 0 {
		t.Errorf("empty search = %+v, want []", empty.Results)
	}
	if code, _ := g.call(t, "GET", "/api/vault/search?q=x&limit=zero", nil, nil); code != 400 {
		t.Errorf("bad limit = %d, want 400", code)
	}
	if code, body := g.call(t, "PUT", "/api/vault/notes/"+path, map[string]string{"content": "replaced"}, &wr); code != 200 || wr.Created {
		t.Errorf("PUT update = %d %s", code, body)
	}
	if code, body := g.call(t, "PUT", "/api/vault/notes/new/empty.md", map[string]any{}, &wr); code != 200 {
		t.Errorf("PUT without content = %d %s", code, body)
	} else if b, err := os.ReadFile(filepath.Join(g.root, "new", "empty.md")); err != nil || len(b) != 0 {
		t.Errorf("PUT without content wrote %q, %v", b, err)
	}

	// Refusals.
	for _, tc := range []struct {
		name, method, path string
		body               any
		want               int
	}{
		{"put non-md", "PUT", "/api/vault/notes/notes.txt", map[string]string{"content": "x"}, 400},
		{"put bad json", "PUT", "/api/vault/notes/a.md", "not an object", 400},
		{"get missing", "GET", "/api/vault/notes/nope.md", nil, 404},
		{"get missing folder", "GET", "/api/vault/notes/no/such/dir/x.md", nil, 404},
		{"get folder", "GET", "/api/vault/notes/test", nil, 400},
		{"delete missing", "DELETE", "/api/vault/notes/nope.md", nil, 404},
		{"empty path", "GET", "/api/vault/notes/", nil, 400},
	} {
		code, body := g.call(t, tc.method, tc.path, tc.body, nil)
		if code != tc.want {
			t.Errorf("%s: %s %s = %d %s, want %d", tc.name, tc.method, tc.path, code, body, tc.want)
		}
		if tc.want == 404 && strings.TrimSpace(body) != `{"error":"Not found"}` {
			t.Errorf("%s: body %s, want {\"error\":\"Not found\"}", tc.name, body)
		}
	}

	// Delete.
	var ok struct {
		OK bool `json:"ok"`
	}
	if code, body := g.call(t, "DELETE", "/api/vault/notes/"+path, nil, &ok); code != 200 || !ok.OK {
		t.Errorf("DELETE = %d %s", code, body)
	}
	if code, _ := g.call(t, "GET", "/api/vault/notes/"+path, nil, nil); code != 404 {
		t.Errorf("GET after DELETE = %d, want 404", code)
	}
	g.call(t, "GET", "/api/vault/search?q="+marker, nil, &found)
	if len(found.Results) != 0 {
		t.Errorf("search after DELETE = %+v", found.Results)
	}
}

func TestVaultPathSafety(t *testing.T) {
	t.Parallel()
	g := startVaultGW(t, map[string]string{"inside.md": "inside"}, indexFirst)
	// secret.md sits in the agent directory, one level above the vault.
	secret := "TOP-SECRET-CONTENT"
	vaultWriteFile(t, filepath.Join(g.dir, "secret.md"), secret)
	outside := t.TempDir()
	vaultWriteFile(t, filepath.Join(outside, "far.md"), secret)
	symlinks := true
	if err := os.Symlink(outside, filepath.Join(g.root, "escape")); err != nil {
		symlinks = false
		t.Log("no symlinks here:", err)
	} else if err := os.Symlink(filepath.Join(g.dir, "secret.md"), filepath.Join(g.root, "leak.md")); err != nil {
		t.Fatal(err)
	}

	attempts := []struct {
		name, path string
		symlink    bool
	}{
		{"dot-dot", "../secret.md", false},
		{"dot-dot nested", "a/../../secret.md", false},
		{"dot-dot inside", "a/../inside.md", false},
		{"encoded dot-dot", "%2e%2e/secret.md", false},
		{"encoded dot-dot upper", "%2E%2E/secret.md", false},
		{"encoded slash", "..%2fsecret.md", false},
		{"fully encoded", "%2e%2e%2fsecret.md", false},
		{"backslash", "..%5csecret.md", false},
		{"absolute", "/etc/passwd.md", false},
		{"absolute encoded", "%2fetc%2fpasswd.md", false},
		{"absolute to the agent dir", filepath.ToSlash(filepath.Join(g.dir, "secret.md")), false},
		{"windows drive", "C:%5cWindows%5cx.md", false},
		{"windows drive, forward slashes", "C:/Windows/x.md", false},
		{"nul byte", "a%00.md", false},
		{"hidden folder", ".obsidian/workspace.md", false},
		{"symlinked folder", "escape/far.md", true},
		{"symlinked folder, new file", "escape/new.md", true},
		{"symlinked file", "leak.md", true},
	}
	for _, a := range attempts {
		if a.symlink && !symlinks {
			continue
		}
		for _, method := range []string{"GET", "PUT", "DELETE"} {
			var body any
			if method == "PUT" {
				body = map[string]string{"content": "overwritten"}
			}
			code, resp := g.call(t, method, "/api/vault/notes/"+a.path, body, nil)
			if want := 400; code != want {
				t.Errorf("%s: %s %s = %d %s, want 400", a.name, method, a.path, code, resp)
			}
			if strings.Contains(resp, secret) {
				t.Errorf("%s: %s leaked the secret: %s", a.name, method, resp)
			}
			var e struct {
				Error string `json:"error"`
			}
			if code == 400 && (json.Unmarshal([]byte(resp), &e) != nil || e.Error == "") {
				t.Errorf("%s: 400 body %s has no error", a.name, resp)
			}
		}
	}
	for _, p := range []string{filepath.Join(g.dir, "secret.md"), filepath.Join(outside, "far.md")} {
		if b, err := os.ReadFile(p); err != nil || string(b) != secret {
			t.Errorf("%s changed: %q, %v", p, b, err)
		}
	}
	if _, err := os.Stat(filepath.Join(outside, "new.md")); err == nil {
		t.Error("a note was written outside the vault through a symlink")
	}
	// The graph and list never show what lies behind a symlink.
	var list noteListBody
	g.call(t, "GET", "/api/vault/notes", nil, &list)
	for _, n := range list.Notes {
		if strings.HasPrefix(n.Path, "escape/") || n.Path == "leak.md" {
			t.Errorf("list shows %q", n.Path)
		}
	}
}

func TestVaultUnavailable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	settings, err := config.Open(filepath.Join(dir, config.FileName))
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), filepath.Join(dir, "openagent.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	srv, err := gateway.New(gateway.Config{Dir: dir, Settings: settings, DB: db})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	g := &vaultGW{url: hs.URL}
	for _, r := range []struct{ method, path string }{
		{"GET", "/api/vault/notes"}, {"GET", "/api/vault/notes/a.md"}, {"PUT", "/api/vault/notes/a.md"},
		{"DELETE", "/api/vault/notes/a.md"}, {"GET", "/api/vault/search?q=x"}, {"GET", "/api/vault/graph"},
	} {
		code, body := g.call(t, r.method, r.path, nil, nil)
		if code != 503 || !strings.Contains(body, "vault is not available") {
			t.Errorf("%s %s without a vault = %d %s, want 503", r.method, r.path, code, body)
		}
	}
}

// vaultWS is a WebSocket client that reads resource_events with deadlines.
type vaultWS struct {
	t  *testing.T
	ws *websocket.Conn
}

func dialVaultWS(t *testing.T, httpURL string) *vaultWS {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(httpURL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	c := &vaultWS{t: t, ws: ws}
	ws.SetWriteDeadline(time.Now().Add(vaultWait))
	if err := ws.WriteJSON(map[string]string{"type": "auth"}); err != nil {
		t.Fatal(err)
	}
	if f := c.read(); f["type"] != "auth_ok" {
		t.Fatalf("first frame = %v, want auth_ok", f)
	}
	return c
}

func (c *vaultWS) read() map[string]any {
	c.t.Helper()
	c.ws.SetReadDeadline(time.Now().Add(vaultWait))
	var f map[string]any
	if err := c.ws.ReadJSON(&f); err != nil {
		c.t.Fatalf("read frame: %v", err)
	}
	return f
}

// waitEvent reads until a vault resource_event with action and id arrives.
func (c *vaultWS) waitEvent(action, id string) {
	c.t.Helper()
	deadline := time.Now().Add(vaultWait)
	for time.Now().Before(deadline) {
		f := c.read()
		if f["type"] == "resource_event" && f["resource"] == "vault" && f["action"] == action && f["id"] == id {
			return
		}
	}
	c.t.Fatalf("no resource_event vault/%s/%s", action, id)
}

// TestVaultLiveSync edits, renames and deletes notes on disk, as Obsidian
// would, and sees search, the graph and resource_events follow.
func TestVaultLiveSync(t *testing.T) {
	t.Parallel()
	g := startVaultGW(t, map[string]string{"hub.md": "see [[topic]] and [[renamed]]"}, runWatching)
	c := dialVaultWS(t, g.url)
	poll := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(vaultWait)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	search := func(q string) []string {
		var s searchBody
		g.call(t, "GET", "/api/vault/search?q="+q, nil, &s)
		return s.paths()
	}
	graph := func() graphBody {
		var gb graphBody
		g.call(t, "GET", "/api/vault/graph", nil, &gb)
		return gb
	}

	// Outside create.
	vaultWriteFile(t, filepath.Join(g.root, "notes", "topic.md"), "flamingos")
	c.waitEvent("created", "notes/topic.md")
	poll("search finds the new note", func() bool { return reflect.DeepEqual(search("flamingos"), []string{"notes/topic.md"}) })
	poll("graph links to it", func() bool { return graph().hasEdge("hub.md", "notes/topic.md") })

	// Outside edit.
	vaultWriteFile(t, filepath.Join(g.root, "notes", "topic.md"), "albatrosses")
	c.waitEvent("updated", "notes/topic.md")
	poll("search follows the edit", func() bool {
		return len(search("flamingos")) == 0 && reflect.DeepEqual(search("albatrosses"), []string{"notes/topic.md"})
	})

	// Outside rename.
	if err := os.Rename(filepath.Join(g.root, "notes", "topic.md"), filepath.Join(g.root, "notes", "renamed.md")); err != nil {
		t.Fatal(err)
	}
	c.waitEvent("deleted", "notes/topic.md")
	poll("search follows the rename", func() bool { return reflect.DeepEqual(search("albatrosses"), []string{"notes/renamed.md"}) })
	poll("graph follows the rename", func() bool {
		gb := graph()
		return gb.hasEdge("hub.md", "notes/renamed.md") && gb.hasEdge("hub.md", "topic")
	})

	// Outside delete.
	if err := os.Remove(filepath.Join(g.root, "notes", "renamed.md")); err != nil {
		t.Fatal(err)
	}
	c.waitEvent("deleted", "notes/renamed.md")
	poll("search follows the delete", func() bool { return len(search("albatrosses")) == 0 })
	poll("graph follows the delete", func() bool { return graph().hasEdge("hub.md", "renamed") })

	// A REST write is announced too.
	g.call(t, "PUT", "/api/vault/notes/rest.md", map[string]string{"content": "x"}, nil)
	c.waitEvent("created", "rest.md")
	g.call(t, "DELETE", "/api/vault/notes/rest.md", nil, nil)
	c.waitEvent("deleted", "rest.md")
}

// TestVaultReadsWaitForFirstIndex: right after start the vault is still
// being indexed. Reads wait for that rather than answer an empty or partial
// vault, and when the wait runs out, 503 says how far the index has got.
func TestVaultReadsWaitForFirstIndex(t *testing.T) {
	t.Parallel()
	const n = 2000
	files := map[string]string{}
	for i := range n {
		files[fmt.Sprintf("n/%04d.md", i)] = fmt.Sprintf("note %d links to [[%04d]], word%d", i, (i+1)%n, i)
	}
	g := startVaultGW(t, files, notIndexed)

	// A server that waits 200 ms, while nobody indexes.
	short := g.cfg
	short.VaultIndexWait = 200 * time.Millisecond
	srv, err := gateway.New(short)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	resp, err := http.Get(hs.URL + "/api/vault/search?q=word1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `{"error":"vault is still indexing (0 of 0 notes read); try again shortly"}`
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.HasPrefix(string(b), want[:len(want)-1]) || resp.Header.Get("Retry-After") != "2" {
		t.Fatalf("search before any index = %d %s (Retry-After %q), want 503 %s and Retry-After 2", resp.StatusCode, b, resp.Header.Get("Retry-After"), want)
	}

	// The index starts; reads sent at once wait for it and see every note.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.vault.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("vault Run = %v", err)
		}
	}()
	type result struct {
		what string
		got  int
	}
	results := make(chan result, 3)
	go func() {
		var list noteListBody
		code, body := g.call(t, "GET", "/api/vault/notes", nil, &list)
		if code != 200 {
			t.Errorf("list = %d %s", code, body)
		}
		results <- result{"notes listed", len(list.Notes)}
	}()
	go func() {
		var graph struct {
			Nodes []json.RawMessage `json:"nodes"`
			Edges []json.RawMessage `json:"edges"`
		}
		code, body := g.call(t, "GET", "/api/vault/graph", nil, &graph)
		if code != 200 {
			t.Errorf("graph = %d %s", code, body)
		}
		results <- result{"graph nodes + edges", len(graph.Nodes) + len(graph.Edges)}
	}()
	go func() {
		var found struct {
			Results []struct{ Path string } `json:"results"`
		}
		code, body := g.call(t, "GET", fmt.Sprintf("/api/vault/search?q=word%d", n-1), nil, &found)
		if code != 200 {
			t.Errorf("search = %d %s", code, body)
		}
		results <- result{"search hits for the last note", len(found.Results)}
	}()
	wants := map[string]int{"notes listed": n, "graph nodes + edges": 2 * n, "search hits for the last note": 1}
	for range 3 {
		select {
		case r := <-results:
			if r.got != wants[r.what] {
				t.Errorf("%s = %d, want %d", r.what, r.got, wants[r.what])
			}
		case <-time.After(30 * time.Second):
			t.Fatal("reads did not return")
		}
	}
	if d, total := g.vault.IndexProgress(); d != n || total != n {
		t.Errorf("IndexProgress = %d of %d, want %d of %d", d, total, n, n)
	}
}

// BenchmarkVaultGraphREST times GET /api/vault/graph on a generated
// 10,000-note vault (target < 150 ms): "cached" reuses the resolved links,
// "after_change" follows a note write, so the links are resolved again.
// Run with the vault benchmarks: see internal/vault/bench_test.go.
func BenchmarkVaultGraphREST(b *testing.B) {
	dir := b.TempDir()
	if _, err := vaultgen.Generate(filepath.Join(dir, "memories"), vaultgen.Options{Notes: 10000}); err != nil {
		b.Fatal(err)
	}
	settings, err := config.Open(filepath.Join(dir, config.FileName))
	if err != nil {
		b.Fatal(err)
	}
	db, err := store.Open(context.Background(), filepath.Join(dir, "openagent.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	v, err := vault.Open(context.Background(), filepath.Join(dir, "memories"), db, vault.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	if err := v.Index(context.Background()); err != nil {
		b.Fatal(err)
	}
	srv, err := gateway.New(gateway.Config{Dir: dir, Settings: settings, DB: db, Vault: v})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	get := func() int {
		resp, err := http.Get(hs.URL + "/api/vault/graph")
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("graph = %d", resp.StatusCode)
		}
		return int(n)
	}
	size := get()
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			get()
		}
		b.ReportMetric(float64(size)/(1<<20), "body_MB")
	})
	b.Run("after_change", func(b *testing.B) {
		i := 0
		for b.Loop() {
			b.StopTimer()
			i++
			if _, err := v.Write(context.Background(), "bench/change.md", fmt.Sprintf("edit %d [[elsewhere]]", i)); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			get()
		}
	})
}
