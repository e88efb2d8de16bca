package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"openagent/internal/config"
	"openagent/internal/llm"
	"openagent/internal/llm/llmtest"
)

// TestMCPVaultToolEndToEnd: the real gateway with a fake OpenAI server that
// asks for vault__search. The builtin vault MCP server (in process, over the
// SDK's in-memory transport) searches the real vault, the model gets the
// result in its next request, and the WebSocket client sees the JSON tool
// status events, running then done.
func TestMCPVaultToolEndToEnd(t *testing.T) {
	fake := llmtest.New(t,
		llmtest.Reply{ToolCalls: []llm.ToolCall{{ID: "call_1", Name: "vault__search", Args: json.RawMessage(`{"query":"launch date"}`)}}},
		llmtest.Text(30, 6, "The launch is on June 3."))
	dir := t.TempDir()
	yaml := fmt.Sprintf("name: e2e\nmodel: {provider: openai, model_id: gpt-test}\nproviders:\n  openai: {api_key: sk-e2e, base_url: %s}\n", fake.OpenAIBaseURL())
	if err := os.WriteFile(filepath.Join(dir, config.FileName), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	notes := filepath.Join(dir, "memories", "projects")
	os.MkdirAll(notes, 0o755)
	if err := os.WriteFile(filepath.Join(notes, "alpha.md"), []byte("# Project Alpha\nThe launch date is June 3, after the audit.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	g := NewGateway(Options{Dir: dir, Port: e2ePort(t)})
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Stop)
	base := fmt.Sprintf("127.0.0.1:%d", g.State().Port)

	// Wait for the vault's first index and the vault MCP server.
	e2ePoll(t, "the vault index", func() bool {
		var res struct {
			Results []struct {
				Path string `json:"path"`
			} `json:"results"`
		}
		return e2eTryJSON("http://"+base+"/api/vault/search?q=launch", &res) && len(res.Results) > 0
	})
	e2ePoll(t, "the vault MCP server", func() bool {
		var row struct {
			MCP struct {
				Status string `json:"status"`
				Tools  int    `json:"tools"`
			} `json:"mcp"`
		}
		return e2eTryJSON("http://"+base+"/api/mcps/vault", &row) && row.MCP.Status == "connected" && row.MCP.Tools > 0
	})

	write, read := e2eConn(t, base, "e2e")
	write(map[string]any{"type": "message", "text": "When is the Alpha launch?", "session_id": "mcp-e2e"})
	type toolEvent struct {
		Tool   string          `json:"tool"`
		Status string          `json:"status"`
		Params json.RawMessage `json:"params"`
		Result string          `json:"result"`
		Error  string          `json:"error"`
	}
	var events []toolEvent
	var resp map[string]any
	for resp == nil {
		f := read()
		switch f["type"] {
		case "status":
			var ev toolEvent
			if json.Unmarshal([]byte(f["text"].(string)), &ev) == nil && ev.Tool != "" {
				events = append(events, ev)
			}
		case "response":
			resp = f
		case "error":
			t.Fatalf("turn error: %v", f)
		}
	}
	if resp["text"] != "The launch is on June 3." {
		t.Errorf("response = %v", resp)
	}
	if len(events) != 2 || events[0].Tool != "vault__search" || events[0].Status != "running" || events[1].Status != "done" {
		t.Fatalf("tool events = %+v, want vault__search running then done", events)
	}
	if !strings.Contains(string(events[0].Params), "launch date") || !strings.Contains(events[1].Result, "projects/alpha.md") {
		t.Errorf("tool events = %+v, want the params and a short result naming the note", events)
	}

	reqs := fake.Requests()
	if len(reqs) != 2 {
		t.Fatalf("model requests = %d, want 2", len(reqs))
	}
	// The first request offered the vault tools with their schemas.
	first := string(reqs[0].Raw)
	if !strings.Contains(first, `"vault__search"`) || !strings.Contains(first, `"query"`) {
		t.Errorf("first request offers no vault__search tool: %s", first)
	}
	// The second carries the real search result back as the tool's answer.
	var second struct {
		Messages []struct {
			Role       string `json:"role"`
			Content    any    `json:"content"`
			ToolCallID string `json:"tool_call_id"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(reqs[1].Raw, &second); err != nil {
		t.Fatal(err)
	}
	var toolMsg string
	for _, m := range second.Messages {
		if m.Role == "tool" && m.ToolCallID == "call_1" {
			b, _ := json.Marshal(m.Content)
			toolMsg = string(b)
		}
	}
	if !strings.Contains(toolMsg, "projects/alpha.md") || !strings.Contains(toolMsg, "June 3") {
		t.Errorf("tool result sent to the model = %q, want the vault hit", toolMsg)
	}
}

func e2eTryJSON(url string, out any) bool {
	c := &http.Client{Timeout: e2eWait}
	resp, err := c.Get(url)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	return resp.StatusCode == 200 && json.NewDecoder(resp.Body).Decode(out) == nil
}

func e2ePoll(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(e2eWait)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", e2eWait, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}
