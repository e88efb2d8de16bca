package gateway_test

import (
	"bytes"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestAuth(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gwOpts{yaml: tokenYAML})

	t.Run("wrong token closes", func(t *testing.T) {
		c := g.dial(t, nil)
		c.send(map[string]any{"type": "auth", "token": "nope"})
		f := c.read()
		if f["type"] != "auth_error" || f["reason"] != "Invalid token" {
			t.Fatalf("got %v, want auth_error Invalid token", f)
		}
		c.closeCode()
	})
	t.Run("missing token closes", func(t *testing.T) {
		c := g.dial(t, nil)
		c.send(map[string]any{"type": "auth"})
		if f := c.read(); f["reason"] != "Invalid token" {
			t.Fatalf("got %v, want Invalid token", f)
		}
	})
	t.Run("frame before auth stays open", func(t *testing.T) {
		c := g.dial(t, nil)
		c.send(map[string]any{"type": "message", "text": "hi"})
		if f := c.read(); f["type"] != "auth_error" || f["reason"] != "Not authenticated" {
			t.Fatalf("got %v, want auth_error Not authenticated", f)
		}
		c.send(map[string]any{"type": "auth", "token": "s3cret-token", "client_id": "late"})
		if f := c.read(); f["type"] != "auth_ok" || f["client_id"] != "late" {
			t.Fatalf("got %v, want auth_ok for late", f)
		}
		c.expectNothing()
	})
	t.Run("auth_ok fields", func(t *testing.T) {
		_, f := g.auth(t, "s3cret-token", "")
		id, _ := f["client_id"].(string)
		if f["agent_name"] != "testagent" || f["version"] != "9.9.9" || f["protocol"] != 1.0 || !strings.HasPrefix(id, "ws-") {
			t.Fatalf("auth_ok = %v", f)
		}
	})
}

func TestNoTokenImplicitAuth(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gwOpts{})
	c := g.dial(t, nil)
	c.send(map[string]any{"type": "message", "text": "hello", "session_id": "s1"})
	f := c.read()
	want := map[string]any{"type": "response", "text": "echo: hello", "session_id": "s1", "attachments": []any{}, "model": "fake:m1"}
	if !reflect.DeepEqual(f, want) {
		t.Fatalf("response = %v, want %v", f, want)
	}
}

func TestResponseShapes(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gwOpts{})
	c, _ := g.auth(t, "", "shapes")

	c.send(map[string]any{"type": "message", "text": "status"})
	if f := c.read(); f["type"] != "status" || f["text"] != "Thinking..." || f["session_id"] != "default" {
		t.Fatalf("first status = %v", f)
	}
	if f := c.read(); f["type"] != "status" || !strings.HasPrefix(f["text"].(string), `{"tool":"vault__search"`) {
		t.Fatalf("tool status = %v", f)
	}
	c.readType("response")

	c.send(map[string]any{"type": "message", "text": "fail:model exploded", "session_id": "e"})
	if f := c.read(); f["type"] != "error" || f["text"] != "model exploded" || f["session_id"] != "e" {
		t.Fatalf("error = %v", f)
	}

	c.send(map[string]any{"type": "message", "text": "   "})
	c.expectNothing()
}

func TestMarkers(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gwOpts{})
	c, _ := g.auth(t, "", "")
	in := "Here's your report: [FILE:/tmp/report.pdf]\nAnd the chart: [IMAGE:/tmp/chart.png]\nVoice note: [VOICE:/tmp/note.mp3]\nVideo: [VIDEO:/tmp/clip.mp4]\nThat's it."
	c.send(map[string]any{"type": "message", "text": in})
	f := c.read()
	text := f["text"].(string)
	if strings.Contains(text, "[FILE:") || strings.Contains(text, "[IMAGE:") || !strings.HasSuffix(text, "That's it.") {
		t.Fatalf("text = %q", text)
	}
	atts := f["attachments"].([]any)
	want := [][3]string{{"file", "/tmp/report.pdf", "report.pdf"}, {"image", "/tmp/chart.png", "chart.png"}, {"voice", "/tmp/note.mp3", "note.mp3"}, {"video", "/tmp/clip.mp4", "clip.mp4"}}
	if len(atts) != len(want) {
		t.Fatalf("attachments = %v", atts)
	}
	for i, w := range want {
		a := atts[i].(map[string]any)
		if a["type"] != w[0] || a["path"] != w[1] || a["filename"] != w[2] {
			t.Errorf("attachment %d = %v, want %v", i, a, w)
		}
	}
}

