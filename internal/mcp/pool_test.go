package mcp_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"openagent/internal/agent"
	"openagent/internal/mcp"
)

// fields builds a write body.
func fields(t *testing.T, v any) mcp.Fields {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var f mcp.Fields
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// addSelf registers the test binary as a stdio server named name.
func addSelf(t *testing.T, p *mcp.Pool, name, markers string) mcp.Row {
	t.Helper()
	env := map[string]string{"OPENAGENT_MCP_TEST_SERVER": "1"}
	if markers != "" {
		env[markerEnv] = markers
	}
	row, created, err := p.Create(context.Background(), fields(t, map[string]any{"name": name, "command": selfCommand(t), "env": env}))
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Fatalf("Create(%s) created = false, want true", name)
	}
	return row
}

func toolNames(tools []agent.Tool) []string {
	var out []string
	for _, t := range tools {
		out = append(out, t.Name)
	}
	return out
}

func TestStdioListCallAndToolError(t *testing.T) {
	t.Parallel()
	p, _ := testPool(t)
	var mu sync.Mutex
	var events []string
	p.OnChange = func(action, name string) {
		mu.Lock()
		events = append(events, action+" "+name)
		mu.Unlock()
	}
	row := addSelf(t, p, "test", "")
	if row.Status != mcp.StatusConnected || row.Tools != 7 || row.Kind != mcp.KindCustom || row.Source != "api" {
		t.Fatalf("row after create = %+v, want connected custom api row with 7 tools", row)
	}
	ctx := context.Background()
	tools := p.List(ctx)
	names := toolNames(tools)
	if !slices.Contains(names, "test__echo") || !slices.Contains(names, "test__fail") {
		t.Fatalf("List = %v, want test__echo and test__fail", names)
	}
	for _, tl := range tools {
		if tl.Name == "test__echo" {
			var schema struct {
				Type       string         `json:"type"`
				Properties map[string]any `json:"properties"`
			}
			if err := json.Unmarshal(tl.InputSchema, &schema); err != nil || schema.Type != "object" || schema.Properties["text"] == nil {
				t.Fatalf("echo schema = %s, want an object schema with text", tl.InputSchema)
			}
			if tl.Description != "Echo text back." {
				t.Fatalf("echo description = %q", tl.Description)
			}
		}
	}
	got, err := p.Call(ctx, "test__echo", json.RawMessage(`{"text":"hello"}`))
	if err != nil || got != "echo: hello" {
		t.Fatalf("Call(echo) = %q, %v; want echo: hello", got, err)
	}
	_, err = p.Call(ctx, "test__fail", nil)
	if err == nil || !strings.Contains(err.Error(), "the widget is broken") {
		t.Fatalf("Call(fail) error = %v, want the tool's error", err)
	}
	_, err = p.Call(ctx, "test__nope", nil)
	if err == nil || !strings.Contains(err.Error(), "unknown tool") {
		t.Fatalf("Call(nope) error = %v, want unknown tool", err)
	}
	big, err := p.Call(ctx, "test__big", json.RawMessage(`{"bytes":100000}`))
	if err != nil || len(big) > mcp.MaxResultBytes+200 || !strings.Contains(big, "[result truncated: showing the first 32768 of 100000 bytes]") {
		t.Fatalf("Call(big) = %d bytes ending %q, %v; want a cut result with a note", len(big), big[max(0, len(big)-80):], err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(events, "created test") {
		t.Fatalf("OnChange events = %v, want created test", events)
	}
}

func TestKilledChildIsRestarted(t *testing.T) {
	t.Parallel()
	p, _ := testPool(t)
	addSelf(t, p, "crashy", "")
	ctx := context.Background()
	pidText, err := p.Call(ctx, "crashy__pid", nil)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(pidText)
	proc, err := os.FindProcess(pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := proc.Kill(); err != nil {
		t.Fatalf("kill %d: %v", pid, err)
	}
	waitRow(t, p, "crashy", 5*time.Second, "the crash to show", func(r mcp.Row) bool { return r.Status != mcp.StatusConnected })
	r := waitRow(t, p, "crashy", 10*time.Second, "the restart", connected)
	if r.Tools != 7 {
		t.Fatalf("tools after restart = %d, want 7", r.Tools)
	}
	again, err := p.Call(ctx, "crashy__pid", nil)
	if err != nil || again == pidText {
		t.Fatalf("Call(pid) after restart = %q, %v; want a new pid (old %s)", again, err, pidText)
	}
	if got, err := p.Call(ctx, "crashy__echo", json.RawMessage(`{"text":"back"}`)); err != nil || got != "echo: back" {
		t.Fatalf("Call(echo) after restart = %q, %v", got, err)
	}
}

func TestBrokenCommandShowsStderr(t *testing.T) {
	t.Parallel()
	p, _ := testPool(t)
	row, _, err := p.Create(context.Background(), fields(t, map[string]any{
		"name": "broken", "command": selfCommand(t), "env": map[string]string{"OPENAGENT_MCP_TEST_SERVER": "broken"},
	}))
	if err != nil {
		t.Fatal(err)
	}
	if row.Status != mcp.StatusError || !strings.Contains(row.Error, "fatal: TEST_API_KEY is not set") {
		t.Fatalf("row = status %q error %q; want error with the stderr line", row.Status, row.Error)
	}
	// It keeps being retried, and keeps showing the error.
	time.Sleep(700 * time.Millisecond)
	row, _ = p.Get(context.Background(), "broken")
	if row.Status != mcp.StatusError || !strings.Contains(row.Error, "TEST_API_KEY") {
		t.Fatalf("row later = status %q error %q", row.Status, row.Error)
	}

	row, _, err = p.Create(context.Background(), fields(t, map[string]any{"name": "missing", "command": []string{"/nonexistent/mcp-server"}}))
	if err != nil {
		t.Fatal(err)
	}
	if row.Status != mcp.StatusError || !strings.Contains(row.Error, "/nonexistent/mcp-server") {
		t.Fatalf("missing binary row = %q %q, want error naming it", row.Status, row.Error)
	}
}

func TestFailedProbeKeepsTheRunningServer(t *testing.T) {
	t.Parallel()
	p, _ := testPool(t)
	addSelf(t, p, "keep", "")
	row, err := p.Update(context.Background(), "keep", fields(t, map[string]any{"env": map[string]string{"OPENAGENT_MCP_TEST_SERVER": "broken"}}))
	if err != nil {
		t.Fatal(err)
	}
	if row.Status != mcp.StatusError || !strings.Contains(row.Error, "previous one keeps running") || !strings.Contains(row.Error, "TEST_API_KEY") {
		t.Fatalf("row = %q %q, want the probe error", row.Status, row.Error)
	}
	if got, err := p.Call(context.Background(), "keep__echo", json.RawMessage(`{"text":"still"}`)); err != nil || got != "echo: still" {
		t.Fatalf("old server after failed probe: %q, %v", got, err)
	}
	// Fixing the configuration swaps a good server in.
	row, err = p.Update(context.Background(), "keep", fields(t, map[string]any{"env": map[string]string{"OPENAGENT_MCP_TEST_SERVER": "1"}}))
	if err != nil || row.Status != mcp.StatusConnected || row.Error != "" {
		t.Fatalf("row after fix = %+v, %v", row, err)
	}
}

func TestEnableDisableLive(t *testing.T) {
	t.Parallel()
	p, _ := testPool(t, mcp.Fetch(nil))
	addSelf(t, p, "toggle", "")
	ctx := context.Background()
	waitRow(t, p, "fetch", 5*time.Second, "the fetch builtin", connected)
	if names := toolNames(p.List(ctx)); !slices.Contains(names, "toggle__echo") || !slices.Contains(names, "fetch__fetch") {
		t.Fatalf("List = %v", names)
	}
	for _, name := range []string{"toggle", "fetch"} {
		row, err := p.SetEnabled(ctx, name, false)
		if err != nil || row.Enabled || row.Status != mcp.StatusDisabled || row.Tools != 0 {
			t.Fatalf("disable %s = %+v, %v", name, row, err)
		}
	}
	if names := toolNames(p.List(ctx)); len(names) != 0 {
		t.Fatalf("List after disabling = %v, want none", names)
	}
	if _, err := p.Call(ctx, "toggle__echo", json.RawMessage(`{"text":"x"}`)); err == nil {
		t.Fatal("Call on a disabled server succeeded")
	}
	for _, name := range []string{"toggle", "fetch"} {
		row, err := p.SetEnabled(ctx, name, true)
		if err != nil || !row.Enabled || row.Status != mcp.StatusConnected {
			t.Fatalf("enable %s = %+v, %v", name, row, err)
		}
	}
	if got, err := p.Call(ctx, "toggle__echo", json.RawMessage(`{"text":"on"}`)); err != nil || got != "echo: on" {
		t.Fatalf("Call after enabling = %q, %v", got, err)
	}
}

func TestListChanged(t *testing.T) {
	t.Parallel()
	p, _ := testPool(t)
	addSelf(t, p, "grower", "")
	ctx := context.Background()
	if _, err := p.Call(ctx, "grower__grow", nil); err != nil {
		t.Fatal(err)
	}
	waitRow(t, p, "grower", 5*time.Second, "8 tools", func(r mcp.Row) bool { return r.Tools == 8 })
	if got, err := p.Call(ctx, "grower__extra", nil); err != nil || got != "extra works" {
		t.Fatalf("Call(extra) = %q, %v", got, err)
	}
}

func TestStopCancelsSlowTool(t *testing.T) {
	t.Parallel()
	p, _ := testPool(t)
	markers := t.TempDir()
	addSelf(t, p, "slowpoke", markers)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := p.Call(ctx, "slowpoke__slow", nil)
		errc <- err
	}()
	waitFile(t, filepath.Join(markers, "slow-started"))
	start := time.Now()
	cancel()
	var err error
	select {
	case err = <-errc:
	case <-time.After(5 * time.Second):
		t.Fatal("Call did not return after cancel")
	}
	latency := time.Since(start)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Call error = %v, want context.Canceled", err)
	}
	// The server saw notifications/cancelled and stopped the handler.
	waitFile(t, filepath.Join(markers, "slow-cancelled"))
	t.Logf("stop → Call returned in %s", latency)
	// The server is still usable.
	if got, err := p.Call(context.Background(), "slowpoke__echo", json.RawMessage(`{"text":"ok"}`)); err != nil || got != "echo: ok" {
		t.Fatalf("Call after cancel = %q, %v", got, err)
	}
}

func BenchmarkStopLatency(b *testing.B) {
	p, _ := testPool(b)
	markers := b.TempDir()
	env := map[string]string{"OPENAGENT_MCP_TEST_SERVER": "1", markerEnv: markers}
	exe, _ := os.Executable()
	if _, _, err := p.Create(context.Background(), mcp.Fields{
		"name":    json.RawMessage(`"bench"`),
		"command": mustJSON(b, []string{exe, "-test.run=^$"}),
		"env":     mustJSON(b, env),
	}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		os.Remove(filepath.Join(markers, "slow-started"))
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			_, err := p.Call(ctx, "bench__slow", nil)
			errc <- err
		}()
		b.StopTimer()
		for {
			if _, err := os.Stat(filepath.Join(markers, "slow-started")); err == nil {
				break
			}
			time.Sleep(time.Millisecond)
		}
		b.StartTimer()
		cancel()
		<-errc
	}
}

