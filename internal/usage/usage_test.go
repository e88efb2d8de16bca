package usage_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"openagent/internal/config"
	"openagent/internal/store"
	"openagent/internal/usage"
)

func open(t *testing.T, yaml string) (*usage.Log, *config.File) {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, config.FileName)
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := config.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), filepath.Join(dir, "openagent.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return usage.New(db, f), f
}

const cfgYAML = `
model: {provider: openai, model_id: gpt-4o-mini, monthly_budget: 1.0}
providers:
  openai:
    api_key: sk-x
    models:
      - {id: gpt-4o-mini}
      - {id: my-tuned, input_cost_per_million: 2, output_cost_per_million: 4, context_window: 9000}
      - {id: gpt-4o, input_cost_per_million: 5, output_cost_per_million: 20}
  openrouter: {api_key: x}
  ollama: {}
  work: {type: anthropic, api_key: y}
`

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func TestBundledTable(t *testing.T) {
	tb := usage.Bundled()
	if _, err := time.Parse("2006-01-02", tb.Checked); err != nil {
		t.Errorf("checked = %q: %v", tb.Checked, err)
	}
	if len(tb.Models) < 20 {
		t.Errorf("only %d models in the table", len(tb.Models))
	}
	for id, p := range tb.Models {
		if p.Input <= 0 || p.Output <= 0 || p.ContextWindow <= 0 || p.CachedInput > p.Input {
			t.Errorf("%s: implausible price %+v", id, p)
		}
	}
}

func TestCostArithmetic(t *testing.T) {
	p := usage.Price{Input: 0.15, CachedInput: 0.075, Output: 0.60}
	// 800 uncached + 200 cached input, 500 output
	if got, want := usage.Cost(p, 1000, 500, 200), (800*0.15+200*0.075+500*0.60)/1e6; !near(got, want) {
		t.Errorf("Cost = %v, want %v", got, want)
	}
	// no cached price: cached tokens cost the input price
	if got, want := usage.Cost(usage.Price{Input: 3, Output: 15}, 1_000_000, 1_000_000, 400_000), 18.0; !near(got, want) {
		t.Errorf("Cost = %v, want %v", got, want)
	}
}

func TestLookup(t *testing.T) {
	l, _ := open(t, cfgYAML)
	cases := []struct {
		provider, model string
		in, out         float64
		src             string
	}{
		{"openai", "gpt-4o-mini", 0.15, 0.60, usage.SourceTable},    // listed without prices: table
		{"openai", "gpt-4o", 5, 20, usage.SourceConfig},             // config overrides table
		{"openai", "my-tuned", 2, 4, usage.SourceConfig},            // config only
		{"openai", "gpt-4o-2024-08-06", 2.5, 10, usage.SourceTable}, // dated id
		{"openrouter", "anthropic/claude-sonnet-4", 3, 15, usage.SourceTable},
		{"work", "claude-sonnet-4-20250514", 3, 15, usage.SourceTable}, // custom name, type anthropic
		{"ollama", "llama3.2", 0, 0, usage.SourceLocal},
		{"openai", "mystery-1", 0, 0, usage.SourceNone},
	}
	for _, c := range cases {
		p, src := l.Price(c.provider, c.model)
		if p.Input != c.in || p.Output != c.out || src != c.src {
			t.Errorf("Price(%s, %s) = %+v %s, want %v/%v %s", c.provider, c.model, p, src, c.in, c.out, c.src)
		}
	}
	if p, _ := l.Price("openai", "my-tuned"); p.ContextWindow != 9000 {
		t.Errorf("context window = %d, want 9000 from config", p.ContextWindow)
	}
}

