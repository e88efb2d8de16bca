package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"openagent/gateway"
	"openagent/internal/config"
	"openagent/internal/mcp"
	"openagent/internal/store"
)

// mcpGateway is a real gateway on a real loopback listener.
type mcpGateway struct {
	url string // http://127.0.0.1:port
	ws  string // ws://127.0.0.1:port/ws
}

// mcpWait bounds every read in these tests.
const mcpWait = 10 * time.Second

// startMCPGateway runs a real gateway over a real database, with a real MCP
// pool (fetch, files and shell builtins) unless noPool.
func startMCPGateway(t *testing.T, noPool bool) *mcpGateway {
	t.Helper()
	dir := t.TempDir()
	settings, err := config.Open(filepath.Join(dir, config.FileName))
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), filepath.Join(dir, "openagent.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg := gateway.Config{Dir: dir, Settings: settings, DB: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	var pool *mcp.Pool
	if !noPool {
		pool, err = mcp.New(context.Background(), mcp.Options{DB: db, Dir: dir, Builtins: []mcp.Builtin{mcp.Files(dir), mcp.Fetch(nil), mcp.Shell(dir)}})
		if err != nil {
			t.Fatal(err)
		}
		cfg.MCP = pool
	}
	srv, err := gateway.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if pool != nil {
		pool.OnChange = func(action, name string) { srv.Broadcast("mcp", action, name) }
		if err := pool.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-served
	})
	return &mcpGateway{url: "http://" + ln.Addr().String(), ws: "ws://" + ln.Addr().String() + "/ws"}
}

// call sends one REST request and decodes the JSON answer into out.
func (g *mcpGateway) call(t *testing.T, method, path string, body io.Reader, out any) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, g.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Timeout: mcpWait}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %d %q is not JSON: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return resp
}

// watch authenticates a WebSocket client.
func (g *mcpGateway) watch(t *testing.T) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial(g.ws, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetWriteDeadline(time.Now().Add(mcpWait))
	if err := c.WriteJSON(map[string]string{"type": "auth", "client_id": "watcher"}); err != nil {
		t.Fatal(err)
	}
	if f := readFrame(t, c); f["type"] != "auth_ok" {
		t.Fatalf("auth: %v", f)
	}
	return c
}

func readFrame(t *testing.T, c *websocket.Conn) map[string]any {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(mcpWait))
	var m map[string]any
	if err := c.ReadJSON(&m); err != nil {
		t.Fatalf("read: %v", err)
	}
	return m
}

// readEvent skips frames until the resource_event resource/action/id arrives.
func readEvent(t *testing.T, c *websocket.Conn, resource, action, id string) {
	t.Helper()
	for i := 0; i < 100; i++ {
		f := readFrame(t, c)
		if f["type"] == "resource_event" && f["resource"] == resource && f["action"] == action && f["id"] == id {
			return
		}
	}
	t.Fatalf("no resource_event %s %s %s in 100 frames", resource, action, id)
}

// mcpRow is the row as REST sends it; the test decodes into the real type.
type mcpRow = mcp.Row

type mcpReply struct {
	OK    bool     `json:"ok"`
	MCP   mcpRow   `json:"mcp"`
	MCPs  []mcpRow `json:"mcps"`
	Error string   `json:"error"`
}

// httpMCPServer is a real streamable-HTTP MCP server with one tool.
func httpMCPServer(t *testing.T) string {
	t.Helper()
	ts := httptest.NewServer(sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server {
		s := sdk.NewServer(&sdk.Implementation{Name: "remote"}, nil)
		type in struct {
			Text string `json:"text"`
		}
		sdk.AddTool(s, &sdk.Tool{Name: "shout", Description: "Upper-case text."}, func(ctx context.Context, _ *sdk.CallToolRequest, a in) (*sdk.CallToolResult, any, error) {
			return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: strings.ToUpper(a.Text)}}}, nil, nil
		})
		return s
	}, nil))
	t.Cleanup(func() {
		ts.CloseClientConnections() // the pool's standalone SSE stream
		ts.Close()
	})
	return ts.URL
}

