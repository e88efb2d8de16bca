package agent

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"openagent/internal/config"
	"openagent/internal/llm"
	"openagent/internal/usage"
)

// LocalServer is an OpenAI-compatible server found on this machine at start.
type LocalServer struct {
	// Name is the provider name to configure it under (ollama or lmstudio).
	Name    string   `json:"name"`
	BaseURL string   `json:"base_url"`
	Models  []string `json:"models"`
}

// Local servers probed at start, and how long each probe may take.
var localCandidates = []LocalServer{
	{Name: "ollama", BaseURL: "http://127.0.0.1:11434/v1"},
	{Name: "lmstudio", BaseURL: "http://127.0.0.1:1234/v1"},
}

// LocalProbeTimeout bounds one local server probe.
const LocalProbeTimeout = 800 * time.Millisecond

// ProbeLocal looks for Ollama and LM Studio when no provider is configured
// and remembers the ones that answer GET /v1/models. They are only offered
// (catalog, provider list); no turn goes to them unless the user picks one.
func (a *Agent) ProbeLocal(ctx context.Context) []LocalServer {
	if len(a.cfg.Settings.Config().Providers) > 0 {
		return nil
	}
	return a.probe(ctx, localCandidates)
}

func (a *Agent) probe(ctx context.Context, cands []LocalServer) []LocalServer {
	found := make([]*LocalServer, len(cands))
	var wg sync.WaitGroup
	for i, c := range cands {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pctx, cancel := context.WithTimeout(ctx, LocalProbeTimeout)
			defer cancel()
			tg := target{provider: c.Name, typ: "openai", entry: config.Provider{BaseURL: c.BaseURL}}
			p, err := a.provider(pctx, tg)
			if err != nil {
				return
			}
			models, err := p.Models(pctx)
			if err != nil {
				return
			}
			c.Models = models
			found[i] = &c
		}()
	}
	wg.Wait()
	var out []LocalServer
	for _, f := range found {
		if f != nil {
			out = append(out, *f)
			a.log.Info("local model server found", "provider", f.Name, "base_url", f.BaseURL, "models", len(f.Models))
		}
	}
	a.mu.Lock()
	a.local = out
	a.mu.Unlock()
	return out
}

// LocalServers returns what ProbeLocal found.
func (a *Agent) LocalServers() []LocalServer {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]LocalServer(nil), a.local...)
}

// wellKnownProviders are offered in the provider list even when not configured.
var wellKnownProviders = []string{"anthropic", "cerebras", "deepseek", "google", "groq", "lmstudio", "mistral", "ollama", "openai", "openrouter", "xai"}

