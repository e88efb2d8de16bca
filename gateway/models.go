package gateway

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"

	"github.com/go-chi/chi/v5"

	"openagent/internal/agent"
	"openagent/internal/config"
)

// ModelService backs /api/models/* and /api/providers*. *agent.Agent implements it.
type ModelService interface {
	// Catalog lists configured models (and, with live, each provider's /models).
	Catalog(ctx context.Context, provider string, live bool) ([]agent.CatalogEntry, map[string]string)
	// ProviderNames lists well-known, configured and locally found providers.
	ProviderNames() []string
	// LocalServers lists the local OpenAI-compatible servers found at start.
	LocalServers() []agent.LocalServer
	// Test sends a tiny prompt and reports what happened.
	Test(ctx context.Context, provider, modelID string) (agent.TestResult, error)
}

var errNoModels = errorf(http.StatusServiceUnavailable, "Model management is not available in this gateway")

// providerView is a provider entry with its key masked (contract §4.6).
type providerView struct {
	// Type is the resolved type: openai, anthropic or google.
	Type string `json:"type"`
	// APIKeyDisplay is the masked key ("****" + last 4, or ${VAR} as written).
	APIKeyDisplay  string              `json:"api_key_display,omitempty"`
	BaseURL        string              `json:"base_url,omitempty"`
	Models         []config.ModelEntry `json:"models"`
	DisabledModels []string            `json:"disabled_models"`
}

// activeView is the model section, plus its runtime id.
type activeView struct {
	Provider       string  `json:"provider"`
	ModelID        string  `json:"model_id"`
	RuntimeID      string  `json:"runtime_id,omitempty"`
	MonthlyBudget  float64 `json:"monthly_budget"`
	BudgetWarnOnly bool    `json:"budget_warn_only"`
	MaxIterations  int     `json:"max_iterations,omitempty"`
}

type modelsBody struct {
	Models map[string]providerView `json:"models"`
	Active activeView              `json:"active"`
}

type activeBody struct {
	Active activeView `json:"active"`
}

type providersBody struct {
	Providers map[string]providerView `json:"providers"`
}

type providerNamesBody struct {
	Providers []string `json:"providers"`
	// Local lists servers found on this machine at start (offered, never used unless picked).
	Local []agent.LocalServer `json:"local"`
}

type catalogBody struct {
	Models []agent.CatalogEntry `json:"models"`
	// Errors holds, per provider, why its live /models list failed.
	Errors map[string]string   `json:"errors"`
	Local  []agent.LocalServer `json:"local"`
}

type createdProviderBody struct {
	OK   bool   `json:"ok"`
	Name string `json:"name"`
}

// providerViews builds the masked provider map. The key is masked from the
// raw file, so ${VAR} references show as written.
func (s *Server) providerViews() (map[string]providerView, error) {
	cfg := s.cfg.Settings.Config()
	rawProv, err := s.cfg.Settings.Section("providers")
	if err != nil {
		return nil, err
	}
	raw, _ := rawProv.(map[string]any)
	out := make(map[string]providerView, len(cfg.Providers))
	for name, p := range cfg.Providers {
		typ, _ := config.ProviderType(name, p)
		v := providerView{Type: typ, BaseURL: p.BaseURL, Models: p.Models, DisabledModels: p.DisabledModels}
		if v.Models == nil {
			v.Models = []config.ModelEntry{}
		}
		if v.DisabledModels == nil {
			v.DisabledModels = []string{}
		}
		entry, _ := raw[name].(map[string]any)
		if k, _ := entry["api_key"].(string); k != "" {
			v.APIKeyDisplay = config.Mask(k)
		}
		out[name] = v
	}
	return out, nil
}

func (s *Server) active() activeView {
	m := s.cfg.Settings.Config().Model
	v := activeView{Provider: m.Provider, ModelID: m.ModelID, MonthlyBudget: m.MonthlyBudget, BudgetWarnOnly: m.BudgetWarnOnly, MaxIterations: m.MaxIterations}
	if m.Provider != "" && m.ModelID != "" {
		v.RuntimeID = m.Provider + ":" + m.ModelID
	}
	return v
}

func (s *Server) listModels(w http.ResponseWriter, r *http.Request) error {
	pv, err := s.providerViews()
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, modelsBody{Models: pv, Active: s.active()})
}

func (s *Server) listProviders(w http.ResponseWriter, r *http.Request) error {
	pv, err := s.providerViews()
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, providersBody{Providers: pv})
}