func TestMCPRest(t *testing.T) {
	t.Parallel()
	g := startMCPGateway(t, false)
	ws := g.watch(t)
	body := func(s string) io.Reader { return bytes.NewBufferString(s) }

	var list mcpReply
	if resp := g.call(t, "GET", "/api/mcps", nil, &list); resp.StatusCode != 200 || len(list.MCPs) != 3 {
		t.Fatalf("GET /api/mcps = %d %+v, want the 3 builtins", resp.StatusCode, list)
	}
	names := []string{list.MCPs[0].Name, list.MCPs[1].Name, list.MCPs[2].Name}
	if strings.Join(names, ",") != "fetch,files,shell" {
		t.Fatalf("rows = %v, want sorted fetch,files,shell", names)
	}
	if sh := list.MCPs[2]; sh.Enabled || sh.Status != "disabled" || sh.Note == "" || sh.Kind != "builtin" || sh.Args == nil || sh.Env == nil {
		t.Fatalf("shell row = %+v, want disabled builtin with a note", sh)
	}

	var got mcpReply
	if resp := g.call(t, "GET", "/api/mcps/nope", nil, &got); resp.StatusCode != 404 || got.Error != "MCP 'nope' not found" {
		t.Fatalf("GET missing = %d %q", resp.StatusCode, got.Error)
	}

	for _, tc := range []struct{ body, want string }{
		{`{"command":["x"]}`, "name is required"},
		{`{"name":"v","builtin_name":"vault"}`, "Builtin MCPs cannot be added at runtime — they are defined in openagent.mcp.builtins.BUILTIN_MCP_SPECS and auto-seeded on boot. Use POST /api/mcps/vault/enable to turn the existing row on, or PUT /api/mcps/v to change its env."},
		{`{"name":"x"}`, "either command (argv list) or url is required"},
		{`[1]`, "invalid JSON body: expected a JSON object"},
		{`null`, "invalid JSON body: expected a JSON object"},
	} {
		var e mcpReply
		if resp := g.call(t, "POST", "/api/mcps", body(tc.body), &e); resp.StatusCode != 400 || e.Error != tc.want {
			t.Errorf("POST %s = %d %q, want 400 %q", tc.body, resp.StatusCode, e.Error, tc.want)
		}
	}

	// The reference test: a command that exits at once is still added (201),
	// and its row says why it is not connected.
	var tr mcpReply
	if resp := g.call(t, "POST", "/api/mcps", body(`{"name":"rest-test-mcp","command":["/bin/true"]}`), &tr); resp.StatusCode != 201 || !tr.OK {
		t.Fatalf("POST /bin/true = %d %+v", resp.StatusCode, tr)
	}
	if tr.MCP.Command[0] != "/bin/true" || tr.MCP.Status != "error" || tr.MCP.Error == "" || tr.MCP.Kind != "custom" || tr.MCP.Source != "api" {
		t.Fatalf("rest-test-mcp row = %+v", tr.MCP)
	}
	readEvent(t, ws, "mcp", "created", "rest-test-mcp")
	var off mcpReply
	if resp := g.call(t, "POST", "/api/mcps/rest-test-mcp/disable", nil, &off); resp.StatusCode != 200 || off.MCP.Enabled || off.MCP.Status != "disabled" || off.MCP.UpdatedAt < tr.MCP.UpdatedAt {
		t.Fatalf("disable = %d %+v", resp.StatusCode, off.MCP)
	}
	if resp := g.call(t, "DELETE", "/api/mcps/rest-test-mcp", nil, &off); resp.StatusCode != 200 || !off.OK {
		t.Fatalf("DELETE = %d %+v", resp.StatusCode, off)
	}
	if resp := g.call(t, "GET", "/api/mcps/rest-test-mcp", nil, nil); resp.StatusCode != 404 {
		t.Fatalf("GET after delete = %d", resp.StatusCode)
	}

	// A real HTTP server connects; the write answers once it is probed.
	url := httpMCPServer(t)
	var rm mcpReply
	if resp := g.call(t, "POST", "/api/mcps", body(`{"name":"remote","url":"`+url+`"}`), &rm); resp.StatusCode != 201 || rm.MCP.Status != "connected" || rm.MCP.Tools != 1 {
		t.Fatalf("POST remote = %d %+v", resp.StatusCode, rm.MCP)
	}
	if resp := g.call(t, "PUT", "/api/mcps/remote", body(`{"headers":{"X-Key":"k"},"status":"ignored"}`), &rm); resp.StatusCode != 200 || rm.MCP.Headers["X-Key"] != "****" || *rm.MCP.URL != url || rm.MCP.Status != "connected" {
		t.Fatalf("PUT remote = %d %+v", resp.StatusCode, rm.MCP)
	}
	if resp := g.call(t, "PUT", "/api/mcps/remote", body(`{"bogus":1}`), &rm); resp.StatusCode != 400 {
		t.Fatalf("PUT with an unknown field = %d", resp.StatusCode)
	}
	if resp := g.call(t, "PUT", "/api/mcps/nope", body(`{}`), &rm); resp.StatusCode != 404 {
		t.Fatalf("PUT missing = %d", resp.StatusCode)
	}

	// Builtins toggle but are never deleted.
	var e mcpReply
	if resp := g.call(t, "DELETE", "/api/mcps/fetch", nil, &e); resp.StatusCode != 400 || e.Error != "Refusing to delete builtin MCP 'fetch' (kind='builtin'). Disable it instead — builtins can be toggled but not removed." {
		t.Fatalf("DELETE builtin = %d %q", resp.StatusCode, e.Error)
	}
	if resp := g.call(t, "POST", "/api/mcps/shell/enable", nil, &e); resp.StatusCode != 200 || e.MCP.Status != "connected" || e.MCP.Tools != 1 {
		t.Fatalf("enable shell = %d %+v", resp.StatusCode, e.MCP)
	}
	if resp := g.call(t, "POST", "/api/mcps/nope/enable", nil, nil); resp.StatusCode != 404 {
		t.Fatalf("enable missing = %d", resp.StatusCode)
	}

	// Claude Desktop import.
	var imp mcpReply
	cfg := `{"mcpServers":{"desk-remote":{"url":"` + url + `"},"desk-off":{"command":"npx","args":["-y","x"],"disabled":true}}}`
	if resp := g.call(t, "POST", "/api/mcps/import", body(cfg), &imp); resp.StatusCode != 200 || len(imp.MCPs) != 2 {
		t.Fatalf("import = %d %+v", resp.StatusCode, imp)
	}
	if imp.MCPs[1].Name != "desk-remote" || imp.MCPs[1].Status != "connected" || imp.MCPs[1].Source != "claude_desktop" || imp.MCPs[0].Status != "disabled" {
		t.Fatalf("imported rows = %+v", imp.MCPs)
	}
	if resp := g.call(t, "POST", "/api/mcps/import", body(`{"mcpServers":{}}`), &e); resp.StatusCode != 400 {
		t.Fatalf("empty import = %d", resp.StatusCode)
	}
}

func TestMCPUnavailable(t *testing.T) {
	t.Parallel()
	g := startMCPGateway(t, true)
	var e mcpReply
	if resp := g.call(t, "GET", "/api/mcps", nil, &e); resp.StatusCode != 503 || e.Error == "" {
		t.Fatalf("GET /api/mcps without a pool = %d %q", resp.StatusCode, e.Error)
	}
}
