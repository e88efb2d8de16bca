package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"openagent/internal/agent"
	"openagent/internal/config"
	"openagent/internal/llm"
	"openagent/internal/llm/llmtest"
	"openagent/internal/store"
	"openagent/internal/usage"
)

// env is an agent over a real SQLite file and a fake provider server.
type env struct {
	dir      string
	srv      *llmtest.Server
	settings *config.File
	db       *store.DB
	usage    *usage.Log
	agent    *agent.Agent
	tools    *memTools
}

// newEnv writes openagent.yaml (with {{URL}}/{{OPENAI}} replaced by the fake
// server's base URLs) and builds an agent.
func newEnv(t testing.TB, yaml string, replies ...llmtest.Reply) *env {
	t.Helper()
	e := &env{dir: t.TempDir(), srv: llmtest.New(t, replies...), tools: newMemTools()}
	yaml = strings.NewReplacer("{{OPENAI}}", e.srv.OpenAIBaseURL(), "{{URL}}", e.srv.URL).Replace(yaml)
	if err := os.WriteFile(filepath.Join(e.dir, config.FileName), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var err error
	if e.settings, err = config.Open(filepath.Join(e.dir, config.FileName)); err != nil {
		t.Fatal(err)
	}
	e.open(t)
	return e
}

// open (re)opens the database file and builds a fresh agent over it, as a
// restart of the gateway does.
func (e *env) open(t testing.TB) {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(e.dir, "openagent.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e.db = db
	e.usage = usage.New(db, e.settings)
	e.agent, err = agent.New(agent.Config{Settings: e.settings, DB: db, Usage: e.usage, ImageDir: filepath.Join(e.dir, "uploads")})
	if err != nil {
		t.Fatal(err)
	}
	e.agent.SetTools(e.tools)
}

// statuses collects status lines.
type statuses struct {
	mu    sync.Mutex
	lines []string
}

func (s *statuses) add(l string) { s.mu.Lock(); s.lines = append(s.lines, l); s.mu.Unlock() }
func (s *statuses) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
}
func (s *statuses) has(sub string) bool {
	for _, l := range s.all() {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

// memTools is a small in-memory tool registry.
type memTools struct {
	mu    sync.Mutex
	calls []string
	fns   map[string]func(ctx context.Context, args json.RawMessage) (string, error)
}

func newMemTools() *memTools {
	return &memTools{fns: map[string]func(context.Context, json.RawMessage) (string, error){
		"clock__now": func(_ context.Context, args json.RawMessage) (string, error) {
			var a struct{ TZ string }
			json.Unmarshal(args, &a)
			return "12:00 " + a.TZ, nil
		},
		"disk__fail": func(context.Context, json.RawMessage) (string, error) {
			return "", errors.New("disk is full")
		},
		"slow__wait": func(ctx context.Context, _ json.RawMessage) (string, error) {
			<-ctx.Done()
			return "", ctx.Err()
		},
	}}
}

func (m *memTools) List(context.Context) []agent.Tool {
	var out []agent.Tool
	for _, n := range []string{"clock__now", "disk__fail", "slow__wait"} {
		out = append(out, agent.Tool{Name: n, Description: "test tool " + n, InputSchema: json.RawMessage(`{"type":"object","properties":{"tz":{"type":"string"}}}`)})
	}
	return out
}

func (m *memTools) Call(ctx context.Context, name string, args json.RawMessage) (string, error) {
	m.mu.Lock()
	m.calls = append(m.calls, name+" "+string(args))
	fn := m.fns[name]
	m.mu.Unlock()
	if fn == nil {
		return "", fmt.Errorf("unknown tool %q", name)
	}
	return fn(ctx, args)
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func yamlFor(typ string) string {
	switch typ {
	case "anthropic":
		return "model: {provider: anthropic, model_id: claude-haiku-4-5}\nproviders:\n  anthropic: {api_key: k, base_url: '{{URL}}'}\n"
	case "google":
		return "model: {provider: google, model_id: gemini-2.5-flash}\nproviders:\n  google: {api_key: k, base_url: '{{URL}}'}\n"
	}
	return "model: {provider: openai, model_id: gpt-4o-mini}\nproviders:\n  openai: {api_key: k, base_url: '{{OPENAI}}'}\n"
}

type usageRow struct {
	model, session  string
	in, out, cached int64
	cost            float64
	estimated       bool
}

func usageRows(t testing.TB, db *store.DB) []usageRow {
	t.Helper()
	rows, err := db.Query(`SELECT model, COALESCE(session_id, ''), input_tokens, output_tokens, cached_tokens, cost, estimated FROM usage_log ORDER BY timestamp`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []usageRow
	for rows.Next() {
		var r usageRow
		if err := rows.Scan(&r.model, &r.session, &r.in, &r.out, &r.cached, &r.cost, &r.estimated); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func TestToolRoundTrip(t *testing.T) {
	for _, typ := range []string{"openai", "anthropic", "google"} {
		t.Run(typ, func(t *testing.T) {
			call := llm.ToolCall{ID: "call_1", Name: "clock__now", Args: json.RawMessage(`{"tz":"UTC"}`)}
			e := newEnv(t, yamlFor(typ),
				llmtest.Reply{ToolCalls: []llm.ToolCall{call}, Usage: &llm.Usage{InputTokens: 100, OutputTokens: 20, Reported: true}},
				llmtest.Text(150, 10, "It is ", "noon."))
			var st statuses
			r, err := e.agent.Run(ctxT(t), agent.Turn{ClientID: "c", SessionID: "s1", Channel: "websocket", Text: "time?"}, st.add)
			if err != nil {
				t.Fatal(err)
			}
			model := map[string]string{"openai": "openai:gpt-4o-mini", "anthropic": "anthropic:claude-haiku-4-5", "google": "google:gemini-2.5-flash"}[typ]
			if r.Text != "It is noon." || r.Model != model {
				t.Errorf("reply = %+v, want It is noon. from %s", r, model)
			}
			want := []string{
				"Thinking...",
				`{"tool":"clock__now","status":"running","params":{"tz":"UTC"}}`,
				`{"tool":"clock__now","status":"done","result":"12:00 UTC"}`,
			}
			if got := st.all(); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("statuses:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			rows := usageRows(t, e.db)
			if len(rows) != 2 {
				t.Fatalf("usage rows = %+v, want 2", rows)
			}
			prov, mid, _ := strings.Cut(model, ":")
			pr, _ := e.usage.Price(prov, mid)
			if rows[0].in != 100 || rows[0].out != 20 || rows[1].in != 150 || rows[0].session != "s1" || rows[0].model != model || rows[0].estimated {
				t.Errorf("rows = %+v", rows)
			}
			if want := usage.Cost(pr, 150, 10, 0); rows[1].cost != want || want == 0 {
				t.Errorf("cost = %v, want %v", rows[1].cost, want)
			}
		})
	}
}

// TestHistorySurvivesRestart: the second turn, after reopening the same
// database file with a new agent, sends the first turn (tool call and
// result included) to the model.
func TestHistorySurvivesRestart(t *testing.T) {
	call := llm.ToolCall{ID: "call_7", Name: "clock__now", Args: json.RawMessage(`{"tz":"CET"}`)}
	e := newEnv(t, yamlFor("openai"),
		llmtest.Reply{ToolCalls: []llm.ToolCall{call}},
		llmtest.Text(1, 1, "first answer"),
		llmtest.Text(1, 1, "second answer"),
		llmtest.Text(1, 1, "fresh"))
	if _, err := e.agent.Run(ctxT(t), agent.Turn{SessionID: "s", Channel: "websocket", Text: "remember PINEAPPLE"}, nil); err != nil {
		t.Fatal(err)
	}
	e.db.Close()
	e.open(t)
	if _, err := e.agent.Run(ctxT(t), agent.Turn{SessionID: "s", Channel: "websocket", Text: "what fruit?"}, nil); err != nil {
		t.Fatal(err)
	}
	reqs := e.srv.Requests()
	body := string(reqs[2].Raw)
	for _, want := range []string{"remember PINEAPPLE", "first answer", `"tool_call_id":"call_7"`, "12:00 CET", "what fruit?"} {
		if !strings.Contains(body, want) {
			t.Errorf("third request lacks %q: %s", want, body)
		}
	}
	// Forget erases it.
	if err := e.agent.Forget(ctxT(t), "s"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.agent.Run(ctxT(t), agent.Turn{SessionID: "s", Channel: "websocket", Text: "hello again"}, nil); err != nil {
		t.Fatal(err)
	}
	if body := string(e.srv.Requests()[3].Raw); strings.Contains(body, "PINEAPPLE") {
		t.Errorf("history survived Forget: %s", body)
	}
}

func TestSessionsAreSeparate(t *testing.T) {
	e := newEnv(t, yamlFor("openai"), llmtest.Text(1, 1, "a"), llmtest.Text(1, 1, "b"))
	e.agent.Run(ctxT(t), agent.Turn{SessionID: "A", Channel: "websocket", Text: "secret TAG-A"}, nil)
	e.agent.Run(ctxT(t), agent.Turn{SessionID: "B", Channel: "websocket", Text: "tag?"}, nil)
	if body := string(e.srv.Requests()[1].Raw); strings.Contains(body, "TAG-A") {
		t.Errorf("session B saw session A: %s", body)
	}
}

// TestStopMidStream: cancelling the turn closes the provider's HTTP stream,
// returns at once, and still records the call (estimated).
func TestStopMidStream(t *testing.T) {
	e := newEnv(t, yamlFor("anthropic"), llmtest.Reply{Chunks: []string{"partial ", "never"}, Hang: true})
	ctx, cancel := context.WithCancel(ctxT(t))
	done := make(chan error, 1)
	go func() {
		_, err := e.agent.Run(ctx, agent.Turn{SessionID: "s", Channel: "websocket", Text: "long story"}, nil)
		done <- err
	}()
	for len(e.srv.Requests()) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	select {
	case <-e.srv.Closed:
	case <-time.After(10 * time.Second):
		t.Fatal("provider never saw the stream close")
	}
	rows := usageRows(t, e.db)
	if len(rows) != 1 || !rows[0].estimated || rows[0].in == 0 {
		t.Errorf("usage rows after stop = %+v, want one estimated row", rows)
	}
}

// TestStopDuringTool: cancellation reaches a running tool call.
func TestStopDuringTool(t *testing.T) {
	e := newEnv(t, yamlFor("openai"), llmtest.Reply{ToolCalls: []llm.ToolCall{{ID: "c1", Name: "slow__wait", Args: json.RawMessage(`{}`)}}})
	ctx, cancel := context.WithCancel(ctxT(t))
	var st statuses
	done := make(chan error, 1)
	go func() {
		_, err := e.agent.Run(ctx, agent.Turn{SessionID: "s", Channel: "websocket", Text: "wait"}, st.add)
		done <- err
	}()
	for !st.has(`"status":"running"`) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if !st.has(`{"tool":"slow__wait","status":"error","error":"context canceled"}`) {
		t.Errorf("statuses = %q", st.all())
	}
}

func TestToolErrorGoesBackToModel(t *testing.T) {
	e := newEnv(t, yamlFor("openai"),
		llmtest.Reply{ToolCalls: []llm.ToolCall{{ID: "c1", Name: "disk__fail", Args: json.RawMessage(`{}`)}, {ID: "c2", Name: "nope__x", Args: json.RawMessage(`{}`)}}},
		llmtest.Text(1, 1, "sorry"))
	var st statuses
	r, err := e.agent.Run(ctxT(t), agent.Turn{SessionID: "s", Channel: "websocket", Text: "save"}, st.add)
	if err != nil || r.Text != "sorry" {
		t.Fatalf("Run = %+v, %v", r, err)
	}
	if !st.has(`{"tool":"disk__fail","status":"error","error":"disk is full"}`) || !st.has(`{"tool":"nope__x","status":"error","error":"unknown tool \"nope__x\""}`) {
		t.Errorf("statuses = %q", st.all())
	}
	if body := string(e.srv.Requests()[1].Raw); !strings.Contains(body, "error: disk is full") {
		t.Errorf("tool error not sent back: %s", body)
	}
}

func TestMaxIterations(t *testing.T) {
	e := newEnv(t, yamlFor("openai"))
	e.settings.SetValue(3, "model", "max_iterations")
	e.srv.Always(llmtest.Reply{ToolCalls: []llm.ToolCall{{ID: "c", Name: "clock__now", Args: json.RawMessage(`{}`)}}})
	_, err := e.agent.Run(ctxT(t), agent.Turn{SessionID: "s", Channel: "websocket", Text: "loop"}, nil)
	if err == nil || !strings.Contains(err.Error(), "after 3 rounds") {
		t.Fatalf("err = %v, want a bound after 3 rounds", err)
	}
	if n := len(e.srv.Requests()); n != 3 {
		t.Errorf("model calls = %d, want 3", n)
	}
}

func TestEstimatedUsageWhenNotReported(t *testing.T) {
	e := newEnv(t, yamlFor("google"), llmtest.Reply{Chunks: []string{"twelve chars"}})
	if _, err := e.agent.Run(ctxT(t), agent.Turn{SessionID: "s", Channel: "websocket", Text: "hello there"}, nil); err != nil {
		t.Fatal(err)
	}
	rows := usageRows(t, e.db)
	if len(rows) != 1 || !rows[0].estimated || rows[0].in <= 0 || rows[0].out != 3 || rows[0].cost <= 0 {
		t.Errorf("rows = %+v, want one estimated row with 3 output tokens and a cost", rows)
	}
}

func TestNoModel(t *testing.T) {
	e := newEnv(t, "name: x\n")
	_, err := e.agent.Run(ctxT(t), agent.Turn{SessionID: "s", Channel: "websocket", Text: "hi"}, nil)
	if !errors.Is(err, agent.ErrNoModel) {
		t.Fatalf("err = %v, want ErrNoModel", err)
	}
}

func TestChannelOverride(t *testing.T) {
	e := newEnv(t, yamlFor("openai")+"  fast: {type: openai, base_url: '{{OPENAI}}'}\nchannels:\n  telegram: {model: 'fast:tiny-1'}\n",
		llmtest.Text(1, 1, "from tiny"), llmtest.Text(1, 1, "from default"))
	r, err := e.agent.Run(ctxT(t), agent.Turn{ClientID: "bridge:telegram", SessionID: "tg:1", Channel: "telegram", Text: "hi"}, nil)
	if err != nil || r.Model != "fast:tiny-1" {
		t.Fatalf("telegram turn = %+v, %v; want fast:tiny-1", r, err)
	}
	if m := e.srv.Requests()[0].Body["model"]; m != "tiny-1" {
		t.Errorf("model sent = %v", m)
	}
	r, _ = e.agent.Run(ctxT(t), agent.Turn{SessionID: "w", Channel: "websocket", Text: "hi"}, nil)
	if r.Model != "openai:gpt-4o-mini" {
		t.Errorf("websocket turn model = %q", r.Model)
	}
}

func TestProviderErrorIsActionable(t *testing.T) {
	e := newEnv(t, yamlFor("openai"), llmtest.OpenAIError(401, "invalid_request_error", "invalid_api_key", "Incorrect API key provided"))
	_, err := e.agent.Run(ctxT(t), agent.Turn{SessionID: "s", Channel: "websocket", Text: "hi"}, nil)
	if llm.KindOf(err) != llm.KindAuth || !strings.Contains(err.Error(), "providers.openai.api_key") {
		t.Fatalf("err = %v", err)
	}
	if rows := usageRows(t, e.db); len(rows) != 0 {
		t.Errorf("a rejected call was billed: %+v", rows)
	}
}

func TestBudget(t *testing.T) {
	const y = "model: {provider: openai, model_id: gpt-4o, monthly_budget: 1}\nproviders:\n  openai: {api_key: k, base_url: '{{OPENAI}}'}\n"
	ctx := ctxT(t)
	t.Run("refused at 100 percent", func(t *testing.T) {
		e := newEnv(t, y)
		e.usage.Record(ctx, usage.Entry{Provider: "openai", ModelID: "gpt-4o", InputTokens: 400_000}) // $1.00
		_, err := e.agent.Run(ctx, agent.Turn{SessionID: "s", Channel: "websocket", Text: "hi"}, nil)
		var be *agent.BudgetError
		if !errors.As(err, &be) || !strings.Contains(err.Error(), "$1.00 spent of the $1.00 budget") {
			t.Fatalf("err = %v, want a budget refusal naming spend and budget", err)
		}
		if len(e.srv.Requests()) != 0 {
			t.Error("the provider was called despite the refusal")
		}
	})
	t.Run("warn only", func(t *testing.T) {
		e := newEnv(t, strings.Replace(y, "monthly_budget: 1", "monthly_budget: 1, budget_warn_only: true", 1), llmtest.Text(1, 1, "ok"))
		e.usage.Record(ctx, usage.Entry{Provider: "openai", ModelID: "gpt-4o", InputTokens: 500_000})
		var st statuses
		if _, err := e.agent.Run(ctx, agent.Turn{SessionID: "s", Channel: "websocket", Text: "hi"}, st.add); err != nil {
			t.Fatal(err)
		}
		if !st.has("Budget exceeded: $1.25 of the $1.00 monthly budget") {
			t.Errorf("statuses = %q", st.all())
		}
	})
	t.Run("warning at 80 percent", func(t *testing.T) {
		e := newEnv(t, y, llmtest.Text(1000, 100, "ok"))
		e.usage.Record(ctx, usage.Entry{Provider: "openai", ModelID: "gpt-4o", InputTokens: 320_000}) // $0.80
		var st statuses
		if _, err := e.agent.Run(ctx, agent.Turn{SessionID: "s", Channel: "websocket", Text: "hi"}, st.add); err != nil {
			t.Fatal(err)
		}
		if !st.has("Budget warning: $0.80 of the $1.00 monthly budget spent (80 %)") {
			t.Errorf("statuses = %q", st.all())
		}
	})
}

// TestTrim: a long history is trimmed oldest-first to fit the configured
// context window, with a status line; trimmed rows stay in the database.
func TestTrim(t *testing.T) {
	// Window 4096 (answer reserve) + ~1000 tokens of history room.
	y := "model: {provider: openai, model_id: small}\nproviders:\n  openai:\n    base_url: '{{OPENAI}}'\n    models: [{id: small, context_window: 5200}]\n"
	e := newEnv(t, y)
	e.srv.Always(llmtest.Text(1, 1, "ok"))
	e.agent.SetTools(nil)
	long := strings.Repeat("word ", 700) // ~875 tokens: two turns do not fit beside the 4096 reserve
	var st statuses
	for i := range 3 {
		if _, err := e.agent.Run(ctxT(t), agent.Turn{SessionID: "s", Channel: "websocket", Text: fmt.Sprintf("TURN-%d %s", i, long)}, st.add); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.agent.Run(ctxT(t), agent.Turn{SessionID: "s", Channel: "websocket", Text: "short"}, st.add); err != nil {
		t.Fatal(err)
	}
	want := "History trimmed: dropped the 1 oldest turn(s) (2 messages, about 886 tokens) to fit the 5200-token context window of openai:small."
	var n int
	for _, l := range st.all() {
		if l == want {
			n++
		}
	}
	if n != 2 {
		t.Errorf("statuses = %q\nwant %q twice (turns 1 and 2)", st.all(), want)
	}
	last := string(e.srv.Requests()[3].Raw)
	if strings.Contains(last, "TURN-0") || strings.Contains(last, "TURN-1") || !strings.Contains(last, "short") {
		t.Errorf("last request kept old turns or lost the new one")
	}
	n = 0
	e.db.QueryRow(`SELECT COUNT(*) FROM messages WHERE session_id = 's' AND trimmed = 1`).Scan(&n)
	if n == 0 {
		t.Error("no rows marked trimmed")
	}
	e.db.QueryRow(`SELECT COUNT(*) FROM messages WHERE session_id = 's'`).Scan(&n)
	if n != 8 {
		t.Errorf("messages stored = %d, want 8 (nothing deleted)", n)
	}
}

func TestHistoryRepairsInterruptedToolRound(t *testing.T) {
	// A turn stopped during a tool call leaves a call without its result; the
	// next turn must still be accepted (every call answered).
	e := newEnv(t, yamlFor("openai"), llmtest.Reply{ToolCalls: []llm.ToolCall{{ID: "c1", Name: "slow__wait", Args: json.RawMessage(`{}`)}}}, llmtest.Text(1, 1, "ok"))
	ctx, cancel := context.WithCancel(ctxT(t))
	var st statuses
	done := make(chan struct{})
	go func() {
		e.agent.Run(ctx, agent.Turn{SessionID: "s", Channel: "websocket", Text: "wait"}, st.add)
		close(done)
	}()
	for !st.has(`"status":"running"`) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if _, err := e.agent.Run(ctxT(t), agent.Turn{SessionID: "s", Channel: "websocket", Text: "again"}, nil); err != nil {
		t.Fatal(err)
	}
	var msgs []map[string]any
	json.Unmarshal(mustJSON(e.srv.Requests()[1].Body["messages"]), &msgs)
	var roles []string
	for _, m := range msgs {
		roles = append(roles, fmt.Sprint(m["role"]))
	}
	if got := strings.Join(roles, ","); got != "user,assistant,tool,user" {
		t.Errorf("roles = %s, want user,assistant,tool,user", got)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func TestStreamErrorAfterTextIsBilledAsEstimate(t *testing.T) {
	e := newEnv(t, yamlFor("anthropic"), llmtest.Reply{Chunks: []string{"half an ", "answer"}, StreamError: &llmtest.StreamError{Type: "overloaded_error", Message: "Overloaded"}})
	_, err := e.agent.Run(ctxT(t), agent.Turn{SessionID: "s", Channel: "websocket", Text: "hi"}, nil)
	if llm.KindOf(err) != llm.KindUnavailable {
		t.Fatalf("err = %v, want provider down", err)
	}
	if rows := usageRows(t, e.db); len(rows) != 1 || !rows[0].estimated || rows[0].out != 2 {
		t.Errorf("rows = %+v, want one estimated row with the partial output", rows)
	}
}