func TestNoModelConfigured(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gwOpts{noAgent: true})
	c, _ := g.auth(t, "", "")
	c.send(map[string]any{"type": "message", "text": "hi", "session_id": "x"})
	f := c.read()
	want := "No model is configured: add a provider in Settings → Models or in openagent.yaml"
	if f["type"] != "error" || f["text"] != want || f["session_id"] != "x" {
		t.Fatalf("got %v, want error %q", f, want)
	}
}

func TestQueueAndLanes(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gwOpts{})
	c, _ := g.auth(t, "", "q")

	c.send(map[string]any{"type": "message", "text": "block 1", "session_id": "a"})
	<-g.agent.started
	c.send(map[string]any{"type": "message", "text": "block 2", "session_id": "a"})
	if f := c.read(); f["type"] != "queued" || f["position"] != 1.0 || f["session_id"] != "a" {
		t.Fatalf("second message = %v, want queued position 1 in session a", f)
	}
	// Another conversation of the same client runs in parallel: no queued frame.
	c.send(map[string]any{"type": "message", "text": "hello", "session_id": "b"})
	if f := c.read(); f["type"] != "response" || f["session_id"] != "b" {
		t.Fatalf("parallel session = %v, want its response", f)
	}
	// Fill lane a: 1 running + 1 pending; 19 more pending reach 20, the next is refused.
	for i := 0; i < 19; i++ {
		c.send(map[string]any{"type": "message", "text": fmt.Sprintf("block %d", i+3), "session_id": "a"})
		if f := c.read(); f["type"] != "queued" || f["position"] != float64(i+2) {
			t.Fatalf("message %d = %v, want queued position %d", i+3, f, i+2)
		}
	}
	c.send(map[string]any{"type": "message", "text": "block 22", "session_id": "a"})
	f := c.read()
	if f["type"] != "error" || f["text"] != "Too many messages queued. Please wait." || f["session_id"] != "a" {
		t.Fatalf("21st pending = %v, want queue-full error", f)
	}
	c.send(map[string]any{"type": "command", "name": "status"})
	if f := c.read(); f["text"] != "Busy | Queue: 20 | Sessions: 2" {
		t.Fatalf("status = %v", f)
	}
	c.send(map[string]any{"type": "command", "name": "queue"})
	if f := c.read(); f["text"] != "Queue depth: 20" {
		t.Fatalf("queue = %v", f)
	}
	// Scoped stop on another session cancels nothing.
	c.send(map[string]any{"type": "command", "name": "stop", "session_id": "b"})
	if f := c.read(); f["type"] != "command_result" || f["text"] != "Nothing running." {
		t.Fatalf("stop b = %v", f)
	}
	// Scoped stop on a: the running turn gets "Stopped.", the queue is dropped.
	start := time.Now()
	c.send(map[string]any{"type": "command", "name": "stop", "session_id": "a"})
	var gotErr, gotResult bool
	for !(gotErr && gotResult) {
		f := c.read()
		switch f["type"] {
		case "error":
			if f["text"] != "Stopped." || f["session_id"] != "a" {
				t.Fatalf("cancelled turn = %v", f)
			}
			gotErr = true
			t.Logf("stop → Stopped. in %v", time.Since(start))
		case "command_result":
			if f["text"] != "Stopped current operation. cleared 20 queued messages." {
				t.Fatalf("stop a = %v", f)
			}
			gotResult = true
		default:
			t.Fatalf("unexpected %v", f)
		}
	}
	select {
	case <-g.agent.cancelled:
	case <-time.After(readWait):
		t.Fatal("the agent's context was not cancelled")
	}
	c.expectNothing()
}

