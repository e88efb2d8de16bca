package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"openagent/gateway"
	"openagent/internal/config"
	"openagent/internal/eventlog"
	"openagent/internal/listen"
	"openagent/internal/store"
)

// Options configure a Gateway.
type Options struct {
	// Dir is the agent directory; created when missing.
	Dir string
	// Host, Port and Token override openagent.yaml when set (command-line flags).
	Host  string
	Port  int
	Token string
	// Assets is the built web UI. Optional.
	Assets fs.FS
	// Stderr receives the human log as well as logs/openagent.log. Optional.
	Stderr io.Writer
	// ExtraOrigins are allowed besides the defaults (the desktop webview).
	ExtraOrigins []string
	// OnState is called after every state change. Optional.
	OnState func(State)
	// OnRestartRequest, when set, replaces the in-process restart (headless
	// serve re-execs after an update). Optional.
	OnRestartRequest func()
}

// State is what the tray and the window show.
type State struct {
	Running bool
	Port    int
	Host    string
	Token   string
	Err     error
}

// ErrAlreadyRunning means another process serves this agent directory.
type ErrAlreadyRunning struct{ Port int }

func (e *ErrAlreadyRunning) Error() string {
	return fmt.Sprintf("already running on port %d", e.Port)
}

// Gateway runs the gateway and everything behind it in this process, and can
// be started, stopped and restarted (by the tray, or POST /api/restart).
type Gateway struct {
	opts Options

	ops sync.Mutex // serialises Start, Stop and Restart

	mu       sync.Mutex // guards the fields below
	state    State
	cancel   context.CancelFunc
	done     chan struct{}
	lastPort int
	lastConf int // channels.websocket.port when lastPort was bound
	settings *config.File
	// execCheck returns the binary an update installed, which the next
	// restart must exec, or "" (issue 8).
	execCheck func() string
}

// NewGateway prepares a Gateway; nothing runs until Start.
func NewGateway(opts Options) *Gateway {
	return &Gateway{opts: opts}
}

// State returns the current state.
func (g *Gateway) State() State {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.state
}

// Settings returns openagent.yaml once Start has opened it.
func (g *Gateway) Settings() *config.File {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.settings
}

func (g *Gateway) setState(s State) {
	g.mu.Lock()
	g.state = s
	fn := g.opts.OnState
	g.mu.Unlock()
	if fn != nil {
		fn(s)
	}
}

// Start opens the agent directory, binds the port, writes .port and serves
// in the background. It returns once the gateway answers, or with an error.
func (g *Gateway) Start() error {
	g.ops.Lock()
	defer g.ops.Unlock()
	return g.start()
}

// Stop shuts the gateway down in order and waits for it.
func (g *Gateway) Stop() {
	g.ops.Lock()
	defer g.ops.Unlock()
	g.stop()
}

// Restart stops and starts again, preferring the same port.
func (g *Gateway) Restart() error {
	if bin := g.pendingBinary(); bin != "" {
		return g.restartInto(bin) // an update was installed: run the new binary
	}
	g.ops.Lock()
	defer g.ops.Unlock()
	g.stop()
	return g.start()
}

// Done is closed when the running gateway stops by itself (a serve error).
func (g *Gateway) Done() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.done == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	return g.done
}