// ProviderNames lists the well-known providers, the configured ones and the
// local servers found at start, sorted.
func (a *Agent) ProviderNames() []string {
	set := map[string]bool{}
	for _, n := range wellKnownProviders {
		set[n] = true
	}
	for n := range a.cfg.Settings.Config().Providers {
		set[n] = true
	}
	for _, l := range a.LocalServers() {
		set[l.Name] = true
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// CatalogEntry is one model offered for selection.
type CatalogEntry struct {
	Provider             string  `json:"provider"`
	ModelID              string  `json:"model_id"`
	RuntimeID            string  `json:"runtime_id"`
	HistoryMode          string  `json:"history_mode"`
	InputCostPerMillion  float64 `json:"input_cost_per_million"`
	OutputCostPerMillion float64 `json:"output_cost_per_million"`
	ContextWindow        int     `json:"context_window,omitempty"`
	// PriceSource is config, table, local or none.
	PriceSource string `json:"price_source"`
	// Source is config (listed in openagent.yaml), live (from the provider's
	// /models) or local (a server found on this machine, not configured).
	Source string `json:"source"`
	// Active marks the model section's model.
	Active bool `json:"active"`
}

// Catalog lists the configured models (minus disabled_models) of every
// provider, or of one. With live, providers that answer /models add their
// live list; their failures are returned per provider.
func (a *Agent) Catalog(ctx context.Context, provider string, live bool) ([]CatalogEntry, map[string]string) {
	cfg := a.cfg.Settings.Config()
	seen := map[string]bool{}
	var out []CatalogEntry
	errs := map[string]string{}
	add := func(prov, id, source string) {
		rid := prov + ":" + id
		if seen[rid] {
			return
		}
		seen[rid] = true
		pr, src := a.cfg.Usage.Price(prov, id)
		out = append(out, CatalogEntry{Provider: prov, ModelID: id, RuntimeID: rid, HistoryMode: "platform",
			InputCostPerMillion: round4(pr.Input), OutputCostPerMillion: round4(pr.Output), ContextWindow: pr.ContextWindow,
			PriceSource: src, Source: source, Active: prov == cfg.Model.Provider && id == cfg.Model.ModelID})
	}
	names := make([]string, 0, len(cfg.Providers))
	for n := range cfg.Providers {
		if provider == "" || provider == n {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		p := cfg.Providers[n]
		disabled := map[string]bool{}
		for _, d := range p.DisabledModels {
			disabled[d] = true
		}
		for _, m := range p.Models {
			if !disabled[m.ID] {
				add(n, m.ID, "config")
			}
		}
	}
	if live {
		type result struct {
			name   string
			models []string
			err    error
		}
		res := make([]result, len(names))
		var wg sync.WaitGroup
		for i, n := range names {
			wg.Add(1)
			go func() {
				defer wg.Done()
				lctx, cancel := context.WithTimeout(ctx, liveCatalogTimeout)
				defer cancel()
				tg, err := targetFor(n, "", cfg.Providers[n])
				if err == nil {
					var p llm.Provider
					if p, err = a.provider(lctx, tg); err == nil {
						res[i].models, err = p.Models(lctx)
					}
				}
				res[i].name, res[i].err = n, err
			}()
		}
		wg.Wait()
		for _, r := range res {
			if r.err != nil {
				errs[r.name] = r.err.Error()
				continue
			}
			disabled := map[string]bool{}
			for _, d := range cfg.Providers[r.name].DisabledModels {
				disabled[d] = true
			}
			for _, id := range r.models {
				if !disabled[id] {
					add(r.name, id, "live")
				}
			}
		}
	}
	for _, l := range a.LocalServers() {
		if _, configured := cfg.Providers[l.Name]; configured || (provider != "" && provider != l.Name) {
			continue
		}
		for _, id := range l.Models {
			add(l.Name, id, "local")
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Provider != out[j].Provider {
			return out[i].Provider < out[j].Provider
		}
		if out[i].InputCostPerMillion != out[j].InputCostPerMillion {
			return out[i].InputCostPerMillion < out[j].InputCostPerMillion
		}
		return out[i].ModelID < out[j].ModelID
	})
	if out == nil {
		out = []CatalogEntry{}
	}
	return out, errs
}

// liveCatalogTimeout bounds one provider's /models call.
const liveCatalogTimeout = 5 * time.Second

// TestResult is the outcome of a model test.
type TestResult struct {
	OK bool `json:"ok"`
	// Model is the runtime id tested.
	Model string `json:"model"`
	// Reply is the model's answer to the tiny prompt.
	Reply string `json:"reply"`
	// Error says what went wrong; ErrorKind classifies it (bad key, unknown
	// model, rate limited, context too long, provider down, request rejected).
	Error     string `json:"error,omitempty"`
	ErrorKind string `json:"error_kind,omitempty"`
	// TTFTMillis is the time to the first streamed text, -1 when none came.
	TTFTMillis  int64 `json:"ttft_ms"`
	TotalMillis int64 `json:"total_ms"`
	// Streamed is true when text arrived in streamed chunks before the end.
	Streamed bool `json:"streamed"`
	Chunks   int  `json:"chunks"`
	// UsageReported is true when the provider reported token usage.
	UsageReported bool    `json:"usage_reported"`
	InputTokens   int64   `json:"input_tokens"`
	OutputTokens  int64   `json:"output_tokens"`
	Cost          float64 `json:"cost"`
}

// TestPrompt is the tiny prompt model tests send.
const TestPrompt = "Reply with the single word: ok"

// TestTimeout bounds a model test.
const TestTimeout = 30 * time.Second

// ErrUnknownProvider is returned by Test for a provider that is neither
// configured nor found on this machine.
var ErrUnknownProvider = errors.New("unknown provider")

// Test sends TestPrompt to a provider's model and reports what happened. An
// empty modelID means the active model when it belongs to provider, else the
// provider's first listed model. The call is recorded in usage_log under
// session "test:<provider>".
func (a *Agent) Test(ctx context.Context, provider, modelID string) (TestResult, error) {
	cfg := a.cfg.Settings.Config()
	entry, ok := cfg.Providers[provider]
	if !ok {
		for _, l := range a.LocalServers() {
			if l.Name == provider {
				entry, ok = config.Provider{Type: "openai", BaseURL: l.BaseURL}, true
				if modelID == "" && len(l.Models) > 0 {
					modelID = l.Models[0]
				}
			}
		}
	}
	if !ok {
		return TestResult{}, fmt.Errorf("%w %q: add it under providers first", ErrUnknownProvider, provider)
	}
	if modelID == "" {
		if cfg.Model.Provider == provider && cfg.Model.ModelID != "" {
			modelID = cfg.Model.ModelID
		} else if len(entry.Models) > 0 {
			modelID = entry.Models[0].ID
		}
	}
	if modelID == "" {
		return TestResult{}, fmt.Errorf("provider %q lists no models: send model_id", provider)
	}
	tg, err := targetFor(provider, modelID, entry)
	if err != nil {
		return TestResult{}, err
	}
	res := TestResult{Model: tg.RuntimeID(), TTFTMillis: -1}
	p, err := a.provider(ctx, tg)
	if err != nil {
		return TestResult{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, TestTimeout)
	defer cancel()
	start := time.Now()
	var firstAt time.Time
	req := llm.Request{Model: modelID, Messages: []llm.Message{{Role: llm.RoleUser, Text: TestPrompt}}}
	resp, err := p.Stream(ctx, req, func(s string) {
		if res.Chunks == 0 {
			firstAt = time.Now()
			res.TTFTMillis = firstAt.Sub(start).Milliseconds()
		}
		res.Chunks++
	})
	end := time.Now()
	res.TotalMillis = end.Sub(start).Milliseconds()
	if err != nil {
		res.Error = err.Error()
		res.ErrorKind = llm.KindOf(err).String()
		return res, nil
	}
	res.OK = true
	res.Reply = strings.TrimSpace(resp.Text)
	res.Streamed = res.Chunks > 0 && !firstAt.IsZero()
	res.UsageReported = resp.Usage.Reported
	e := usage.Entry{Provider: provider, ModelID: modelID, SessionID: "test:" + provider,
		InputTokens: resp.Usage.InputTokens, OutputTokens: resp.Usage.OutputTokens, CachedTokens: resp.Usage.CachedTokens}
	if !resp.Usage.Reported {
		e.InputTokens, e.OutputTokens, e.Estimated = llm.EstimateRequest(req), llm.EstimateResponse(resp), true
	}
	res.InputTokens, res.OutputTokens = e.InputTokens, e.OutputTokens
	if row, err := a.cfg.Usage.Record(ctx, e); err == nil {
		res.Cost = row.Cost
	} else {
		a.log.Error("record usage", "model", res.Model, "err", err)
	}
	return res, nil
}

func round4(f float64) float64 {
	return float64(int64(f*10000+0.5)) / 10000
}
