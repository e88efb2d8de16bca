// Package gateway serves the agent on one port: the WebSocket protocol on /ws,
// the REST API on /api/* and the web UI on /. The contract is
// ../shared/spec/gateway.md; docs/protocol.md describes what is built.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"openagent/internal/agent"
	"openagent/internal/config"
	"openagent/internal/eventlog"
	"openagent/internal/mcp"
	"openagent/internal/schedule"
	"openagent/internal/store"
	"openagent/internal/upload"
	"openagent/internal/vault"
)

// Agent runs turns for the gateway. internal/agent implements it; tests use doubles.
type Agent interface {
	// Run answers one turn, calling status for progress lines. It returns
	// promptly with ctx's error when ctx is cancelled.
	Run(ctx context.Context, t agent.Turn, status func(string)) (agent.Reply, error)
	// Forget erases the stored history of a session.
	Forget(ctx context.Context, sessionID string) error
}

// UsageReporter summarises this month's spend for the /usage command.
type UsageReporter interface {
	// MonthSummary returns this UTC month's spend, the budget (0 = none) and
	// the number of models with usage.
	MonthSummary(ctx context.Context) (spend, budget float64, models int, err error)
}

// Updater checks the release feed and installs a newer binary (decision A18).
type Updater interface {
	// Update checks the feed; when a newer version exists it installs it and
	// returns updated=true. The caller restarts afterwards.
	Update(ctx context.Context) (updated bool, oldVersion, newVersion string, err error)
}

// Config holds the gateway's dependencies. Fields are required unless marked optional.
type Config struct {
	// Dir is the agent directory (absolute).
	Dir string
	// Settings is openagent.yaml.
	Settings *config.File
	// DB is openagent.db.
	DB *store.DB
	// Events is logs/events.jsonl. Optional.
	Events *eventlog.Log
	// Log is the human log. Optional; defaults to discarding.
	Log *slog.Logger
	// Version is reported in auth_ok, /api/health and /api/agent-info.
	Version string
	// Assets is the built web UI served at /. Optional: without it / explains
	// how to build the UI.
	Assets fs.FS
	// Agent runs turns. Optional: without it every turn gets agent.ErrNoModel.
	Agent Agent
	// Restart is called after POST /api/restart or /restart has answered.
	// Optional: without it restart answers "not supported".
	Restart func()
	// ExtraOrigins are origins allowed besides the gateway's own and the
	// configured allowed_origins (the desktop webview adds wails://wails).
	ExtraOrigins []string

	// Usage backs the /usage command. Optional.
	Usage UsageReporter
	// Updater backs /update and POST /api/update. Optional.
	Updater Updater

	// Services below are wired by their own issues; each is optional and its
	// routes answer 503 with a clear message while it is nil.
	// -- agent runtime (issue 3) --
	// Models backs /api/models/* and /api/providers*. Optional; *agent.Agent implements it.
	Models ModelService
	// Transcripts backs GET /api/sessions*. Optional; *agent.Agent implements it.
	Transcripts Transcripts
	// UsageStats backs /api/usage*. Optional; *usage.Log implements it.
	UsageStats UsageStats
	// -- vault (issue 4) --
	// Vault backs /api/vault/*; nil answers 503. Its OnChange is wired to Broadcast by app.
	Vault *vault.Vault
	// VaultIndexWait bounds how long a vault read waits for the vault's
	// first index before answering 503 (default 10 s).
	VaultIndexWait time.Duration
	// -- mcp (issue 6) --
	// MCP is the MCP pool behind /api/mcps; nil answers 503.
	MCP *mcp.Pool
	// -- scheduler, uploads, files, update (issue 8) --
	// Scheduler backs /api/scheduled-tasks; nil answers 503 (scheduler.enabled is false).
	Scheduler *schedule.Scheduler
	// Uploads backs POST /api/upload; nil answers 503.
	Uploads *upload.Uploader
}

// Server is the gateway. Build it with New and run it with Serve.
type Server struct {
	cfg    Config
	log    *slog.Logger
	hub    *hub
	lanes  *lanes
	access *access
	mux    http.Handler

	// ctx is the Serve context; turns derive from it, not from a connection.
	baseMu  sync.Mutex // guards baseCtx and port
	baseCtx context.Context
	port    int
	host    string // bound IP, "" before Serve
}

// New builds a Server. It does not listen; call Serve.
func New(cfg Config) (*Server, error) {
	if cfg.Dir == "" || cfg.Settings == nil || cfg.DB == nil {
		return nil, errors.New("gateway: Dir, Settings and DB are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	s := &Server{cfg: cfg, log: cfg.Log.With("component", "gateway"), baseCtx: context.Background()}
	s.hub = newHub(s.log, cfg.Events)
	s.lanes = newLanes(s)
	s.access = newAccess(s)
	s.mux = s.routes()
	return s, nil
}

// Handler is the whole HTTP surface: access checks, /ws, /api/* and /.
func (s *Server) Handler() http.Handler { return s.access.wrap(s.mux) }

// Port is the port Serve is listening on (0 before Serve).
func (s *Server) Port() int {
	s.baseMu.Lock()
	defer s.baseMu.Unlock()
	return s.port
}

// Broadcast sends a resource_event to every connected client (decision A11).
// resource is vault, mcp, scheduled_task or config; id may be empty.
func (s *Server) Broadcast(resource, action, id string) {
	s.hub.broadcast(frame{Type: "resource_event", Resource: resource, Action: action, ID: id})
}

// ShutdownTimeout bounds how long Serve waits for HTTP handlers to finish.
const ShutdownTimeout = 1500 * time.Millisecond

// Serve answers on ln until ctx ends, then stops in order: stop accepting,
// give running turns the shutdown error, close WebSockets with 1001. It does
// not close ln's underlying socket when ln is a Holder. It returns within 2 s.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	a, _ := ln.Addr().(*net.TCPAddr)
	if a != nil && !a.IP.IsLoopback() && s.token() == "" {
		return fmt.Errorf("refusing to listen on %s without a token (decision A1): set channels.websocket.token", a)
	}
	s.baseMu.Lock()
	s.baseCtx = ctx
	if a != nil {
		s.port = a.Port
		s.host = a.IP.String()
	}
	s.baseMu.Unlock()

	srv := &http.Server{
		Handler:           s.Handler(),
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	go s.hub.sweep(ctx)
	s.cfg.Events.Emit("gateway.start", map[string]any{"port": s.Port()})
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	select {
	case err := <-errc:
		s.lanes.shutdown()
		s.hub.closeAll()
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(sctx) }() // stops accepting at once
	s.lanes.shutdown()
	s.hub.closeAll()
	err := <-shut
	if err != nil {
		srv.Close()
	}
	<-errc
	return nil
}

// base is the context turns run under.
func (s *Server) base() context.Context {
	s.baseMu.Lock()
	defer s.baseMu.Unlock()
	return s.baseCtx
}

// emit writes a structured event.
func (s *Server) emit(event string, fields map[string]any) { s.cfg.Events.Emit(event, fields) }
