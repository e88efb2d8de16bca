package app

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"openagent/internal/config"
	"openagent/internal/llm/llmtest"
)

// e2eWait bounds every read of the end-to-end test.
const e2eWait = 10 * time.Second

func e2ePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestAgentEndToEnd: the real gateway (as `openagent serve` runs it) with
// providers.openai.base_url pointing at a fake OpenAI server answers a
// WebSocket message with a response from openai:gpt-test; /api/usage shows
// the call; after a restart the session's history is still sent.
func TestAgentEndToEnd(t *testing.T) {
	fake := llmtest.New(t, llmtest.Text(10, 5, "Hello ", "from the fake."), llmtest.Text(40, 3, "Still here."))
	dir := t.TempDir()
	yaml := fmt.Sprintf(`name: e2e
model: {provider: openai, model_id: gpt-test, monthly_budget: 10}
providers:
  openai:
    api_key: sk-e2e
    base_url: %s
    models: [{id: gpt-test, input_cost_per_million: 1, output_cost_per_million: 2}]
`, fake.OpenAIBaseURL())
	if err := os.WriteFile(filepath.Join(dir, config.FileName), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	port := e2ePort(t)
	g := NewGateway(Options{Dir: dir, Port: port})
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Stop)
	base := fmt.Sprintf("127.0.0.1:%d", g.State().Port)

	turn := func(text string) (statuses []string, resp map[string]any) {
		t.Helper()
		write, read := e2eConn(t, base, "e2e")
		write(map[string]any{"type": "message", "text": text, "session_id": "e2e-session"})
		for {
			f := read()
			switch f["type"] {
			case "status":
				statuses = append(statuses, f["text"].(string))
			case "response":
				return statuses, f
			case "error":
				t.Fatalf("turn error: %v", f)
			}
		}
	}

	st, resp := turn("hi there")
	if resp["model"] != "openai:gpt-test" || resp["text"] != "Hello from the fake." || resp["session_id"] != "e2e-session" {
		t.Errorf("response = %v", resp)
	}
	if len(st) == 0 || st[0] != "Thinking..." {
		t.Errorf("statuses = %q", st)
	}
	if auth := fake.Requests()[0].Header.Get("Authorization"); auth != "Bearer sk-e2e" {
		t.Errorf("Authorization = %q", auth)
	}

	var usage struct {
		MonthlySpend float64            `json:"monthly_spend"`
		ByModel      map[string]float64 `json:"by_model"`
		Calls        int                `json:"calls"`
	}
	e2eGetJSON(t, "http://"+base+"/api/usage", &usage)
	if want := (10*1.0 + 5*2.0) / 1e6; usage.Calls != 1 || usage.ByModel["openai:gpt-test"] != want || usage.MonthlySpend != want {
		t.Errorf("usage = %+v, want one call costing %v", usage, want)
	}

	// History survives a restart of the gateway (same SQLite file).
	if err := g.Restart(); err != nil {
		t.Fatal(err)
	}
	base = fmt.Sprintf("127.0.0.1:%d", g.State().Port)
	if _, resp := turn("and now?"); resp["text"] != "Still here." {
		t.Errorf("second response = %v", resp)
	}
	body := string(fake.Requests()[1].Raw)
	if !strings.Contains(body, "hi there") || !strings.Contains(body, "Hello from the fake.") {
		t.Errorf("history lost across restart: %s", body)
	}
}

func e2eGetJSON(t *testing.T, url string, out any) {
	t.Helper()
	c := &http.Client{Timeout: e2eWait}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d %s", url, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

// TestAgentStopEndToEnd: /stop over the WebSocket cancels the running turn,
// the client gets "Stopped.", and the provider sees its stream closed.
func TestAgentStopEndToEnd(t *testing.T) {
	fake := llmtest.New(t, llmtest.Reply{Chunks: []string{"slow ", "answer"}, Hang: true})
	dir := t.TempDir()
	yaml := fmt.Sprintf("model: {provider: openai, model_id: gpt-test}\nproviders:\n  openai: {api_key: k, base_url: %s}\n", fake.OpenAIBaseURL())
	if err := os.WriteFile(filepath.Join(dir, config.FileName), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	g := NewGateway(Options{Dir: dir, Port: e2ePort(t)})
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Stop)
	write, read := e2eConn(t, fmt.Sprintf("127.0.0.1:%d", g.State().Port), "")
	write(map[string]any{"type": "message", "text": "tell me a long story", "session_id": "s"})
	for f := read(); f["type"] != "status" || f["text"] != "Thinking..."; f = read() {
		if f["type"] == "response" || f["type"] == "error" {
			t.Fatalf("frame before Thinking... = %v", f)
		}
	}
	for len(fake.Requests()) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	write(map[string]any{"type": "command", "name": "stop", "session_id": "s"})
	sawStopped := false
	for !sawStopped {
		f := read()
		if f["type"] == "error" && f["text"] == "Stopped." {
			sawStopped = true
		}
		if f["type"] == "response" {
			t.Fatalf("got a response after stop: %v", f)
		}
	}
	select {
	case <-fake.Closed:
	case <-time.After(e2eWait):
		t.Fatal("the provider stream was not closed by /stop")
	}
}
