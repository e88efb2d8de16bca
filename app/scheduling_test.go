package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"openagent/internal/config"
	"openagent/internal/llm/llmtest"
)

// TestScheduledTaskEndToEnd: a due task created over REST runs as a turn of
// the real agent against a fake OpenAI server, and its run records the
// model, the reply and the cost the agent logged for the run's session.
func TestScheduledTaskEndToEnd(t *testing.T) {
	fake := llmtest.New(t, llmtest.Text(10, 5, "Inbox: ", "3 new notes."))
	dir := t.TempDir()
	yaml := fmt.Sprintf(`name: sched
model: {provider: openai, model_id: gpt-test}
providers:
  openai:
    api_key: sk-e2e
    base_url: %s
    models: [{id: gpt-test, input_cost_per_million: 1, output_cost_per_million: 2}]
`, fake.OpenAIBaseURL())
	if err := os.WriteFile(filepath.Join(dir, config.FileName), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	g := NewGateway(Options{Dir: dir, Port: e2ePort(t)})
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Stop)
	base := fmt.Sprintf("http://127.0.0.1:%d", g.State().Port)

	body, _ := json.Marshal(map[string]string{"name": "inbox", "prompt": "summarise my inbox notes",
		"cron_expression": "@once:" + strconv.FormatInt(time.Now().Unix()-1, 10)})
	resp, err := http.Post(base+"/api/scheduled-tasks", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var task struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&task)
	resp.Body.Close()
	if resp.StatusCode != 201 || task.ID == "" {
		t.Fatalf("POST /api/scheduled-tasks = %d", resp.StatusCode)
	}
	type run struct {
		SessionID    string   `json:"session_id"`
		Status       string   `json:"status"`
		Model        string   `json:"model"`
		Cost         float64  `json:"cost"`
		ReplyExcerpt string   `json:"reply_excerpt"`
		Error        string   `json:"error"`
		FinishedAt   *float64 `json:"finished_at"`
	}
	var runs struct{ Runs []run }
	deadline := time.Now().Add(e2eWait)
	for time.Now().Before(deadline) {
		e2eGetJSON(t, base+"/api/scheduled-tasks/"+task.ID+"/runs", &runs)
		if len(runs.Runs) > 0 && runs.Runs[0].FinishedAt != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(runs.Runs) != 1 {
		t.Fatalf("runs = %+v, want one finished run", runs.Runs)
	}
	r := runs.Runs[0]
	if want := (10*1.0 + 5*2.0) / 1e6; r.Status != "ok" || r.Model != "openai:gpt-test" || r.ReplyExcerpt != "Inbox: 3 new notes." || r.Cost != want {
		t.Errorf("run = %+v, want ok by openai:gpt-test costing %v", r, want)
	}
	if want := "scheduler:" + task.ID + ":"; len(r.SessionID) <= len(want) || r.SessionID[:len(want)] != want {
		t.Errorf("session = %q, want %s<run id>", r.SessionID, want)
	}
}
