package usage

import (
	_ "embed"
	"encoding/json"
	"net/url"
	"sort"
	"strings"

	"openagent/internal/config"
)

//go:embed pricing.json
var pricingJSON []byte

// Price is what one model costs, in US dollars per million tokens.
type Price struct {
	Input float64 `json:"input"`
	// CachedInput is the price of cached prompt tokens; 0 means the same as Input.
	CachedInput   float64 `json:"cached_input,omitempty"`
	Output        float64 `json:"output"`
	ContextWindow int     `json:"context_window,omitempty"`
}

// Where a price came from.
const (
	SourceConfig = "config" // providers.<name>.models[] in openagent.yaml
	SourceTable  = "table"  // the bundled table
	SourceLocal  = "local"  // a server on this machine: free
	SourceNone   = "none"   // unknown: cost is counted as 0
)

// Table is the bundled pricing table.
type Table struct {
	// Checked is the date (YYYY-MM-DD) the prices were checked.
	Checked string `json:"checked"`
	// Source says where the prices come from.
	Source string `json:"source"`
	// Models is keyed by runtime id, "<provider>:<model_id>".
	Models map[string]Price `json:"models"`
}

// Bundled returns the embedded pricing table.
func Bundled() Table {
	var t Table
	if err := json.Unmarshal(pricingJSON, &t); err != nil {
		panic("usage: bundled pricing.json is invalid: " + err.Error()) // caught by tests
	}
	return t
}

// Lookup finds the price of a model of a configured provider: a price in
// the config, else the bundled table, else free when the server runs on this
// machine (ollama, lmstudio or a loopback base_url), else unknown.
func (t Table) Lookup(cfg config.Config, provider, modelID string) (Price, string) {
	p := cfg.Providers[provider]
	for _, m := range p.Models {
		if m.ID == modelID && (m.InputCostPerMillion > 0 || m.OutputCostPerMillion > 0) {
			pr := Price{Input: m.InputCostPerMillion, Output: m.OutputCostPerMillion, ContextWindow: m.ContextWindow}
			if pr.ContextWindow == 0 {
				pr.ContextWindow = t.find(provider, "", modelID).ContextWindow
			}
			return pr, SourceConfig
		}
	}
	if provider == "ollama" || provider == "lmstudio" {
		return Price{}, SourceLocal
	}
	typ, _ := config.ProviderType(provider, p)
	if pr, ok := t.lookup(provider, typ, modelID); ok {
		return pr, SourceTable
	}
	// A model the table does not know, served from this machine, is free.
	// (A known model behind a local proxy keeps its price.)
	if isLocal(provider, p) {
		return Price{}, SourceLocal
	}
	return Price{}, SourceNone
}

func (t Table) find(provider, typ, modelID string) Price {
	pr, _ := t.lookup(provider, typ, modelID)
	return pr
}

// lookup tries "<provider>:<id>", "<type>:<id>", a vendor-prefixed id
// ("openai/gpt-4o" on OpenRouter) and finally the longest table id that is
// a prefix of a dated id ("claude-sonnet-4-20250514" → "claude-sonnet-4").
func (t Table) lookup(provider, typ, modelID string) (Price, bool) {
	cands := []string{provider + ":" + modelID}
	if typ != "" && typ != provider {
		cands = append(cands, typ+":"+modelID)
	}
	if vendor, id, ok := strings.Cut(modelID, "/"); ok {
		cands = append(cands, vendor+":"+id)
	}
	for _, k := range cands {
		if pr, ok := t.Models[k]; ok {
			return pr, true
		}
	}
	best, bestLen := Price{}, 0
	for _, k := range cands {
		pfx, id, _ := strings.Cut(k, ":")
		for key, pr := range t.Models {
			kp, kid, _ := strings.Cut(key, ":")
			if kp == pfx && strings.HasPrefix(id, kid+"-") && len(kid) > bestLen {
				best, bestLen = pr, len(kid)
			}
		}
	}
	return best, bestLen > 0
}

// isLocal reports whether a provider runs on this machine.
func isLocal(name string, p config.Provider) bool {
	base := p.BaseURL
	if base == "" {
		base = config.WellKnownBaseURL[name]
	}
	if base == "" {
		return false
	}
	u, err := url.Parse(base)
	return err == nil && config.IsLoopback(u.Hostname())
}

// Cost is the price of one call in US dollars.
func Cost(p Price, input, output, cached int64) float64 {
	if cached > input {
		cached = input
	}
	cachedPrice := p.CachedInput
	if cachedPrice == 0 {
		cachedPrice = p.Input
	}
	return (float64(input-cached)*p.Input + float64(cached)*cachedPrice + float64(output)*p.Output) / 1e6
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
