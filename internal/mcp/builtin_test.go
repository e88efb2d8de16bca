package mcp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"openagent/internal/mcp"
	"openagent/internal/schedule"
	"openagent/internal/store"
	"openagent/internal/vault"
)

func call(t *testing.T, p *mcp.Pool, name, args string) (string, error) {
	t.Helper()
	return p.Call(context.Background(), name, json.RawMessage(args))
}

func TestFilesBuiltin(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p, _ := testPool(t, mcp.Files(dir))
	waitRow(t, p, "files", 5*time.Second, "files", connected)
	os.MkdirAll(filepath.Join(dir, "uploads", "2026-05"), 0o755)
	os.WriteFile(filepath.Join(dir, "uploads", "2026-05", "report.txt"), []byte("quarterly numbers"), 0o644)
	os.WriteFile(filepath.Join(dir, "openagent.yaml"), []byte("providers: {openai: {api_key: sk-secret}}"), 0o600)
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("outside"), 0o644)
	symlinks := os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(dir, "uploads", "link.txt")) == nil

	if got, err := call(t, p, "files__read", `{"path":"uploads/2026-05/report.txt"}`); err != nil || got != "quarterly numbers" {
		t.Fatalf("read upload = %q, %v", got, err)
	}
	if got, err := call(t, p, "files__read", `{"path":`+jsonQuote(filepath.Join(dir, "uploads/2026-05/report.txt"))+`}`); err != nil || got != "quarterly numbers" {
		t.Fatalf("read by absolute path = %q, %v", got, err)
	}
	for _, tc := range []struct{ name, args, want string }{
		{"secret config", `{"path":"openagent.yaml"}`, "holds secrets"},
		{"database", `{"path":"openagent.db"}`, "holds secrets"},
		{"outside absolute", `{"path":` + jsonQuote(filepath.Join(outside, "secret.txt")) + `}`, "outside"},
		{"symlink out", `{"path":"uploads/link.txt"}`, "symbolic link"},
	} {
		if tc.name == "symlink out" && !symlinks {
			continue // no symlinks without privileges on Windows
		}
		if got, err := call(t, p, "files__read", tc.args); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: read = %q, %v; want an error containing %q", tc.name, got, err, tc.want)
		}
	}
	// ".." cannot climb out: it is cleaned inside the root.
	if got, err := call(t, p, "files__read", `{"path":"../../../../etc/passwd"}`); err == nil {
		t.Errorf("read ../etc/passwd = %q, want an error", got)
	}

	if got, err := call(t, p, "files__write", `{"path":"drafts/plan.md","content":"step 1"}`); err != nil || !strings.Contains(got, "workspace/drafts/plan.md") {
		t.Fatalf("write = %q, %v", got, err)
	}
	if _, err := call(t, p, "files__write", `{"path":"workspace/drafts/plan.md","content":"\nstep 2","append":true}`); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "workspace", "drafts", "plan.md"))
	if string(b) != "step 1\nstep 2" {
		t.Fatalf("workspace file = %q", b)
	}
	if _, err := call(t, p, "files__write", `{"path":"../openagent.yaml","content":"x"}`); err != nil {
		// ".." is cleaned inside the workspace, so this writes workspace/openagent.yaml.
		t.Fatalf("write ../openagent.yaml: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "openagent.yaml")); !strings.Contains(string(b), "sk-secret") {
		t.Fatalf("openagent.yaml was overwritten: %q", b)
	}
	if os.Symlink(outside, filepath.Join(dir, "workspace", "escape")) != nil {
		t.Log("no symlinks here; skipping the symlink escape check")
	} else if _, err := call(t, p, "files__write", `{"path":"escape/x.txt","content":"x"}`); err == nil {
		t.Fatal("write through a symlink out of the workspace succeeded")
	}
	if _, err := os.Stat(filepath.Join(outside, "x.txt")); err == nil {
		t.Fatal("a file was written outside the workspace")
	}
	if got, err := call(t, p, "files__list", `{"path":"workspace"}`); err != nil || !strings.Contains(got, "drafts/") {
		t.Fatalf("list = %q, %v", got, err)
	}
}

func jsonQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestFetchBuiltin(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/page":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(`<html><head><title>Release notes</title><style>p{}</style><script>var x=1</script></head>
<body><h1>Version 2</h1><p>Faster <b>sync</b> and a <a href="/docs">manual</a>.</p></body></html>`))
		case "/big":
			w.Header().Set("Content-Type", "text/plain")
			w.Write([]byte(strings.Repeat("a", 300<<10)))
		default:
			http.Error(w, "no such page", http.StatusNotFound)
		}
	}))
	t.Cleanup(ts.Close)
	var private atomic.Bool // tools.fetch_private_networks
	p, _ := testPool(t, mcp.Fetch(private.Load))
	waitRow(t, p, "fetch", 5*time.Second, "fetch", connected)

	// By default only public addresses: the test server is on loopback, and
	// link-local is where cloud metadata lives. Nothing is dialled.
	for _, u := range []string{ts.URL + "/page", "http://169.254.169.254/latest/meta-data/", "http://[::1]:9/", "http://0.0.0.0:9/"} {
		_, err := call(t, p, "fetch__fetch", `{"url":"`+u+`"}`)
		if err == nil || !strings.Contains(err.Error(), "not a public address") || !strings.Contains(err.Error(), "tools.fetch_private_networks") {
			t.Fatalf("fetch %s with private networks off = %v, want a refusal naming the setting", u, err)
		}
	}
	private.Store(true) // the setting applies to the next call
	got, err := call(t, p, "fetch__fetch", `{"url":"`+ts.URL+`/page"}`)
	if err != nil {
		t.Fatal(err)
	}
	want := "# Release notes\n\nVersion 2\nFaster sync and a manual (/docs).\n"
	if got+"\n" != want {
		t.Fatalf("fetch page = %q, want %q", got, want)
	}
	if _, err := call(t, p, "fetch__fetch", `{"url":"`+ts.URL+`/missing"}`); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("fetch missing = %v, want a 404 error", err)
	}
	if _, err := call(t, p, "fetch__fetch", `{"url":"file:///etc/passwd"}`); err == nil {
		t.Fatal("fetch of a file URL succeeded")
	}
	big, err := call(t, p, "fetch__fetch", `{"url":"`+ts.URL+`/big"}`)
	if err != nil || len(big) > mcp.MaxResultBytes+200 || !strings.Contains(big, "truncated") {
		t.Fatalf("fetch big = %d bytes, %v; want a cut result", len(big), err)
	}
}

func TestShellBuiltin(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("the commands below are POSIX sh")
	}
	dir := t.TempDir()
	p, _ := testPool(t, mcp.Shell(dir))
	row, err := p.Get(context.Background(), "shell")
	if err != nil || row.Enabled || row.Status != mcp.StatusDisabled || !strings.Contains(row.Note, "runs any command") {
		t.Fatalf("shell row = %+v, %v; want disabled with a note", row, err)
	}
	if _, err := call(t, p, "shell__run", `{"command":"true"}`); err == nil {
		t.Fatal("shell ran while disabled")
	}
	if _, err := p.SetEnabled(context.Background(), "shell", true); err != nil {
		t.Fatal(err)
	}
	got, err := call(t, p, "shell__run", `{"command":"pwd; echo oops >&2; exit 4"}`)
	if err != nil || !strings.HasPrefix(got, "exit code 4\n") || !strings.Contains(got, filepath.Join(dir, "workspace")) || !strings.Contains(got, "oops") {
		t.Fatalf("run = %q, %v", got, err)
	}
	start := time.Now()
	_, err = call(t, p, "shell__run", `{"command":"sleep 30","timeout_seconds":1}`)
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("run sleep = %v, want a timeout", err)
	}
	t.Logf("a 1 s timeout returned after %s", time.Since(start))
}

func TestVaultBuiltin(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, err := store.Open(context.Background(), filepath.Join(dir, "vault.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	v, err := vault.Open(context.Background(), filepath.Join(dir, "vault"), db, vault.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	if err := v.Index(context.Background()); err != nil {
		t.Fatal(err)
	}
	p, _ := testPool(t, mcp.Vault(v))
	waitRow(t, p, "vault", 5*time.Second, "vault", connected)
	if got, err := call(t, p, "vault__write", `{"path":"projects/alpha.md","content":"# Alpha\nThe launch date is June 3. #launch"}`); err != nil || got != "created projects/alpha.md" {
		t.Fatalf("write = %q, %v", got, err)
	}
	if _, err := call(t, p, "vault__write", `{"path":"daily/today.md","content":"Worked on [[alpha]]."}`); err != nil {
		t.Fatal(err)
	}
	if got, err := call(t, p, "vault__append", `{"path":"projects/alpha.md","text":"Budget approved."}`); err != nil || got != "appended to projects/alpha.md" {
		t.Fatalf("append = %q, %v", got, err)
	}
	got, err := call(t, p, "vault__search", `{"query":"launch date"}`)
	if err != nil || !strings.Contains(got, `"path": "projects/alpha.md"`) || strings.Contains(got, "<mark>") {
		t.Fatalf("search = %q, %v", got, err)
	}
	got, err = call(t, p, "vault__read", `{"path":"projects/alpha.md"}`)
	if err != nil || !strings.Contains(got, "Budget approved.") || !strings.Contains(got, "Linked from: daily/today.md") {
		t.Fatalf("read = %q, %v", got, err)
	}
	if got, err := call(t, p, "vault__backlinks", `{"path":"projects/alpha.md"}`); err != nil || got != "daily/today.md" {
		t.Fatalf("backlinks = %q, %v", got, err)
	}
	if got, err := call(t, p, "vault__list", `{"folder":"projects"}`); err != nil || !strings.Contains(got, "projects/alpha.md") || strings.Contains(got, "daily") {
		t.Fatalf("list = %q, %v", got, err)
	}
	if _, err := call(t, p, "vault__read", `{"path":"../escape.md"}`); err == nil {
		t.Fatal("read ../escape.md succeeded")
	}
}

func TestSchedulerBuiltin(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, err := store.Open(context.Background(), filepath.Join(dir, "sched.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sc, err := schedule.New(schedule.Config{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	var on atomic.Pointer[schedule.Scheduler]
	p, _ := testPool(t, mcp.Scheduler(on.Load))
	waitRow(t, p, "scheduler", 5*time.Second, "scheduler", connected)
	if _, err := call(t, p, "scheduler__list_tasks", `{}`); err == nil || !strings.Contains(err.Error(), "not running") {
		t.Fatalf("list while off = %v", err)
	}
	on.Store(sc)
	got, err := call(t, p, "scheduler__create_task", `{"name":"standup","cron_expression":"0 9 * * 1-5","prompt":"Summarise my day"}`)
	if err != nil {
		t.Fatal(err)
	}
	var task struct {
		ID      string `json:"id"`
		Name    string `json:"name"`
		Enabled bool   `json:"enabled"`
	}
	if err := json.Unmarshal([]byte(got), &task); err != nil || task.ID == "" || task.Name != "standup" || !task.Enabled {
		t.Fatalf("create = %q (%v)", got, err)
	}
	if _, err := call(t, p, "scheduler__create_task", `{"name":"bad","cron_expression":"every day","prompt":"x"}`); err == nil || !strings.Contains(err.Error(), "Invalid cron expression") {
		t.Fatalf("create with a bad expression = %v", err)
	}
	if got, err := call(t, p, "scheduler__update_task", `{"id":"`+task.ID+`","enabled":false}`); err != nil || !strings.Contains(got, `"enabled": false`) {
		t.Fatalf("update = %q, %v", got, err)
	}
	if got, err := call(t, p, "scheduler__list_tasks", `{}`); err != nil || !strings.Contains(got, task.ID) {
		t.Fatalf("list = %q, %v", got, err)
	}
	if _, err := call(t, p, "scheduler__delete_task", `{"id":"`+task.ID+`"}`); err != nil {
		t.Fatal(err)
	}
	if got, err := call(t, p, "scheduler__list_tasks", `{}`); err != nil || got != "[]" {
		t.Fatalf("list after delete = %q, %v", got, err)
	}
}
