package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"openagent/gateway"
	"openagent/internal/agent"
	"openagent/internal/config"
	"openagent/internal/llm/llmtest"
	"openagent/internal/store"
	"openagent/internal/usage"
)

// The agent runtime implements the gateway's seams.
var (
	_ gateway.Agent         = (*agent.Agent)(nil)
	_ gateway.ModelService  = (*agent.Agent)(nil)
	_ gateway.UsageStats    = (*usage.Log)(nil)
	_ gateway.UsageReporter = (*usage.Log)(nil)
)

type runtimeGW struct {
	url      string
	llm      *llmtest.Server
	settings *config.File
	dir      string
	agent    *agent.Agent
}

// startRuntime serves the gateway with the real agent and usage log over a
// fake provider. {{OPENAI}} in yaml is the fake server's OpenAI base URL.
func startRuntime(t *testing.T, yaml string) *runtimeGW {
	t.Helper()
	g := &runtimeGW{llm: llmtest.New(t), dir: t.TempDir()}
	yaml = strings.ReplaceAll(yaml, "{{OPENAI}}", g.llm.OpenAIBaseURL())
	if err := os.WriteFile(filepath.Join(g.dir, config.FileName), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var err error
	if g.settings, err = config.Open(filepath.Join(g.dir, config.FileName)); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), filepath.Join(g.dir, "openagent.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ul := usage.New(db, g.settings)
	ag, err := agent.New(agent.Config{Settings: g.settings, DB: db, Usage: ul})
	if err != nil {
		t.Fatal(err)
	}
	g.agent = ag
	srv, err := gateway.New(gateway.Config{Dir: g.dir, Settings: g.settings, DB: db, Agent: ag, Models: ag, Usage: ul, UsageStats: ul,
		Transcripts: ag, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	g.url = hs.URL
	return g
}

// call sends a JSON request and decodes the JSON answer into out (if not nil).
func (g *runtimeGW) call(t *testing.T, method, path string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, g.url+path, rd)
	req.Header.Set("Content-Type", "application/json")
	c := &http.Client{Timeout: 20 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode
}

func (g *runtimeGW) raw(t *testing.T, path string) string {
	t.Helper()
	var m json.RawMessage
	g.call(t, http.MethodGet, path, nil, &m)
	return string(m)
}

const runtimeYAML = `
model: {provider: openai, model_id: gpt-4o-mini, monthly_budget: 5}
providers:
  openai:
    api_key: sk-secret-1234
    base_url: '{{OPENAI}}'
    models:
      - gpt-4o-mini
      - {id: custom-1, input_cost_per_million: 1, output_cost_per_million: 2}
    disabled_models: [old-1]
  deepseek: {api_key: dk, models: [mystery-9]}
  anthropic:
    api_key: ${OA_TEST_ANTHROPIC_KEY}
`

func TestModelsMasked(t *testing.T) {
	t.Setenv("OA_TEST_ANTHROPIC_KEY", "sk-ant-fromenv-9999")
	g := startRuntime(t, runtimeYAML)
	for _, path := range []string{"/api/models", "/api/providers"} {
		body := g.raw(t, path)
		if strings.Contains(body, "sk-secret-1234") || strings.Contains(body, "fromenv") || strings.Contains(body, `"api_key"`) {
			t.Errorf("%s leaks a key: %s", path, body)
		}
	}
	var mb struct {
		Models map[string]struct {
			Type          string `json:"type"`
			APIKeyDisplay string `json:"api_key_display"`
		} `json:"models"`
		Active struct {
			RuntimeID string `json:"runtime_id"`
		} `json:"active"`
	}
	g.call(t, http.MethodGet, "/api/models", nil, &mb)
	if mb.Models["openai"].APIKeyDisplay != "****1234" || mb.Models["anthropic"].APIKeyDisplay != "${OA_TEST_ANTHROPIC_KEY}" || mb.Models["anthropic"].Type != "anthropic" {
		t.Errorf("models = %+v", mb.Models)
	}
	if mb.Active.RuntimeID != "openai:gpt-4o-mini" {
		t.Errorf("active = %+v", mb.Active)
	}
}

func TestProviderCRUD(t *testing.T) {
	g := startRuntime(t, runtimeYAML)
	var e struct {
		Error string `json:"error"`
	}
	if st := g.call(t, http.MethodPost, "/api/models", map[string]any{"name": " "}, &e); st != 400 || e.Error != "name is required" {
		t.Errorf("empty name = %d %q", st, e.Error)
	}
	if st := g.call(t, http.MethodPost, "/api/models", map[string]any{"name": "homelab", "base_url": "http://10.0.0.2/v1"}, &e); st != 400 || !strings.Contains(e.Error, "providers.homelab.type") {
		t.Errorf("custom name without type = %d %q", st, e.Error)
	}
	var created struct {
		OK   bool   `json:"ok"`
		Name string `json:"name"`
	}
	if st := g.call(t, http.MethodPost, "/api/models", map[string]any{"name": "groq", "api_key": "gsk_abcdef", "models": []map[string]any{{"id": "llama-3.3-70b-versatile"}}}, &created); st != 200 || !created.OK || created.Name != "groq" {
		t.Fatalf("create = %d %+v", st, created)
	}
	if k := g.settings.Config().Providers["groq"].APIKey; k != "gsk_abcdef" {
		t.Errorf("stored key = %q", k)
	}
	// Sending the mask back keeps the key; a falsy field is removed.
	if st := g.call(t, http.MethodPut, "/api/models/groq", map[string]any{"api_key": "****cdef", "models": []any{}}, nil); st != 200 {
		t.Errorf("update = %d", st)
	}
	if p := g.settings.Config().Providers["groq"]; p.APIKey != "gsk_abcdef" || len(p.Models) != 0 {
		t.Errorf("after update = %+v", p)
	}
	if st := g.call(t, http.MethodPut, "/api/models/nope", map[string]any{"api_key": "x"}, &e); st != 404 || e.Error != "Provider 'nope' not found" {
		t.Errorf("update missing = %d %q", st, e.Error)
	}
	if st := g.call(t, http.MethodDelete, "/api/models/openai", nil, &e); st != 409 {
		t.Errorf("delete active provider = %d %q", st, e.Error)
	}
	if st := g.call(t, http.MethodDelete, "/api/models/groq", nil, nil); st != 200 {
		t.Errorf("delete = %d", st)
	}
	if _, ok := g.settings.Config().Providers["groq"]; ok {
		t.Error("groq still configured")
	}

	var ok struct {
		OK              bool `json:"ok"`
		RestartRequired bool `json:"restart_required"`
	}
	if st := g.call(t, http.MethodPut, "/api/models/active", map[string]any{"provider": "openai", "model_id": "custom-1", "monthly_budget": 3}, &ok); st != 200 || !ok.OK || ok.RestartRequired {
		t.Fatalf("put active = %d %+v", st, ok)
	}
	var ab struct {
		Active struct {
			RuntimeID     string  `json:"runtime_id"`
			MonthlyBudget float64 `json:"monthly_budget"`
		} `json:"active"`
	}
	g.call(t, http.MethodGet, "/api/models/active", nil, &ab)
	if ab.Active.RuntimeID != "openai:custom-1" || ab.Active.MonthlyBudget != 3 {
		t.Errorf("active = %+v", ab.Active)
	}
	if st := g.call(t, http.MethodPut, "/api/models/active", map[string]any{"provider": "ghost", "model_id": "x"}, &e); st != 400 {
		t.Errorf("active on unknown provider = %d %q", st, e.Error)
	}
}

func TestCatalogAndProviders(t *testing.T) {
	g := startRuntime(t, runtimeYAML)
	g.llm.SetModels("gpt-4o-mini", "live-only", "old-1")
	var pb struct {
		Providers []string `json:"providers"`
	}
	g.call(t, http.MethodGet, "/api/models/providers", nil, &pb)
	if !strings.Contains(strings.Join(pb.Providers, ","), "openai") || !strings.Contains(strings.Join(pb.Providers, ","), "ollama") {
		t.Errorf("providers = %q", pb.Providers)
	}
	var cb struct {
		Models []agent.CatalogEntry `json:"models"`
		Errors map[string]string    `json:"errors"`
	}
	g.call(t, http.MethodGet, "/api/models/catalog?provider=openai", nil, &cb)
	got := map[string]agent.CatalogEntry{}
	for _, m := range cb.Models {
		got[m.RuntimeID] = m
	}
	if got["openai:custom-1"].Source != "config" || got["openai:custom-1"].InputCostPerMillion != 1 || got["openai:live-only"].Source != "live" {
		t.Errorf("catalog = %+v", cb.Models)
	}
	if _, ok := got["openai:old-1"]; ok {
		t.Error("disabled model listed")
	}
	if !got["openai:gpt-4o-mini"].Active || got["openai:gpt-4o-mini"].PriceSource != "table" {
		t.Errorf("active entry = %+v", got["openai:gpt-4o-mini"])
	}
	var av struct {
		Provider string `json:"provider"`
		Models   []struct {
			ID     string `json:"id"`
			Source string `json:"source"`
		} `json:"models"`
	}
	if st := g.call(t, http.MethodGet, "/api/models/available?provider=openai", nil, &av); st != 200 || av.Provider != "openai" || len(av.Models) != 3 {
		t.Errorf("available = %d %+v", st, av)
	}
	cb.Models = nil
	g.call(t, http.MethodGet, "/api/models/catalog?live=0", nil, &cb)
	for _, m := range cb.Models {
		if m.Source == "live" {
			t.Errorf("live=0 listed %+v", m)
		}
	}
}

func TestProviderTestEndpoints(t *testing.T) {
	g := startRuntime(t, runtimeYAML)
	g.llm.Push(llmtest.Text(14, 1, "o", "k"))
	var res agent.TestResult
	if st := g.call(t, http.MethodPost, "/api/providers/test", map[string]any{"provider": "openai", "model_id": "gpt-4o-mini"}, &res); st != 200 {
		t.Fatalf("test = %d %+v", st, res)
	}
	if !res.OK || res.Reply != "ok" || res.Model != "openai:gpt-4o-mini" || res.TTFTMillis < 0 || !res.Streamed || res.Chunks != 2 || !res.UsageReported || res.InputTokens != 14 {
		t.Errorf("result = %+v", res)
	}
	if body := string(g.llm.Requests()[0].Raw); !strings.Contains(body, agent.TestPrompt) {
		t.Errorf("prompt = %s", body)
	}

	// No body: the active model.
	g.llm.Push(llmtest.Reply{Chunks: []string{"ok"}})
	res = agent.TestResult{}
	if st := g.call(t, http.MethodPost, "/api/models/openai/test", nil, &res); st != 200 || !res.OK || res.UsageReported || res.Model != "openai:gpt-4o-mini" {
		t.Errorf("model test = %d %+v", st, res)
	}

	g.llm.Push(llmtest.OpenAIError(401, "invalid_request_error", "invalid_api_key", "Incorrect API key provided"))
	res = agent.TestResult{}
	if st := g.call(t, http.MethodPost, "/api/providers/test", map[string]any{"provider": "openai"}, &res); st != 400 || res.OK || res.ErrorKind != "bad key" {
		t.Errorf("bad key = %d %+v", st, res)
	}
	res = agent.TestResult{}
	if st := g.call(t, http.MethodPost, "/api/providers/test", map[string]any{"provider": "ghost"}, &res); st != 400 || res.OK || res.ErrorKind != "unknown provider" {
		t.Errorf("unknown provider = %d %+v", st, res)
	}

	// The two successful tests are billed: one reported, one estimated.
	var ub struct {
		MonthlySpend   float64            `json:"monthly_spend"`
		MonthlyBudget  float64            `json:"monthly_budget"`
		Remaining      *float64           `json:"remaining"`
		ByModel        map[string]float64 `json:"by_model"`
		Calls          int                `json:"calls"`
		EstimatedCalls int                `json:"estimated_calls"`
		Note           string             `json:"note"`
	}
	g.call(t, http.MethodGet, "/api/usage", nil, &ub)
	if ub.Calls != 2 || ub.EstimatedCalls != 1 || ub.ByModel["openai:gpt-4o-mini"] <= 0 || ub.MonthlyBudget != 5 || ub.Remaining == nil || ub.Note == "" {
		t.Errorf("usage = %+v", ub)
	}
}

func TestUsageDailyAndPricing(t *testing.T) {
	g := startRuntime(t, runtimeYAML)
	var e struct {
		Error string `json:"error"`
	}
	if st := g.call(t, http.MethodGet, "/api/usage/daily?days=x", nil, &e); st != 400 {
		t.Errorf("days=x = %d", st)
	}
	var db struct {
		Entries []usage.Day `json:"entries"`
	}
	if st := g.call(t, http.MethodGet, "/api/usage/daily", nil, &db); st != 200 || db.Entries == nil {
		t.Errorf("daily = %d %+v", st, db)
	}
	var pb struct {
		Pricing map[string]struct {
			In     float64 `json:"input_cost_per_million"`
			Source string  `json:"source"`
		} `json:"pricing"`
		Checked  string   `json:"checked"`
		Unpriced []string `json:"unpriced"`
	}
	g.call(t, http.MethodGet, "/api/usage/pricing", nil, &pb)
	if pb.Checked == "" || pb.Pricing["openai:custom-1"].Source != "config" || pb.Pricing["openai:gpt-4o-mini"].In != 0.15 {
		t.Errorf("pricing = %+v", pb)
	}
	if strings.Join(pb.Unpriced, ",") != "deepseek:mystery-9" {
		t.Errorf("unpriced = %q", pb.Unpriced)
	}
}
