package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"openagent/gateway"
	"openagent/internal/agent"
	"openagent/internal/config"
	"openagent/internal/eventlog"
	"openagent/internal/store"
)

// readWait bounds every read in these tests, so a bug fails instead of hanging.
const readWait = 5 * time.Second

// fakeAgent is a test double for the gateway's agent seam. Its behaviour is
// chosen by the message text:
//
//	"block…"   waits until the turn is cancelled or release is closed
//	"fail:X"   returns the error X
//	"status"   sends two status lines, then answers
//	anything   answers "echo: <text>"
type fakeAgent struct {
	release chan struct{}

	mu        sync.Mutex
	forgotten []string
	started   chan string // receives the text of each turn as it starts (if non-nil)
	cancelled chan time.Time
}

func newFakeAgent() *fakeAgent {
	return &fakeAgent{release: make(chan struct{}), started: make(chan string, 100), cancelled: make(chan time.Time, 100)}
}

func (a *fakeAgent) Run(ctx context.Context, t agent.Turn, status func(string)) (agent.Reply, error) {
	select {
	case a.started <- t.Text:
	default: // benchmarks run more turns than anyone reads
	}
	switch {
	case strings.HasPrefix(t.Text, "block"):
		select {
		case <-ctx.Done():
			a.cancelled <- time.Now()
			return agent.Reply{}, ctx.Err()
		case <-a.release:
			return agent.Reply{Text: "released: " + t.Text, Model: "fake:m1"}, nil
		}
	case strings.HasPrefix(t.Text, "fail:"):
		return agent.Reply{}, errors.New(strings.TrimPrefix(t.Text, "fail:"))
	case t.Text == "status":
		status("Thinking...")
		status(`{"tool":"vault__search","status":"running","params":{"q":"x"}}`)
		return agent.Reply{Text: "done", Model: "fake:m1"}, nil
	}
	return agent.Reply{Text: "echo: " + t.Text, Model: "fake:m1"}, nil
}

func (a *fakeAgent) Forget(ctx context.Context, sid string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.forgotten = append(a.forgotten, sid)
	return nil
}

func (a *fakeAgent) forgets() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.forgotten...)
}

type testGateway struct {
	srv    *gateway.Server
	url    string // http://127.0.0.1:port
	ws     string // ws://127.0.0.1:port/ws
	dir    string
	cfg    *config.File
	agent  *fakeAgent
	cancel context.CancelFunc
	served chan error
}

type gwOpts struct {
	yaml    string // openagent.yaml content; defaults when empty
	noAgent bool
	restart func()
}

// startGateway runs a real gateway on a real loopback listener.
// newAgentDir makes a temporary agent directory with yaml as openagent.yaml
// (the defaults when empty) and opens its config, database and event log,
// all closed when the test ends.
func newAgentDir(t testing.TB, yaml string) (dir string, settings *config.File, db *store.DB, events *eventlog.Log) {
	t.Helper()
	dir = t.TempDir()
	if yaml != "" {
		if err := os.WriteFile(filepath.Join(dir, config.FileName), []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	settings, err := config.Open(filepath.Join(dir, config.FileName))
	if err != nil {
		t.Fatal(err)
	}
	db, err = store.Open(context.Background(), filepath.Join(dir, "openagent.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	os.MkdirAll(filepath.Join(dir, "logs"), 0o755)
	events, err = eventlog.Open(filepath.Join(dir, "logs", "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { events.Close() })
	return dir, settings, db, events
}

func startGateway(t testing.TB, o gwOpts) *testGateway {
	t.Helper()
	dir, settings, db, events := newAgentDir(t, o.yaml)
	fa := newFakeAgent()
	cfg := gateway.Config{Dir: dir, Settings: settings, DB: db, Events: events, Version: "9.9.9", Restart: o.restart,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if !o.noAgent {
		cfg.Agent = fa
	}
	srv, err := gateway.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	tg := &testGateway{srv: srv, url: "http://" + ln.Addr().String(), ws: "ws://" + ln.Addr().String() + "/ws",
		dir: dir, cfg: settings, agent: fa, cancel: cancel, served: served}
	t.Cleanup(func() {
		select {
		case <-fa.release:
		default:
			close(fa.release)
		}
		cancel()
		select {
		case <-served:
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after cancel")
		}
	})
	return tg
}

// wsClient is a test WebSocket client with a deadline on every read.
type wsClient struct {
	t *testing.T
	c *websocket.Conn
}

func (g *testGateway) dial(t *testing.T, hdr http.Header) *wsClient {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial(g.ws, hdr)
	if err != nil {
		status := ""
		if resp != nil {
			status = resp.Status
		}
		t.Fatalf("dial %s: %v %s", g.ws, err, status)
	}
	t.Cleanup(func() { c.Close() })
	return &wsClient{t, c}
}

// auth dials and authenticates; it returns the client and the auth_ok frame.
func (g *testGateway) auth(t *testing.T, token, clientID string) (*wsClient, map[string]any) {
	t.Helper()
	c := g.dial(t, nil)
	m := map[string]any{"type": "auth", "token": token}
	if clientID != "" {
		m["client_id"] = clientID
	}
	c.send(m)
	f := c.read()
	if f["type"] != "auth_ok" {
		t.Fatalf("auth: got %v, want auth_ok", f)
	}
	return c, f
}

func (c *wsClient) send(v any) {
	c.t.Helper()
	c.c.SetWriteDeadline(time.Now().Add(readWait))
	if err := c.c.WriteJSON(v); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *wsClient) sendRaw(kind int, b []byte) {
	c.t.Helper()
	c.c.SetWriteDeadline(time.Now().Add(readWait))
	if err := c.c.WriteMessage(kind, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// read returns the next frame as a map, failing the test after readWait.
func (c *wsClient) read() map[string]any {
	c.t.Helper()
	m, err := c.tryRead(readWait)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return m
}

func (c *wsClient) tryRead(d time.Duration) (map[string]any, error) {
	c.c.SetReadDeadline(time.Now().Add(d))
	_, b, err := c.c.ReadMessage()
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// readType skips frames until one of type typ arrives.
func (c *wsClient) readType(typ string) map[string]any {
	c.t.Helper()
	for i := 0; i < 50; i++ {
		f := c.read()
		if f["type"] == typ {
			return f
		}
	}
	c.t.Fatalf("no %s frame in 50 frames", typ)
	return nil
}

// expectNothing checks that no frame arrives before a ping's pong.
func (c *wsClient) expectNothing() {
	c.t.Helper()
	c.send(map[string]string{"type": "ping"})
	if f := c.read(); f["type"] != "pong" {
		c.t.Fatalf("got %v before pong, want nothing", f)
	}
}

// closeCode reads until the connection closes and returns the close code.
func (c *wsClient) closeCode() int {
	c.t.Helper()
	for {
		c.c.SetReadDeadline(time.Now().Add(readWait))
		_, _, err := c.c.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		c.t.Fatalf("connection ended without a close frame: %v", err)
	}
}

// api calls the REST API and decodes the JSON answer into out (may be nil).
func (g *testGateway) api(t *testing.T, method, path, token string, body io.Reader, out any) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, g.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c := &http.Client{Timeout: readWait}
	resp, err := c.Do(req)
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

const tokenYAML = "name: testagent\nchannels:\n  websocket:\n    token: s3cret-token\n"

func startGatewayB(b *testing.B) *testGateway { return startGateway(b, gwOpts{}) }

func decodeJSONBody(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }
