package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"unicode/utf8"

	"openagent/internal/config"
	"openagent/internal/llm"
	"openagent/internal/store"
	"openagent/internal/usage"
)

// Config holds the agent's dependencies. Fields are required unless marked optional.
type Config struct {
	// Settings is openagent.yaml; model and providers are read on every turn.
	Settings *config.File
	// DB holds the messages table.
	DB *store.DB
	// Usage records one row per model call and answers budget questions.
	Usage *usage.Log
	// Log is optional; defaults to discarding.
	Log *slog.Logger
	// HTTPClient is optional; each SDK's default client is used when nil.
	HTTPClient *http.Client
	// MaxRetries is how often the SDKs retry rate limits and server errors; 0 means never.
	MaxRetries int
	// ImageDir is optional: images named in user messages are shown to the
	// model when they are inside it (the uploads folder; see images.go).
	ImageDir string
	// OpenProvider is optional: it replaces the SDK-backed providers
	// (benchmarks use an in-memory one to measure the loop alone).
	OpenProvider func(ctx context.Context, typ string, c llm.Config) (llm.Provider, error)
}

// Limits of one turn.
const (
	// DefaultMaxIterations bounds the model calls of one turn (model.max_iterations overrides).
	DefaultMaxIterations = 10
	// DefaultContextWindow is assumed for models with no known window.
	DefaultContextWindow = 32768
	// answerReserve is the part of the context window kept free for the answer.
	answerReserve = 4096
	// maxToolResultRunes bounds a tool result sent back to the model.
	maxToolResultRunes = 100_000
	// maxStatusResultRunes bounds the result shown in a tool status event.
	maxStatusResultRunes = 200
)

// Agent runs turns. It is safe for concurrent use; turns of different
// sessions run in parallel.
type Agent struct {
	cfg     Config
	log     *slog.Logger
	history history

	mu       sync.Mutex // guards tools, clients, local and noImages
	tools    Tools
	clients  map[providerKey]llm.Provider
	local    []LocalServer
	noImages map[string]bool // runtime ids of models that refused images
}

