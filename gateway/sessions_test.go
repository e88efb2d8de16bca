package gateway_test

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"

	"openagent/internal/agent"
	"openagent/internal/llm"
	"openagent/internal/llm/llmtest"
)

// TestSessionsREST: conversations the agent stored are listed, read back as
// their clients showed them (the user's words with the files they named,
// answers with their attachments and tools), and deleted.
func TestSessionsREST(t *testing.T) {
	g := startRuntime(t, runtimeYAML)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	g.llm.Push(
		llmtest.Reply{ToolCalls: []llm.ToolCall{{ID: "c1", Name: "clock__now", Args: json.RawMessage(`{"tz":"UTC"}`)}}},
		llmtest.Text(10, 3, "It is noon. [IMAGE:/tmp/chart.png]"),
	)
	if _, err := g.agent.Run(ctx, agent.Turn{SessionID: "s-1", Channel: "websocket",
		Text: "The user attached a file:\n- image: cat.png — server path: /a/uploads/cat.png\nUse the Read tool to inspect it.\n\nUser message: what time is it?"}, nil); err != nil {
		t.Fatal(err)
	}
	g.llm.Push(llmtest.Text(5, 1, "Hi."))
	if _, err := g.agent.Run(ctx, agent.Turn{SessionID: "s 2", Channel: "websocket", Text: "hello"}, nil); err != nil {
		t.Fatal(err)
	}

	var list struct {
		Sessions []struct {
			ID        string  `json:"id"`
			Title     string  `json:"title"`
			Messages  int     `json:"messages"`
			CreatedAt float64 `json:"created_at"`
			UpdatedAt float64 `json:"updated_at"`
		} `json:"sessions"`
	}
	if code := g.call(t, http.MethodGet, "/api/sessions", nil, &list); code != 200 {
		t.Fatalf("GET /api/sessions = %d", code)
	}
	if len(list.Sessions) != 2 || list.Sessions[0].ID != "s 2" || list.Sessions[1].ID != "s-1" {
		t.Fatalf("sessions = %+v, want s 2 then s-1", list.Sessions)
	}
	s1 := list.Sessions[1]
	if s1.Title != "what time is it?" || s1.Messages != 2 || s1.CreatedAt <= 0 || s1.UpdatedAt < s1.CreatedAt {
		t.Errorf("s-1 = %+v, want the user's words as title and 2 messages", s1)
	}

	var got map[string]any
	if code := g.call(t, http.MethodGet, "/api/sessions/s-1", nil, &got); code != 200 {
		t.Fatalf("GET /api/sessions/s-1 = %d", code)
	}
	msgs := got["messages"].([]any)
	for _, m := range msgs {
		delete(m.(map[string]any), "created_at")
	}
	want := []any{
		map[string]any{"role": "user", "text": "what time is it?",
			"attachments": []any{map[string]any{"type": "image", "path": "/a/uploads/cat.png", "filename": "cat.png"}}},
		map[string]any{"role": "assistant", "text": "It is noon.", "model": "openai:gpt-4o-mini",
			"attachments": []any{map[string]any{"type": "image", "path": "/tmp/chart.png", "filename": "chart.png"}},
			"tools":       []any{map[string]any{"tool": "clock__now", "status": "error", "params": map[string]any{"tz": "UTC"}, "error": "error: no tools are available"}}},
	}
	if got["id"] != "s-1" || !reflect.DeepEqual(msgs, want) {
		b, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Errorf("transcript = %s\nwant messages %s", b, w)
	}
	if code := g.call(t, http.MethodGet, "/api/sessions/s%202", nil, &got); code != 200 || len(got["messages"].([]any)) != 2 {
		t.Errorf("GET /api/sessions/s%%202 = %d %v", code, got)
	}

	var e map[string]any
	if code := g.call(t, http.MethodGet, "/api/sessions/nope", nil, &e); code != 404 || e["error"] != "no conversation with id nope" {
		t.Errorf("unknown session = %d %v, want 404 with a message", code, e)
	}
	if code := g.call(t, http.MethodDelete, "/api/sessions/s-1", nil, &e); code != 200 {
		t.Errorf("DELETE = %d %v", code, e)
	}
	if code := g.call(t, http.MethodGet, "/api/sessions/s-1", nil, &e); code != 404 {
		t.Errorf("deleted session = %d, want 404", code)
	}
	g.call(t, http.MethodGet, "/api/sessions", nil, &list)
	if len(list.Sessions) != 1 || list.Sessions[0].ID != "s 2" {
		t.Errorf("after delete sessions = %+v", list.Sessions)
	}
}
