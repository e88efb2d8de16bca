package gateway

import (
	"context"
	"net/http"
	"strconv"

	"openagent/internal/usage"
)

// UsageStats backs /api/usage*. *usage.Log implements it.
type UsageStats interface {
	// Month sums this UTC month.
	Month(ctx context.Context) (usage.Month, error)
	// Daily groups the last days*24h by UTC date and model.
	Daily(ctx context.Context, days int) ([]usage.Day, error)
	// Pricing lists every known price and where it came from.
	Pricing(ctx context.Context) ([]usage.PriceRow, error)
	// Table is the bundled pricing table (for its checked date and source).
	Table() usage.Table
}

var errNoUsage = errorf(http.StatusServiceUnavailable, "Usage tracking is not available in this gateway")

// usageBody is GET /api/usage (contract §4.5, plus the estimate fields).
type usageBody struct {
	Month         string             `json:"month"`
	MonthlySpend  float64            `json:"monthly_spend"`
	MonthlyBudget float64            `json:"monthly_budget"`
	Remaining     *float64           `json:"remaining"`
	ByModel       map[string]float64 `json:"by_model"`
	Calls         int                `json:"calls"`
	// EstimatedCalls had no usage from the provider; their tokens were
	// estimated without a tokenizer (about 4 characters per token).
	EstimatedCalls int     `json:"estimated_calls"`
	EstimatedSpend float64 `json:"estimated_spend"`
	Note           string  `json:"note,omitempty"`
}

type dailyBody struct {
	Entries []usage.Day `json:"entries"`
}

type priceEntry struct {
	InputCostPerMillion  float64 `json:"input_cost_per_million"`
	OutputCostPerMillion float64 `json:"output_cost_per_million"`
	Source               string  `json:"source"`
	Priced               bool    `json:"priced"`
}

// pricingBody is GET /api/usage/pricing: the reference's map, plus the rows
// with their source, the table's checked date and the unpriced models.
type pricingBody struct {
	Pricing map[string]priceEntry `json:"pricing"`
	Models  []usage.PriceRow      `json:"models"`
	// Checked is the date the bundled table's prices were checked.
	Checked string `json:"checked"`
	Source  string `json:"source"`
	// Unpriced lists models that have no price: their calls count as $0.
	Unpriced []string `json:"unpriced"`
}

// estimateNote explains estimated rows in the API.
const estimateNote = "estimated_calls got no usage from the provider; their tokens are estimated without a tokenizer (about 4 characters per token)"

func (s *Server) getUsage(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.UsageStats == nil {
		return errNoUsage
	}
	m, err := s.cfg.UsageStats.Month(r.Context())
	if err != nil {
		return err
	}
	b := usageBody{Month: m.Month, MonthlySpend: m.Spend, MonthlyBudget: m.Budget, Remaining: m.Remaining, ByModel: m.ByModel,
		Calls: m.Calls, EstimatedCalls: m.EstimatedCalls, EstimatedSpend: m.EstimatedSpend}
	if m.EstimatedCalls > 0 {
		b.Note = estimateNote
	}
	return writeJSON(w, http.StatusOK, b)
}

// getUsageDaily: ?days=N (default 7, 1…3660).
func (s *Server) getUsageDaily(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.UsageStats == nil {
		return errNoUsage
	}
	days := 7
	if v := r.URL.Query().Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3660 {
			return errorf(http.StatusBadRequest, "days must be a whole number from 1 to 3660")
		}
		days = n
	}
	entries, err := s.cfg.UsageStats.Daily(r.Context(), days)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, dailyBody{Entries: entries})
}

func (s *Server) getUsagePricing(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.UsageStats == nil {
		return errNoUsage
	}
	rows, err := s.cfg.UsageStats.Pricing(r.Context())
	if err != nil {
		return err
	}
	t := s.cfg.UsageStats.Table()
	b := pricingBody{Pricing: map[string]priceEntry{}, Models: rows, Checked: t.Checked, Source: t.Source, Unpriced: []string{}}
	for _, p := range rows {
		b.Pricing[p.Model] = priceEntry{p.InputCostPerMillion, p.OutputCostPerMillion, p.Source, p.Priced}
		if !p.Priced {
			b.Unpriced = append(b.Unpriced, p.Model)
		}
	}
	return writeJSON(w, http.StatusOK, b)
}