func TestUnscopedStopAndClear(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gwOpts{})
	c, _ := g.auth(t, "", "bridge:telegram")
	c.send(map[string]any{"type": "message", "text": "block x", "session_id": "tg:1"})
	<-g.agent.started
	c.send(map[string]any{"type": "message", "text": "block y", "session_id": "tg:1"})
	c.readType("queued")
	c.send(map[string]any{"type": "message", "text": "block z", "session_id": "tg:2"})
	<-g.agent.started

	c.send(map[string]any{"type": "command", "name": "clear"})
	errs, result := 0, ""
	for result == "" || errs < 2 {
		f := c.read()
		switch f["type"] {
		case "error":
			errs++
		case "command_result":
			result = f["text"].(string)
		}
	}
	low := strings.ToLower(result)
	if !strings.HasPrefix(result, "Stopped current operation. cleared 1 queued message. forgot 2 prior conversations. fresh session: ") {
		t.Fatalf("clear = %q", result)
	}
	if !strings.Contains(low, "fresh session") {
		t.Fatalf("clear = %q", result)
	}
	if got := g.agent.forgets(); len(got) != 2 {
		t.Fatalf("forgotten = %v, want tg:1 and tg:2", got)
	}

	// A brand-new client: nothing forgotten, just a fresh session.
	c2, _ := g.auth(t, "", "fresh-client")
	c2.send(map[string]any{"type": "command", "name": "new"})
	f := c2.read()
	txt := f["text"].(string)
	if !strings.HasPrefix(txt, "Fresh session: ") || strings.Contains(txt, "forgot") || len(txt) != len("Fresh session: 12345678.") {
		t.Fatalf("new on fresh client = %q", txt)
	}
	// Scoped new always forgets that session.
	c2.send(map[string]any{"type": "command", "name": "reset", "session_id": "s9"})
	if f := c2.read(); !strings.HasPrefix(f["text"].(string), "Forgot 1 prior conversation. fresh session: ") {
		t.Fatalf("scoped reset = %v", f)
	}
}

func TestCommands(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gwOpts{})
	c, _ := g.auth(t, "", "")
	cases := []struct{ name, want string }{
		{"status", "Idle | Queue: 0 | Sessions: 0"},
		{"queue", "Queue depth: 0"},
		{"stop", "Nothing running."},
		{"bogus", "Unknown command: bogus"},
		{"", "Unknown command: "},
		{"restart", "Restart failed: not supported by this process."},
		{"update", "Update failed: not supported yet: this build has no updater."},
		{"usage", "Usage is not available: usage tracking is not set up in this build."},
	}
	for _, tc := range cases {
		c.send(map[string]any{"type": "command", "name": tc.name})
		f := c.read()
		if f["type"] != "command_result" || f["text"] != tc.want {
			t.Errorf("/%s = %v, want %q", tc.name, f, tc.want)
		}
		if _, ok := f["session_id"]; ok {
			t.Errorf("/%s carries a session_id", tc.name)
		}
	}
	c.send(map[string]any{"type": "command", "name": "help"})
	f := c.read()
	if !strings.HasPrefix(f["text"].(string), "Available commands:\n• /new — start a fresh conversation") || strings.Contains(f["text"].(string), "/reset") {
		t.Fatalf("help = %q", f["text"])
	}
}

func TestRestartCommand(t *testing.T) {
	t.Parallel()
	restarted := make(chan struct{}, 1)
	g := startGateway(t, gwOpts{restart: func() { restarted <- struct{}{} }})
	c, _ := g.auth(t, "", "")
	c.send(map[string]any{"type": "command", "name": "restart"})
	if f := c.read(); f["text"] != "Restarting..." {
		t.Fatalf("restart = %v", f)
	}
	select {
	case <-restarted:
	case <-time.After(readWait):
		t.Fatal("Restart was not called")
	}
}

func TestHeldRepliesAfterReconnect(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gwOpts{})
	c, _ := g.auth(t, "", "phone")
	c.send(map[string]any{"type": "message", "text": "block slow", "session_id": "s"})
	<-g.agent.started
	c.c.Close() // drop without a goodbye; the turn keeps running

	// Wait until the gateway has noticed the drop.
	for i := 0; i < 100; i++ {
		var h struct {
			ConnectedClients int `json:"connected_clients"`
		}
		g.api(t, "GET", "/api/health", "", nil, &h)
		if h.ConnectedClients == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(g.agent.release) // the turn finishes while the client is away

	time.Sleep(50 * time.Millisecond)
	c2, _ := g.auth(t, "", "phone")
	f := c2.readType("response")
	if f["text"] != "released: block slow" || f["session_id"] != "s" {
		t.Fatalf("held reply = %v", f)
	}
}

func TestTakeover(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gwOpts{})
	old, _ := g.auth(t, "", "laptop")
	nw, _ := g.auth(t, "", "laptop")
	if code := old.closeCode(); code != 4001 {
		t.Fatalf("old connection closed with %d, want 4001", code)
	}
	nw.send(map[string]any{"type": "message", "text": "still here"})
	if f := nw.read(); f["text"] != "echo: still here" {
		t.Fatalf("new connection got %v", f)
	}
}