func mustJSON(b *testing.B, v any) json.RawMessage {
	out, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

func waitFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s did not appear", path)
}

func TestStreamableHTTPServer(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var auth []string
	h := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return testServer() }, nil)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	p, _ := testPool(t)
	row, _, err := p.Create(context.Background(), fields(t, map[string]any{"name": "remote", "url": ts.URL + "/mcp", "headers": map[string]string{"Authorization": "Bearer s3cret"}}))
	if err != nil || row.Status != mcp.StatusConnected || row.URL == nil || row.Command != nil {
		t.Fatalf("create remote = %+v, %v", row, err)
	}
	got, err := p.Call(context.Background(), "remote__echo", json.RawMessage(`{"text":"over http"}`))
	if err != nil || got != "echo: over http" {
		t.Fatalf("Call = %q, %v", got, err)
	}
	if _, err := p.Call(context.Background(), "remote__fail", nil); err == nil || !strings.Contains(err.Error(), "the widget is broken") {
		t.Fatalf("Call(fail) = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(auth) == 0 || auth[0] != "Bearer s3cret" {
		t.Fatalf("Authorization headers seen = %v, want the configured header", auth)
	}
}

func TestLegacySSEServer(t *testing.T) {
	t.Parallel()
	h := sdk.NewSSEHandler(func(*http.Request) *sdk.Server { return testServer() }, nil)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	p, _ := testPool(t)
	row, _, err := p.Create(context.Background(), fields(t, map[string]any{"name": "legacy", "url": ts.URL + "/sse"}))
	if err != nil || row.Status != mcp.StatusConnected {
		t.Fatalf("create legacy = %+v, %v", row, err)
	}
	// Past the connect timeout window the stream must still work.
	got, err := p.Call(context.Background(), "legacy__echo", json.RawMessage(`{"text":"sse"}`))
	if err != nil || got != "echo: sse" {
		t.Fatalf("Call = %q, %v", got, err)
	}
}