// createProviderReq is the body of POST /api/models.
type createProviderReq struct {
	Name           string              `json:"name"`
	Type           string              `json:"type"`
	APIKey         string              `json:"api_key"`
	BaseURL        string              `json:"base_url"`
	Models         []config.ModelEntry `json:"models"`
	DisabledModels []string            `json:"disabled_models"`
}

// createModel adds (or overwrites) a provider entry with the given keys.
func (s *Server) createModel(w http.ResponseWriter, r *http.Request) error {
	var req createProviderReq
	if err := decodeJSON(r, &req, true); err != nil {
		return err
	}
	name := strings.TrimSpace(req.Name)
	if name == "" {
		return errorf(http.StatusBadRequest, "name is required")
	}
	entry := map[string]any{}
	if req.Type != "" {
		entry["type"] = req.Type
	}
	if req.APIKey != "" {
		entry["api_key"] = req.APIKey
	}
	if req.BaseURL != "" {
		entry["base_url"] = req.BaseURL
	}
	if len(req.Models) > 0 {
		entry["models"] = modelEntries(req.Models)
	}
	if len(req.DisabledModels) > 0 {
		entry["disabled_models"] = req.DisabledModels
	}
	if err := s.setProvider(name, entry); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, createdProviderBody{OK: true, Name: name})
}

// updateModel updates the keys present in the body; a falsy base_url, type,
// models or disabled_models removes the key. A masked api_key sent back keeps
// the stored one.
func (s *Server) updateModel(w http.ResponseWriter, r *http.Request) error {
	name := chi.URLParam(r, "name")
	var body map[string]any
	if err := decodeJSON(r, &body, false); err != nil {
		return err
	}
	provs, err := s.rawProviders()
	if err != nil {
		return err
	}
	entry, ok := provs[name].(map[string]any)
	if _, exists := provs[name]; !exists {
		return errorf(http.StatusNotFound, "Provider '"+name+"' not found")
	}
	if !ok {
		entry = map[string]any{}
	}
	for k, v := range body {
		switch k {
		case "api_key":
			entry[k] = v
		case "type", "base_url", "models", "disabled_models":
			if falsy(v) {
				delete(entry, k)
			} else {
				entry[k] = v
			}
		default:
			return errorf(http.StatusBadRequest, "unknown provider field "+k+": use type, api_key, base_url, models or disabled_models")
		}
	}
	if err := s.setProvider(name, entry); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, okBody{true})
}

func (s *Server) deleteModel(w http.ResponseWriter, r *http.Request) error {
	name := chi.URLParam(r, "name")
	provs, err := s.rawProviders()
	if err != nil {
		return err
	}
	if _, ok := provs[name]; !ok {
		return errorf(http.StatusNotFound, "Provider '"+name+"' not found")
	}
	if s.cfg.Settings.Config().Model.Provider == name {
		return errorf(http.StatusConflict, "Provider '"+name+"' serves the active model: pick another model first")
	}
	delete(provs, name)
	if err := s.cfg.Settings.SetSection("providers", provs); err != nil {
		return err
	}
	s.configChanged("providers")
	return writeJSON(w, http.StatusOK, okBody{true})
}

func (s *Server) getActiveModel(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, activeBody{Active: s.active()})
}

// putActiveModel replaces the model section; it applies on the next turn.
func (s *Server) putActiveModel(w http.ResponseWriter, r *http.Request) error {
	var body map[string]any
	if err := decodeJSON(r, &body, false); err != nil {
		return err
	}
	if body == nil {
		return errorf(http.StatusBadRequest, "the model section must be a JSON object")
	}
	if err := s.cfg.Settings.SetSection("model", body); err != nil {
		return err
	}
	s.configChanged("model")
	return writeJSON(w, http.StatusOK, configWriteBody{OK: true, RestartRequired: false})
}

func (s *Server) listModelProviders(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Models == nil {
		return errNoModels
	}
	return writeJSON(w, http.StatusOK, providerNamesBody{Providers: s.cfg.Models.ProviderNames(), Local: nonNilLocal(s.cfg.Models.LocalServers())})
}

// getModelCatalog: ?provider=<name> filters; ?live=0 skips the providers' own /models lists.
func (s *Server) getModelCatalog(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Models == nil {
		return errNoModels
	}
	live := r.URL.Query().Get("live") != "0" && r.URL.Query().Get("live") != "false"
	models, errs := s.cfg.Models.Catalog(r.Context(), r.URL.Query().Get("provider"), live)
	if errs == nil {
		errs = map[string]string{}
	}
	return writeJSON(w, http.StatusOK, catalogBody{Models: models, Errors: errs, Local: nonNilLocal(s.cfg.Models.LocalServers())})
}