func (g *Gateway) stop() {
	g.mu.Lock()
	cancel, done := g.cancel, g.done
	g.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

func (g *Gateway) start() (err error) {
	if s := g.State(); s.Running {
		return nil
	}
	defer func() {
		if err != nil {
			g.setState(State{Err: err})
		}
	}()
	dir, err := filepath.Abs(g.opts.Dir)
	if err != nil {
		return err
	}
	if err := ensureDir(dir); err != nil {
		return err
	}
	settings, err := config.Open(filepath.Join(dir, config.FileName))
	if err != nil {
		return err
	}
	settings.Override(func(c *config.Config) {
		ws := &c.Channels.WebSocket
		if g.opts.Host != "" {
			ws.Host = g.opts.Host
		} else if c.Desktop.LAN {
			ws.Host = "0.0.0.0"
		}
		if g.opts.Port != 0 {
			ws.Port = g.opts.Port
		}
		if g.opts.Token != "" {
			ws.Token = g.opts.Token
		}
	})
	cfg := settings.Config()
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%s: %w", settings.Path(), err)
	}
	ws := cfg.Channels.WebSocket
	if !config.IsLoopback(ws.Host) && ws.Token == "" {
		// Decision A1: a non-loopback bind needs a token; make and keep one.
		tok, err := NewToken()
		if err != nil {
			return err
		}
		if err := settings.SetValue(tok, "channels", "websocket", "token"); err != nil {
			return fmt.Errorf("save generated token: %w", err)
		}
		cfg = settings.Config()
		ws = cfg.Channels.WebSocket
		fmt.Fprintf(g.stderr(), "Other devices may connect to %s: generated an access token and saved it in %s:\n  %s\n", ws.Host, settings.Path(), ws.Token)
	}

	if port, err := listen.ReadPort(dir); err == nil {
		if running(dir, port, ws.Token) {
			return &ErrAlreadyRunning{Port: port}
		}
	}

	logFile, err := os.OpenFile(filepath.Join(dir, "logs", "openagent.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	var w io.Writer = logFile
	if g.opts.Stderr != nil {
		w = io.MultiWriter(logFile, g.opts.Stderr)
	}
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))

	preferred := ws.Port
	g.mu.Lock()
	if g.lastPort != 0 && g.opts.Port == 0 && g.lastConf == ws.Port {
		// Keep the port clients know, unless the setting changed since.
		preferred = g.lastPort
	}
	g.mu.Unlock()
	ln, err := listen.Bind(ws.Host, preferred)
	if err != nil {
		logFile.Close()
		return err
	}
	port := listen.Port(ln)

	ctx, cancel := context.WithCancel(context.Background())
	events, err := eventlog.Open(filepath.Join(dir, "logs", "events.jsonl"))
	if err != nil {
		cancel()
		ln.Close()
		logFile.Close()
		return err
	}
	dbPath := config.Resolve(dir, cfg.Memory.DBPath)
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		cancel()
		ln.Close()
		events.Close()
		logFile.Close()
		return err
	}
	gcfg := gateway.Config{
		Dir:          dir,
		Settings:     settings,
		DB:           db,
		Events:       events,
		Log:          log,
		Version:      Version,
		Assets:       g.opts.Assets,
		ExtraOrigins: g.opts.ExtraOrigins,
		Restart:      g.requestRestart,
	}
	svc, err := buildServices(ctx, &gcfg, log)
	if err != nil {
		cancel()
		ln.Close()
		db.Close()
		events.Close()
		logFile.Close()
		return err
	}
	srv, err := gateway.New(gcfg)
	if err != nil {
		cancel()
		ln.Close()
		svc.close()
		db.Close()
		events.Close()
		logFile.Close()
		return err
	}
	svc.attach(srv)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	if err := listen.WritePort(dir, port); err != nil {
		log.Error("write port file", "err", err)
	}
	svc.start(ctx)

	done := make(chan struct{})
	g.mu.Lock()
	g.cancel, g.done, g.lastPort, g.lastConf, g.settings = cancel, done, port, ws.Port, settings
	g.execCheck = svc.execBinary
	g.mu.Unlock()
	g.setState(State{Running: true, Port: port, Host: ws.Host, Token: ws.Token})
	log.Info("gateway listening", "addr", ln.Addr().String(), "dir", dir)

	go func() {
		err := <-served
		cancel() // a serve error stops everything too
		svc.close()
		listen.RemovePort(dir, port)
		db.Close()
		events.Close()
		log.Info("gateway stopped")
		logFile.Close()
		g.mu.Lock()
		g.cancel = nil
		g.mu.Unlock()
		if err != nil {
			g.setState(State{Err: err})
		} else {
			g.setState(State{})
		}
		close(done)
	}()
	return nil
}

// requestRestart restarts in the background (the HTTP reply is already out).
func (g *Gateway) requestRestart() {
	if bin := g.pendingBinary(); bin != "" {
		go func() { // an update was installed: run the new binary
			if err := g.restartInto(bin); err != nil {
				fmt.Fprintf(g.stderr(), "restart: %v\n", err)
			}
		}()
		return
	}
	if g.opts.OnRestartRequest != nil {
		g.opts.OnRestartRequest()
		return
	}
	go func() {
		if err := g.Restart(); err != nil {
			fmt.Fprintf(g.stderr(), "restart: %v\n", err)
		}
	}()
}

func (g *Gateway) stderr() io.Writer {
	if g.opts.Stderr != nil {
		return g.opts.Stderr
	}
	return io.Discard
}

// ensureDir creates the agent directory layout (contract §1.4).
func ensureDir(dir string) error {
	for _, d := range []string{dir, filepath.Join(dir, "memories"), filepath.Join(dir, "logs")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create agent directory: %w", err)
		}
	}
	return nil
}

// running reports whether a gateway answers on port for the same agent directory.
func running(dir string, port int, token string) bool {
	req, _ := http.NewRequest(http.MethodGet, "http://"+net.JoinHostPort("127.0.0.1", strconv.Itoa(port))+"/api/agent-info", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var info gateway.AgentInfo
	if err := decodeBody(resp.Body, &info); err != nil {
		return false
	}
	same, _ := sameDir(info.AgentDir, dir)
	return same
}

func sameDir(a, b string) (bool, error) {
	sa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	sb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(sa, sb), nil
}

// NewToken makes a random access token: 32 bytes, URL-safe.
func NewToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
