package agent_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"openagent/internal/agent"
	"openagent/internal/llm"
	"openagent/internal/llm/llmtest"
)

// instant is a zero-latency provider: it answers at once with usage.
type instant struct{}

func (instant) Stream(ctx context.Context, req llm.Request, onText func(string)) (llm.Response, error) {
	if onText != nil {
		onText("ok")
	}
	return llm.Response{Text: "ok", Usage: llm.Usage{InputTokens: 100, OutputTokens: 1, Reported: true}}, nil
}

func (instant) Models(context.Context) ([]string, error) { return []string{"m"}, nil }

// BenchmarkTurn measures one turn of the agent loop: config read, budget
// check, history load and trim, the model call, the usage row, the history
// write and the budget warning check. "loop" uses a zero-latency in-memory
// provider (the loop's own overhead); "openai-sse" goes through the real
// OpenAI SDK to a loopback SSE server. Sessions hold up to 20 turns.
func BenchmarkTurn(b *testing.B) {
	for _, mode := range []string{"loop", "openai-sse"} {
		b.Run(mode, func(b *testing.B) {
			e := newEnv(b, yamlFor("openai"))
			e.srv.Always(llmtest.Text(100, 1, "ok"))
			if mode == "loop" {
				var err error
				e.agent, err = agent.New(agent.Config{Settings: e.settings, DB: e.db, Usage: e.usage,
					OpenProvider: func(context.Context, string, llm.Config) (llm.Provider, error) { return instant{}, nil }})
				if err != nil {
					b.Fatal(err)
				}
			}
			ctx := context.Background()
			durs := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				if _, err := e.agent.Run(ctx, agent.Turn{SessionID: fmt.Sprintf("s%d", i/20), Channel: "websocket", Text: "hello"}, nil); err != nil {
					b.Fatal(err)
				}
				durs = append(durs, time.Since(start))
			}
			b.StopTimer()
			sort.Slice(durs, func(i, j int) bool { return durs[i] < durs[j] })
			b.ReportMetric(float64(durs[len(durs)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(durs[len(durs)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// BenchmarkSessions lists the stored conversations and reads one back
// (GET /api/sessions and /api/sessions/{id}) over a year of heavy use:
// 1,000 sessions of 20 turns, each turn a user message, a tool call, its
// result and the answer (80,000 rows). turn_baseline is one turn of the
// agent loop (zero-latency model) on the same database, for scale.
func BenchmarkSessions(b *testing.B) {
	e := newEnv(b, yamlFor("openai"))
	ctx := context.Background()
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	now := float64(time.Now().Unix())
	for s := range 1000 {
		for t := range 20 {
			turn := fmt.Sprintf("t%d-%d", s, t)
			at := now - float64((1000-s)*3600+(20-t)*60)
			for _, m := range []struct{ role, content, calls, callID string }{
				{"user", "please look up the weather in Lisbon and summarise the forecast for the week", "", ""},
				{"assistant", "", `[{"id":"c1","name":"fetch__get","args":{"url":"https://example.com/weather"}}]`, ""},
				{"tool", "sunny, 24 degrees, light wind from the north-west, no rain expected until Friday", "", "c1"},
				{"assistant", "It will be sunny all week, around 24 degrees, with rain possible on Friday.", "", ""},
			} {
				var calls, callID any
				if m.calls != "" {
					calls = m.calls
				}
				if m.callID != "" {
					callID = m.callID
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO messages (session_id, turn_id, role, content, tool_calls, tool_call_id, tool_name, is_error, model, created_at)
					VALUES (?, ?, ?, ?, ?, ?, NULL, 0, 'openai:gpt-4o-mini', ?)`, fmt.Sprintf("session-%d", s), turn, m.role, m.content, calls, callID, at); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	e.agent, err = agent.New(agent.Config{Settings: e.settings, DB: e.db, Usage: e.usage,
		OpenProvider: func(context.Context, string, llm.Config) (llm.Provider, error) { return instant{}, nil }})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("list", func(b *testing.B) {
		for b.Loop() {
			list, err := e.agent.Sessions(ctx)
			if err != nil || len(list) != 1000 {
				b.Fatalf("%d sessions, %v", len(list), err)
			}
		}
	})
	b.Run("read", func(b *testing.B) {
		for b.Loop() {
			entries, found, err := e.agent.Transcript(ctx, "session-500")
			if err != nil || !found || len(entries) != 40 {
				b.Fatalf("%d entries, %v", len(entries), err)
			}
		}
	})
	b.Run("turn_baseline", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, err := e.agent.Run(ctx, agent.Turn{SessionID: fmt.Sprintf("new-%d", i/20), Channel: "websocket", Text: "hello"}, nil); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