type availableBody struct {
	Provider string          `json:"provider"`
	Models   []availableItem `json:"models"`
	// Error says why the provider's own /models list could not be read.
	Error string `json:"error,omitempty"`
}

type availableItem struct {
	ID     string `json:"id"`
	Source string `json:"source"` // config, live or local
}

// getAvailableModels: ?provider=<name> (required): the models a provider
// offers, configured and live (the reference's later /api/models/available).
func (s *Server) getAvailableModels(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Models == nil {
		return errNoModels
	}
	p := r.URL.Query().Get("provider")
	if p == "" {
		return errorf(http.StatusBadRequest, "provider is required: /api/models/available?provider=<name>")
	}
	models, errs := s.cfg.Models.Catalog(r.Context(), p, true)
	b := availableBody{Provider: p, Models: []availableItem{}, Error: errs[p]}
	for _, m := range models {
		b.Models = append(b.Models, availableItem{ID: m.ModelID, Source: m.Source})
	}
	return writeJSON(w, http.StatusOK, b)
}

type testReq struct {
	Provider string `json:"provider"`
	ModelID  string `json:"model_id"`
}

func (s *Server) testModel(w http.ResponseWriter, r *http.Request) error {
	var req testReq
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &req, false); err != nil {
			return err
		}
	}
	return s.runTest(w, r, chi.URLParam(r, "name"), req.ModelID)
}

func (s *Server) testProvider(w http.ResponseWriter, r *http.Request) error {
	var req testReq
	if err := decodeJSON(r, &req, false); err != nil {
		return err
	}
	if req.Provider == "" {
		return writeJSON(w, http.StatusBadRequest, agent.TestResult{Error: "provider is required", TTFTMillis: -1})
	}
	return s.runTest(w, r, req.Provider, req.ModelID)
}

// runTest answers 200 with the result when the model replied, 400 with
// ok:false and the error otherwise (reference shape).
func (s *Server) runTest(w http.ResponseWriter, r *http.Request, provider, modelID string) error {
	if s.cfg.Models == nil {
		return errNoModels
	}
	res, err := s.cfg.Models.Test(r.Context(), provider, modelID)
	if err != nil {
		if r.Context().Err() != nil {
			return err
		}
		res = agent.TestResult{Error: err.Error(), TTFTMillis: -1}
		if errors.Is(err, agent.ErrUnknownProvider) {
			res.ErrorKind = "unknown provider"
		}
	}
	status := http.StatusOK
	if !res.OK {
		status = http.StatusBadRequest
	}
	return writeJSON(w, status, res)
}

// rawProviders is the providers section as written (keys unmasked, ${VAR} kept).
func (s *Server) rawProviders() (map[string]any, error) {
	v, err := s.cfg.Settings.Section("providers")
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

func (s *Server) setProvider(name string, entry map[string]any) error {
	provs, err := s.rawProviders()
	if err != nil {
		return err
	}
	provs[name] = entry
	if err := s.cfg.Settings.SetSection("providers", provs); err != nil {
		return err
	}
	s.configChanged("providers")
	return nil
}

func (s *Server) configChanged(section string) {
	s.emit("config.update", map[string]any{"section": section})
	s.Broadcast("config", "updated", section)
}

func modelEntries(ms []config.ModelEntry) []any {
	out := make([]any, 0, len(ms))
	for _, m := range ms {
		e := map[string]any{"id": m.ID}
		if m.InputCostPerMillion != 0 {
			e["input_cost_per_million"] = m.InputCostPerMillion
		}
		if m.OutputCostPerMillion != 0 {
			e["output_cost_per_million"] = m.OutputCostPerMillion
		}
		if m.ContextWindow != 0 {
			e["context_window"] = m.ContextWindow
		}
		out = append(out, e)
	}
	return out
}

func falsy(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case string:
		return t == ""
	case bool:
		return !t
	case float64:
		return t == 0
	case []any:
		return len(t) == 0
	case map[string]any:
		return len(t) == 0
	}
	return false
}

func nonNilLocal(l []agent.LocalServer) []agent.LocalServer {
	if l == nil {
		return []agent.LocalServer{}
	}
	sort.Slice(l, func(i, j int) bool { return l[i].Name < l[j].Name })
	return l
}