func TestRecordMonthDailyBudget(t *testing.T) {
	ctx := context.Background()
	l, _ := open(t, cfgYAML)
	now := time.Date(2026, 3, 31, 23, 0, 0, 0, time.UTC)
	l.SetClock(func() time.Time { return now })

	// Last month's row must not count.
	l.SetClock(func() time.Time { return now.AddDate(0, 0, -31) })
	if _, err := l.Record(ctx, usage.Entry{Provider: "openai", ModelID: "gpt-4o", SessionID: "s0", InputTokens: 1_000_000}); err != nil {
		t.Fatal(err)
	}
	l.SetClock(func() time.Time { return now })

	r, err := l.Record(ctx, usage.Entry{Provider: "openai", ModelID: "gpt-4o", SessionID: "s1", InputTokens: 100_000, OutputTokens: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	if want := 0.5 + 0.2; !near(r.Cost, want) || r.Model != "openai:gpt-4o" || r.Source != usage.SourceConfig {
		t.Errorf("row = %+v, want cost %v", r, want)
	}
	if _, err := l.Record(ctx, usage.Entry{Provider: "openai", ModelID: "gpt-4o-mini", SessionID: "s1", InputTokens: 1000, OutputTokens: 100, Estimated: true}); err != nil {
		t.Fatal(err)
	}
	m, err := l.Month(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mini := (1000*0.15 + 100*0.6) / 1e6
	if m.Month != "2026-03" || !near(m.Spend, math.Round((0.7+mini)*1e6)/1e6) || m.Calls != 2 || m.EstimatedCalls != 1 || len(m.ByModel) != 2 {
		t.Errorf("month = %+v", m)
	}
	if m.Remaining == nil || !near(*m.Remaining, math.Round((1-m.Spend)*1e6)/1e6) {
		t.Errorf("remaining = %v", m.Remaining)
	}
	sc, _ := l.SessionCost(ctx, "s1")
	if !near(sc, m.Spend) {
		t.Errorf("SessionCost(s1) = %v, want %v", sc, m.Spend)
	}
	days, err := l.Daily(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 2 || days[0].Date != "2026-03-31" || days[0].Model != "openai:gpt-4o" || days[1].EstimatedCount != 1 {
		t.Errorf("daily = %+v", days)
	}
	b, _ := l.CheckBudget(ctx)
	if b.Level != "ok" {
		t.Errorf("budget at %.2f of 1 = %q, want ok", b.Spend, b.Level)
	}
	l.Record(ctx, usage.Entry{Provider: "openai", ModelID: "gpt-4o", InputTokens: 30_000}) // +0.15 → 0.85
	if b, _ := l.CheckBudget(ctx); b.Level != "warn" {
		t.Errorf("budget at %.4f = %q, want warn", b.Spend, b.Level)
	}
	l.Record(ctx, usage.Entry{Provider: "openai", ModelID: "gpt-4o", InputTokens: 40_000}) // +0.2 → 1.05
	if b, _ := l.CheckBudget(ctx); b.Level != "over" || b.WarnOnly {
		t.Errorf("budget at %.4f = %+v, want over", b.Spend, b)
	}
	// A new UTC month starts from zero.
	l.SetClock(func() time.Time { return now.Add(2 * time.Hour) })
	if b, _ := l.CheckBudget(ctx); b.Spend != 0 || b.Level != "ok" {
		t.Errorf("next month = %+v", b)
	}
}

func TestPricingListing(t *testing.T) {
	ctx := context.Background()
	l, _ := open(t, cfgYAML)
	l.Record(ctx, usage.Entry{Provider: "openai", ModelID: "mystery-1", InputTokens: 10})
	rows, err := l.Pricing(ctx)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]usage.PriceRow{}
	for _, r := range rows {
		by[r.Model] = r
	}
	if r := by["openai:mystery-1"]; r.Priced || !r.Used || r.Source != usage.SourceNone {
		t.Errorf("unpriced used model = %+v", r)
	}
	if r := by["openai:gpt-4o"]; r.Source != usage.SourceConfig || r.InputCostPerMillion != 5 {
		t.Errorf("overridden = %+v", r)
	}
	if r := by["anthropic:claude-haiku-4-5"]; r.Source != usage.SourceTable || !r.Priced {
		t.Errorf("table row = %+v", r)
	}
}
