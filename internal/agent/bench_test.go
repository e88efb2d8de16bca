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
