// Package usage records one usage_log row per model call, prices it from the
// bundled table or the config, and answers the monthly budget questions.
// Months and days are UTC.
package usage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"openagent/internal/config"
	"openagent/internal/store"
)

// Log is the usage_log table plus the pricing that fills its cost column.
type Log struct {
	db       *store.DB
	settings *config.File
	table    Table
	now      func() time.Time

	// The month's spend is kept in memory so that the budget check before
	// every turn does not sum the table; only this process writes usage_log.
	mu         sync.Mutex // guards spendMonth and spend
	spendMonth string     // "" until loaded
	spend      float64
}

// New returns a Log over db; prices and the budget are read live from
// settings. Use one Log per database: it keeps the month's spend in memory.
func New(db *store.DB, settings *config.File) *Log {
	return &Log{db: db, settings: settings, table: Bundled(), now: time.Now}
}

// SetClock replaces time.Now (tests use it to cross a month boundary).
func (l *Log) SetClock(now func() time.Time) { l.now = now }

// Table is the bundled pricing table.
func (l *Log) Table() Table { return l.table }

// Entry is one model call to record.
type Entry struct {
	// Provider and ModelID name the model; the row's model is "<provider>:<model_id>".
	Provider, ModelID string
	SessionID         string
	InputTokens       int64
	OutputTokens      int64
	CachedTokens      int64
	// Estimated is true when the provider reported no usage and the counts
	// are the agent's own tokenizer-free estimate.
	Estimated bool
}

// Row is a recorded entry with its cost.
type Row struct {
	Entry
	ID     string
	Model  string
	Cost   float64
	Source string // where the price came from: config, table, local or none
	Time   time.Time
}

// Price returns what a model costs and where that price came from.
func (l *Log) Price(provider, modelID string) (Price, string) {
	return l.table.Lookup(l.settings.Config(), provider, modelID)
}

// Record prices e and inserts its row.
func (l *Log) Record(ctx context.Context, e Entry) (Row, error) {
	pr, src := l.Price(e.Provider, e.ModelID)
	now := l.now().UTC()
	r := Row{Entry: e, ID: newID(), Model: e.Provider + ":" + e.ModelID, Source: src, Time: now,
		Cost: Cost(pr, e.InputTokens, e.OutputTokens, e.CachedTokens)}
	_, err := l.db.ExecContext(ctx, `INSERT INTO usage_log
		(id, timestamp, model, input_tokens, output_tokens, cost, session_id, year_month, estimated, cached_tokens)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, epoch(now), r.Model, e.InputTokens, e.OutputTokens, r.Cost, nullable(e.SessionID),
		now.Format("2006-01"), boolInt(e.Estimated), e.CachedTokens)
	if err != nil {
		return r, fmt.Errorf("record usage: %w", err)
	}
	l.mu.Lock()
	if l.spendMonth == now.Format("2006-01") {
		l.spend += r.Cost
	}
	l.mu.Unlock()
	return r, nil
}

// monthSpend is this UTC month's spend, summed from the table once per month.
func (l *Log) monthSpend(ctx context.Context) (float64, error) {
	month := l.now().UTC().Format("2006-01")
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.spendMonth == month {
		return l.spend, nil
	}
	var s float64
	if err := l.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(cost), 0) FROM usage_log WHERE year_month = ?`, month).Scan(&s); err != nil {
		return 0, fmt.Errorf("sum usage: %w", err)
	}
	l.spendMonth, l.spend = month, s
	return s, nil
}

// Month is this UTC month's spend.
type Month struct {
	// Month is "YYYY-MM" (UTC).
	Month string
	Spend float64
	// Budget is model.monthly_budget; 0 means none.
	Budget float64
	// Remaining is max(0, budget-spend), nil without a budget.
	Remaining *float64
	ByModel   map[string]float64
	Calls     int
	// EstimatedCalls and EstimatedSpend cover rows whose tokens were estimated.
	EstimatedCalls int
	EstimatedSpend float64
	WarnOnly       bool
}