func TestHTTPServerGoneIsMarked(t *testing.T) {
	t.Parallel()
	h := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return testServer() }, nil)
	ts := httptest.NewServer(h)
	p, _ := testPool(t)
	if _, _, err := p.Create(context.Background(), fields(t, map[string]any{"name": "gone", "url": ts.URL})); err != nil {
		t.Fatal(err)
	}
	ts.CloseClientConnections()
	ts.Close()
	if _, err := p.Call(context.Background(), "gone__echo", json.RawMessage(`{"text":"x"}`)); err == nil {
		t.Fatal("Call to a closed server succeeded")
	}
}

func TestClaudeDesktopImport(t *testing.T) {
	t.Parallel()
	h := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return testServer() }, nil)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	p, _ := testPool(t)
	exe, _ := os.Executable()
	body := `{"mcpServers":{
		"local":{"command":` + strconv.Quote(exe) + `,"args":["-test.run=^$"],"env":{"OPENAGENT_MCP_TEST_SERVER":"1"}},
		"remote":{"url":` + strconv.Quote(ts.URL) + `,"headers":{"X-Test":"1"}},
		"off":{"command":"npx","args":["-y","some-server"],"disabled":true}
	},"globalShortcut":"Ctrl+Space"}`
	var cfg mcp.ClaudeDesktopConfig
	if err := json.Unmarshal([]byte(body), &cfg); err != nil {
		t.Fatal(err)
	}
	rows, err := p.Import(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("Import returned %d rows, want 3", len(rows))
	}
	byName := map[string]mcp.Row{}
	for _, r := range rows {
		byName[r.Name] = r
		if r.Source != "claude_desktop" || r.Kind != mcp.KindCustom {
			t.Fatalf("row %s = kind %q source %q", r.Name, r.Kind, r.Source)
		}
	}
	if r := byName["local"]; r.Status != mcp.StatusConnected || len(r.Command) != 1 || len(r.Args) != 1 {
		t.Fatalf("local = %+v", r)
	}
	if r := byName["remote"]; r.Status != mcp.StatusConnected || r.Headers["X-Test"] != "1" {
		t.Fatalf("remote = %+v", r)
	}
	if r := byName["off"]; r.Status != mcp.StatusDisabled || r.Enabled {
		t.Fatalf("off = %+v", r)
	}
	names := toolNames(p.List(context.Background()))
	if !slices.Contains(names, "local__echo") || !slices.Contains(names, "remote__echo") {
		t.Fatalf("List = %v", names)
	}
	if _, err := p.Import(context.Background(), mcp.ClaudeDesktopConfig{}); err == nil {
		t.Fatal("Import of an empty config succeeded")
	}
}

func TestRegistryRules(t *testing.T) {
	t.Parallel()
	p, _ := testPool(t, mcp.Shell(t.TempDir()), mcp.Fetch(nil))
	ctx := context.Background()
	rows, err := p.Rows(ctx)
	if err != nil || len(rows) != 2 || rows[0].Name != "fetch" || rows[1].Name != "shell" {
		t.Fatalf("Rows = %+v, %v", rows, err)
	}
	shell := rows[1]
	if shell.Kind != mcp.KindBuiltin || shell.Enabled || shell.Status != mcp.StatusDisabled || shell.Note != mcp.ShellNote || *shell.BuiltinName != "shell" {
		t.Fatalf("shell row = %+v", shell)
	}
	var bde *mcp.BuiltinDeleteError
	if err := p.Delete(ctx, "shell"); !errors.As(err, &bde) || err.Error() != "Refusing to delete builtin MCP 'shell' (kind='builtin'). Disable it instead — builtins can be toggled but not removed." {
		t.Fatalf("Delete(shell) = %v", err)
	}
	if err := p.Delete(ctx, "nope"); !errors.Is(err, mcp.ErrNotFound) {
		t.Fatalf("Delete(nope) = %v", err)
	}
	for _, tc := range []struct {
		name string
		body map[string]any
		want string
	}{
		{"no name", map[string]any{"command": []string{"x"}}, "name is required"},
		{"blank name", map[string]any{"name": "  ", "command": []string{"x"}}, "name is required"},
		{"builtin", map[string]any{"name": "v", "builtin_name": "vault"}, "Builtin MCPs cannot be added at runtime"},
		{"no command", map[string]any{"name": "x"}, "either command (argv list) or url is required"},
		{"bad url", map[string]any{"name": "x", "url": "ftp://x"}, "url must start with http"},
		{"bad command", map[string]any{"name": "x", "command": 3}, "field command"},
	} {
		_, _, err := p.Create(ctx, fields(t, tc.body))
		var ie *mcp.InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Create error = %v, want InputError containing %q", tc.name, err, tc.want)
		}
	}
	// Seeding again keeps the user's choice.
	if _, err := p.SetEnabled(ctx, "fetch", false); err != nil {
		t.Fatal(err)
	}
	// A shell row enabled runs commands in the workspace.
	row, err := p.SetEnabled(ctx, "shell", true)
	if err != nil || row.Status != mcp.StatusConnected {
		t.Fatalf("enable shell = %+v, %v", row, err)
	}
}

func TestNpxServerEverything(t *testing.T) {
	t.Parallel()
	npx, err := exec.LookPath("npx")
	if err != nil {
		t.Skip("npx is not installed")
	}
	p, _ := testPool(t)
	row, _, err := p.Create(context.Background(), fields(t, map[string]any{"name": "everything", "command": []string{npx, "-y", "@modelcontextprotocol/server-everything"}}))
	if err != nil {
		t.Fatal(err)
	}
	if row.Status != mcp.StatusConnected {
		row = waitRow(t, p, "everything", 90*time.Second, "server-everything", connected)
	}
	names := toolNames(p.List(context.Background()))
	if !slices.Contains(names, "everything__echo") {
		t.Fatalf("List = %v, want everything__echo", names)
	}
	got, err := p.Call(context.Background(), "everything__echo", json.RawMessage(`{"message":"from go"}`))
	if err != nil || !strings.Contains(got, "from go") {
		t.Fatalf("Call(echo) = %q, %v", got, err)
	}
	if _, err := p.Call(context.Background(), "everything__echo", json.RawMessage(`{"wrong":1}`)); err == nil {
		t.Fatal("Call(echo) with bad arguments succeeded")
	}
}