// New builds an Agent.
func New(cfg Config) (*Agent, error) {
	if cfg.Settings == nil || cfg.DB == nil || cfg.Usage == nil {
		return nil, errors.New("agent: Settings, DB and Usage are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Agent{cfg: cfg, log: cfg.Log.With("component", "agent"), history: history{cfg.DB}, clients: map[providerKey]llm.Provider{}}, nil
}

// SetTools installs the tool registry (the MCP pool). It may be called at
// any time; a running turn keeps the registry it started with.
func (a *Agent) SetTools(t Tools) {
	a.mu.Lock()
	a.tools = t
	a.mu.Unlock()
}

func (a *Agent) toolsNow() Tools {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.tools
}

// Forget erases a session's history (new, clear, reset).
func (a *Agent) Forget(ctx context.Context, sessionID string) error {
	return a.history.forget(ctx, sessionID)
}

// BudgetError refuses a turn once this month's spend reached the budget.
type BudgetError struct{ Spend, Limit float64 }

func (e *BudgetError) Error() string {
	return fmt.Sprintf("Monthly budget reached: $%.2f spent of the $%.2f budget this month (UTC). Raise model.monthly_budget, or set model.budget_warn_only: true to keep going.", e.Spend, e.Limit)
}

// ToolEvent is the JSON status text of one tool call (contract §2.7).
type ToolEvent struct {
	Tool   string          `json:"tool"`
	Status string          `json:"status"` // running, done or error
	Params json.RawMessage `json:"params,omitempty"`
	Result string          `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
}

func (e ToolEvent) String() string {
	b, _ := json.Marshal(e)
	return string(b)
}

// Run answers one turn: it checks the budget, loads and trims the history,
// streams the model and runs its tool calls until a final answer. It
// returns ctx's error promptly once ctx is cancelled, which also closes the
// provider's HTTP stream and cancels running tool calls.
func (a *Agent) Run(ctx context.Context, t Turn, status func(string)) (Reply, error) {
	if status == nil {
		status = func(string) {}
	}
	cfg := a.cfg.Settings.Config()
	tg, err := resolve(cfg, t.Channel)
	if err != nil {
		return Reply{}, err
	}
	budget, err := a.cfg.Usage.CheckBudget(ctx)
	if err != nil {
		return Reply{}, err
	}
	if budget.Level == "over" && !budget.WarnOnly {
		return Reply{}, &BudgetError{budget.Spend, budget.Limit}
	}
	prov, err := a.provider(ctx, tg)
	if err != nil {
		return Reply{}, err
	}
	status("Thinking...")

	tools := a.toolsNow()
	var specs []llm.ToolSpec
	if tools != nil {
		for _, tl := range tools.List(ctx) {
			specs = append(specs, llm.ToolSpec{Name: tl.Name, Description: tl.Description, Schema: tl.InputSchema})
		}
	}

	past, err := a.history.load(ctx, t.SessionID)
	if err != nil {
		return Reply{}, err
	}
	turnID := newID()
	user := llm.Message{Role: llm.RoleUser, Text: t.Text}
	req := llm.Request{Model: tg.modelID, System: cfg.SystemPrompt, Tools: specs}
	past, err = a.trim(ctx, tg, t.SessionID, req, past, user, status)
	if err != nil {
		return Reply{}, err
	}
	for _, m := range past {
		req.Messages = append(req.Messages, m.msg)
	}
	req.Messages = append(req.Messages, user)
	if a.takesImages(tg.RuntimeID()) {
		a.withImages(req.Messages)
	}

	// Everything the turn adds is saved at the end, even when it fails after
	// the model answered, so a restart or a stop loses nothing it produced.
	added := []llm.Message{user}
	answered := false
	defer func() {
		if !answered {
			return
		}
		if err := a.history.append(context.WithoutCancel(ctx), t.SessionID, turnID, tg.RuntimeID(), added); err != nil {
			a.log.Error("save history", "session_id", t.SessionID, "err", err)
		}
	}()

	maxIter := cfg.Model.MaxIterations
	if maxIter <= 0 {
		maxIter = DefaultMaxIterations
	}
	for iter := 0; iter < maxIter; iter++ {
		resp, err := a.call(ctx, prov, tg, t.SessionID, req)
		if err != nil && refusedImages(err) {
			// A model without vision refuses images: say so, and send the
			// text alone (it still names the files).
			if plain, had := withoutImages(req.Messages); had {
				a.refusedImagesOnce(tg.RuntimeID())
				status(fmt.Sprintf("%s did not take the attached images, so it gets their file paths only: %v", tg.RuntimeID(), err))
				req.Messages = plain
				resp, err = a.call(ctx, prov, tg, t.SessionID, req)
			}
		}
		if err != nil {
			return Reply{}, err
		}
		answered = true
		msg := llm.Message{Role: llm.RoleAssistant, Text: resp.Text, ToolCalls: resp.ToolCalls}
		added = append(added, msg)
		req.Messages = append(req.Messages, msg)
		if len(resp.ToolCalls) == 0 {
			a.budgetWarning(ctx, status)
			return Reply{Text: resp.Text, Model: tg.RuntimeID()}, nil
		}
		for _, c := range resp.ToolCalls {
			res := a.runTool(ctx, tools, c, status)
			added = append(added, res)
			req.Messages = append(req.Messages, res)
			if err := ctx.Err(); err != nil {
				return Reply{}, err
			}
		}
	}
	return Reply{}, fmt.Errorf("the model was still calling tools after %d rounds; stopped (raise model.max_iterations to allow more)", maxIter)
}

// call streams one model call and records its usage row. A call cut off by
// cancellation, or failing after text arrived, is still recorded as an
// estimate: the provider bills the work it did.
func (a *Agent) call(ctx context.Context, prov llm.Provider, tg target, sessionID string, req llm.Request) (llm.Response, error) {
	var partial strings.Builder
	streamed := false
	resp, err := prov.Stream(ctx, req, func(s string) { streamed = true; partial.WriteString(s) })
	if err != nil {
		if ctx.Err() != nil || streamed {
			a.record(context.WithoutCancel(ctx), tg, sessionID, llm.Usage{}, llm.EstimateRequest(req), llm.EstimateTokens(partial.String()))
		}
		if ctx.Err() != nil {
			return llm.Response{}, ctx.Err()
		}
		return llm.Response{}, err
	}
	a.record(ctx, tg, sessionID, resp.Usage, llm.EstimateRequest(req), llm.EstimateResponse(resp))
	return resp, nil
}

func (a *Agent) record(ctx context.Context, tg target, sessionID string, u llm.Usage, estIn, estOut int64) {
	e := usage.Entry{Provider: tg.provider, ModelID: tg.modelID, SessionID: sessionID,
		InputTokens: u.InputTokens, OutputTokens: u.OutputTokens, CachedTokens: u.CachedTokens}
	if !u.Reported {
		e.InputTokens, e.OutputTokens, e.CachedTokens, e.Estimated = estIn, estOut, 0, true
	}
	if _, err := a.cfg.Usage.Record(ctx, e); err != nil {
		a.log.Error("record usage", "model", tg.RuntimeID(), "err", err)
	}
}

// runTool runs one call through the registry, with running and done/error status events.
func (a *Agent) runTool(ctx context.Context, tools Tools, c llm.ToolCall, status func(string)) llm.Message {
	params := c.Args
	if len(params) == 0 || !json.Valid(params) || params[0] != '{' {
		params = json.RawMessage("{}")
	}
	status(ToolEvent{Tool: c.Name, Status: "running", Params: params}.String())
	res := llm.Message{Role: llm.RoleTool, ToolCallID: c.ID, ToolName: c.Name}
	var (
		out string
		err error
	)
	if tools == nil {
		err = fmt.Errorf("no tools are available")
	} else {
		out, err = tools.Call(ctx, c.Name, params)
	}
	if err != nil {
		status(ToolEvent{Tool: c.Name, Status: "error", Error: err.Error()}.String())
		res.Text, res.IsError = "error: "+err.Error(), true
		return res
	}
	status(ToolEvent{Tool: c.Name, Status: "done", Result: truncate(out, maxStatusResultRunes)}.String())
	res.Text = truncate(out, maxToolResultRunes)
	return res
}

// budgetWarning adds a status line once the month's spend reaches 80 %.
func (a *Agent) budgetWarning(ctx context.Context, status func(string)) {
	b, err := a.cfg.Usage.CheckBudget(ctx)
	if err != nil || b.Limit <= 0 {
		return
	}
	pct := 100 * b.Spend / b.Limit
	switch b.Level {
	case "warn":
		status(fmt.Sprintf("Budget warning: $%.2f of the $%.2f monthly budget spent (%.0f %%).", b.Spend, b.Limit, pct))
	case "over":
		status(fmt.Sprintf("Budget exceeded: $%.2f of the $%.2f monthly budget spent (%.0f %%); continuing because model.budget_warn_only is set.", b.Spend, b.Limit, pct))
	}
}

// trim drops the oldest turns while the prompt would not fit the model's
// context window, and says so in a status line.
func (a *Agent) trim(ctx context.Context, tg target, sessionID string, req llm.Request, past []storedMsg, user llm.Message, status func(string)) ([]storedMsg, error) {
	window := a.contextWindow(tg)
	fixed := llm.EstimateRequest(req) + llm.EstimateMessage(user) + answerReserve
	total := fixed
	for _, m := range past {
		total += llm.EstimateMessage(m.msg)
	}
	if total <= int64(window) {
		return past, nil
	}
	var dropped []string
	var droppedMsgs int
	var droppedTokens int64
	for len(past) > 0 && total > int64(window) {
		turn := past[0].turnID
		for len(past) > 0 && past[0].turnID == turn {
			n := llm.EstimateMessage(past[0].msg)
			total -= n
			droppedTokens += n
			droppedMsgs++
			past = past[1:]
		}
		dropped = append(dropped, turn)
	}
	if err := a.history.trim(ctx, sessionID, dropped); err != nil {
		return nil, err
	}
	status(fmt.Sprintf("History trimmed: dropped the %d oldest turn(s) (%d messages, about %d tokens) to fit the %d-token context window of %s.",
		len(dropped), droppedMsgs, droppedTokens, window, tg.RuntimeID()))
	return past, nil
}

// contextWindow is the config's context_window, else the known window, else a default.
func (a *Agent) contextWindow(tg target) int {
	for _, m := range tg.entry.Models {
		if m.ID == tg.modelID && m.ContextWindow > 0 {
			return m.ContextWindow
		}
	}
	if p, _ := a.cfg.Usage.Price(tg.provider, tg.modelID); p.ContextWindow > 0 {
		return p.ContextWindow
	}
	return DefaultContextWindow
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