// Month sums the current UTC month.
func (l *Log) Month(ctx context.Context) (Month, error) {
	cfg := l.settings.Config()
	m := Month{Month: l.now().UTC().Format("2006-01"), Budget: cfg.Model.MonthlyBudget, ByModel: map[string]float64{}, WarnOnly: cfg.Model.BudgetWarnOnly}
	rows, err := l.db.QueryContext(ctx, `SELECT model, SUM(cost), COUNT(*), SUM(estimated), SUM(CASE WHEN estimated = 1 THEN cost ELSE 0 END)
		FROM usage_log WHERE year_month = ? GROUP BY model`, m.Month)
	if err != nil {
		return m, fmt.Errorf("sum usage: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var model string
		var cost, estCost float64
		var n, est int
		if err := rows.Scan(&model, &cost, &n, &est, &estCost); err != nil {
			return m, fmt.Errorf("sum usage: %w", err)
		}
		m.ByModel[model] = round6(cost)
		m.Spend += cost
		m.Calls += n
		m.EstimatedCalls += est
		m.EstimatedSpend += estCost
	}
	if err := rows.Err(); err != nil {
		return m, fmt.Errorf("sum usage: %w", err)
	}
	m.Spend = round6(m.Spend)
	m.EstimatedSpend = round6(m.EstimatedSpend)
	if m.Budget > 0 {
		r := round6(math.Max(0, m.Budget-m.Spend))
		m.Remaining = &r
	}
	return m, nil
}

// MonthSummary implements the gateway's /usage command.
func (l *Log) MonthSummary(ctx context.Context) (spend, budget float64, models int, err error) {
	m, err := l.Month(ctx)
	if err != nil {
		return 0, 0, 0, err
	}
	return m.Spend, m.Budget, len(m.ByModel), nil
}

// Day is one (UTC date, model) bucket.
type Day struct {
	Date           string  `json:"date"`
	Model          string  `json:"model"`
	Cost           float64 `json:"cost"`
	InputTokens    int64   `json:"input_tokens"`
	OutputTokens   int64   `json:"output_tokens"`
	CachedTokens   int64   `json:"cached_tokens"`
	RequestCount   int     `json:"request_count"`
	EstimatedCount int     `json:"estimated_count"`
}

// Daily returns the last days*24h of usage grouped by UTC date and model,
// newest date first, then by cost.
func (l *Log) Daily(ctx context.Context, days int) ([]Day, error) {
	since := epoch(l.now()) - float64(days)*86400
	rows, err := l.db.QueryContext(ctx, `SELECT strftime('%Y-%m-%d', timestamp, 'unixepoch') AS d, model,
		SUM(cost), SUM(input_tokens), SUM(output_tokens), SUM(cached_tokens), COUNT(*), SUM(estimated)
		FROM usage_log WHERE timestamp >= ? GROUP BY d, model ORDER BY d DESC, SUM(cost) DESC, model`, since)
	if err != nil {
		return nil, fmt.Errorf("read daily usage: %w", err)
	}
	defer rows.Close()
	out := []Day{}
	for rows.Next() {
		var d Day
		if err := rows.Scan(&d.Date, &d.Model, &d.Cost, &d.InputTokens, &d.OutputTokens, &d.CachedTokens, &d.RequestCount, &d.EstimatedCount); err != nil {
			return nil, fmt.Errorf("read daily usage: %w", err)
		}
		d.Cost = round6(d.Cost)
		out = append(out, d)
	}
	return out, rows.Err()
}

// SessionCost sums the cost of one session (scheduled runs use it).
func (l *Log) SessionCost(ctx context.Context, sessionID string) (float64, error) {
	var c float64
	err := l.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(cost), 0) FROM usage_log WHERE session_id = ?`, sessionID).Scan(&c)
	if err != nil {
		return 0, fmt.Errorf("sum session cost: %w", err)
	}
	return round6(c), nil
}

// Budget says where this month's spend stands against model.monthly_budget.
type Budget struct {
	Spend, Limit float64
	// Level is "ok", "warn" (at 80 % or more) or "over" (at 100 % or more).
	Level    string
	WarnOnly bool
}

// WarnAt is the share of the budget that triggers the warning.
const WarnAt = 0.8

// CheckBudget reads this month's spend against the budget.
func (l *Log) CheckBudget(ctx context.Context) (Budget, error) {
	m := l.settings.Config().Model
	b := Budget{Limit: m.MonthlyBudget, Level: "ok", WarnOnly: m.BudgetWarnOnly}
	spend, err := l.monthSpend(ctx)
	if err != nil {
		return b, err
	}
	b.Spend = round6(spend)
	switch {
	case b.Limit <= 0:
	case b.Spend >= b.Limit:
		b.Level = "over"
	case b.Spend >= WarnAt*b.Limit:
		b.Level = "warn"
	}
	return b, nil
}

// PriceRow is one model of the pricing listing.
type PriceRow struct {
	Model                string  `json:"model"`
	InputCostPerMillion  float64 `json:"input_cost_per_million"`
	OutputCostPerMillion float64 `json:"output_cost_per_million"`
	CachedCostPerMillion float64 `json:"cached_input_cost_per_million,omitempty"`
	ContextWindow        int     `json:"context_window,omitempty"`
	// Source is config, table, local or none.
	Source string `json:"source"`
	// Priced is false when no price is known and calls are counted as free.
	Priced bool `json:"priced"`
	// Used is true when the model has usage this month.
	Used bool `json:"used"`
}

// Pricing lists the bundled table, every configured model and every model
// with usage this month, each with its price and where the price came from.
func (l *Log) Pricing(ctx context.Context) ([]PriceRow, error) {
	cfg := l.settings.Config()
	m, err := l.Month(ctx)
	if err != nil {
		return nil, err
	}
	rows := map[string]PriceRow{}
	add := func(provider, modelID string) {
		pr, src := l.table.Lookup(cfg, provider, modelID)
		id := provider + ":" + modelID
		rows[id] = PriceRow{Model: id, InputCostPerMillion: pr.Input, OutputCostPerMillion: pr.Output,
			CachedCostPerMillion: pr.CachedInput, ContextWindow: pr.ContextWindow, Source: src,
			Priced: src != SourceNone, Used: m.ByModel[id] != 0 || rows[id].Used}
	}
	for _, k := range sortedKeys(l.table.Models) {
		p, id, _ := strings.Cut(k, ":")
		add(p, id)
	}
	for name, p := range cfg.Providers {
		for _, me := range p.Models {
			add(name, me.ID)
		}
	}
	if cfg.Model.Provider != "" && cfg.Model.ModelID != "" {
		add(cfg.Model.Provider, cfg.Model.ModelID)
	}
	for id := range m.ByModel {
		p, mid, _ := strings.Cut(id, ":")
		add(p, mid)
		r := rows[id]
		r.Used = true
		rows[id] = r
	}
	out := make([]PriceRow, 0, len(rows))
	for _, k := range sortedKeys(rows) {
		out = append(out, rows[k])
	}
	return out, nil
}

func epoch(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