func TestBadFrames(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gwOpts{})
	c, _ := g.auth(t, "", "")
	cases := []struct {
		name string
		kind int
		data string
		want string
	}{
		{"invalid json", websocket.TextMessage, `{"type":`, "Invalid JSON"},
		{"array", websocket.TextMessage, `[]`, "frame must be a JSON object"},
		{"string", websocket.TextMessage, `"x"`, "frame must be a JSON object"},
		{"text not string", websocket.TextMessage, `{"type":"message","text":5}`, "field text must be a string, not number"},
		{"unknown type", websocket.TextMessage, `{"type":"dance"}`, "unknown message type: dance"},
		{"binary", websocket.BinaryMessage, `{"type":"ping"}`, "binary frames are not supported"},
		{"message without text", websocket.TextMessage, `{"type":"message"}`, "message needs a text field"},
	}
	for _, tc := range cases {
		c.sendRaw(tc.kind, []byte(tc.data))
		f := c.read()
		if f["type"] != "error" || f["text"] != tc.want {
			t.Errorf("%s: got %v, want error %q", tc.name, f, tc.want)
		}
	}
	c.expectNothing() // still open
}

func TestOversizedFrame(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gwOpts{})
	c, _ := g.auth(t, "", "")
	big := `{"type":"message","text":"` + strings.Repeat("a", 1<<20) + `"}`
	c.sendRaw(websocket.TextMessage, []byte(big))
	if code := c.closeCode(); code != websocket.CloseMessageTooBig {
		t.Fatalf("close code %d, want 1009", code)
	}
}

func TestOriginAndHost(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gwOpts{yaml: "channels:\n  websocket:\n    allowed_origins: [http://localhost:5173]\n"})

	_, resp, err := websocket.DefaultDialer.Dial(g.ws, http.Header{"Origin": {"http://evil.example"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign-origin upgrade: err=%v resp=%v, want 403", err, resp)
	}
	for _, origin := range []string{"http://localhost:5173", "wails://wails", g.url} {
		c, _, err := websocket.DefaultDialer.Dial(g.ws, http.Header{"Origin": {origin}})
		if err != nil {
			t.Fatalf("origin %s refused: %v", origin, err)
		}
		c.Close()
	}

	req, _ := http.NewRequest("GET", g.url+"/api/health", nil)
	req.Host = "attacker.example:80"
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("rebinding Host got %d, want 403", resp.StatusCode)
	}

	pre := func(origin string) *http.Response {
		req, _ := http.NewRequest("OPTIONS", g.url+"/api/config", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "PUT")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := pre("http://localhost:5173"); r.StatusCode != 204 || r.Header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" {
		t.Fatalf("allowed preflight: %d %v", r.StatusCode, r.Header)
	}
	if r := pre("http://evil.example"); r.StatusCode != 403 || r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("foreign preflight: %d %v", r.StatusCode, r.Header)
	}
	req, _ = http.NewRequest("GET", g.url+"/api/nothing-here", nil)
	req.Header.Set("Origin", "http://localhost:5173")
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got == "*" || got != "http://localhost:5173" {
		t.Fatalf("ACAO on 404 = %q", got)
	}
}

func TestResourceEventBroadcast(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gwOpts{})
	a, _ := g.auth(t, "", "a")
	b, _ := g.auth(t, "", "b")
	g.api(t, "PATCH", "/api/config/system_prompt", "", bytes.NewBufferString(`"be brief"`), nil)
	for _, c := range []*wsClient{a, b} {
		f := c.read()
		if f["type"] != "resource_event" || f["resource"] != "config" || f["action"] != "updated" || f["id"] != "system_prompt" {
			t.Fatalf("got %v, want resource_event config updated", f)
		}
	}
}

func TestShutdown(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gwOpts{})
	c, _ := g.auth(t, "", "")
	idle := g.dial(t, nil) // not authenticated: closed too
	c.send(map[string]any{"type": "message", "text": "block forever", "session_id": "s"})
	<-g.agent.started
	c.send(map[string]any{"type": "message", "text": "block queued", "session_id": "s"})
	c.readType("queued")

	start := time.Now()
	g.cancel()
	for i := 0; i < 2; i++ {
		f := c.read()
		if f["type"] != "error" || f["text"] != "The agent is shutting down; send your message again once it is back." {
			t.Fatalf("turn %d got %v, want the shutdown error", i, f)
		}
	}
	if code := c.closeCode(); code != websocket.CloseGoingAway {
		t.Fatalf("close code %d, want 1001", code)
	}
	if code := idle.closeCode(); code != websocket.CloseGoingAway {
		t.Fatalf("unauthenticated close code %d, want 1001", code)
	}
	select {
	case err := <-g.served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
		g.served <- nil // for the cleanup
	case <-time.After(2 * time.Second):
		t.Fatal("Serve did not return within 2 s")
	}
	t.Logf("shutdown took %v", time.Since(start))
}
