package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

const (
	// minBackoff and maxBackoff bound the wait before restarting a server
	// that crashed or could not connect; it doubles on each failure.
	minBackoff = 250 * time.Millisecond
	maxBackoff = 30 * time.Second
	// crashLimit is how many failures in a row mark a server "error"
	// (it keeps being retried at maxBackoff at most).
	crashLimit = 3
	// stableAfter is how long a connection must last to reset the backoff.
	stableAfter = 10 * time.Second
	// connectTimeout bounds initialize + tools/list. It is generous because
	// `npx -y …` may download the server on first use.
	connectTimeout = 90 * time.Second
	// listTimeout bounds a tools/list after list_changed.
	listTimeout = 10 * time.Second
)

// server supervises one enabled server: it connects, follows list_changed,
// and restarts the server with capped exponential backoff when it goes away.
type server struct {
	pool   *Pool
	spec   Spec
	cancel context.CancelFunc // ends the supervisor's context
	done   chan struct{}
	runs   atomic.Bool

	mu      sync.Mutex // guards the fields below
	status  string
	lastErr string
	c       *conn
	tools   []toolEntry
}

// toolEntry is one tool as offered to the agent.
type toolEntry struct {
	exposed string // <server>__<tool>, sanitised
	name    string // the server's own name for it
	desc    string
	schema  json.RawMessage
}

// newServer returns a supervisor that is not running yet, and the context
// it runs under (cancelled by stop).
func (p *Pool) newServer(sp Spec) (*server, context.Context) {
	ctx, cancel := context.WithCancel(context.Background())
	return &server{pool: p, spec: sp, cancel: cancel, done: make(chan struct{}), status: StatusStarting}, ctx
}

// connect dials the server once, bounded by connectTimeout.
func (sv *server) connect(ctx context.Context) (*conn, error) {
	dctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	return sv.pool.dial(dctx, ctx, sv.spec, func(c *conn, sess *sdk.ClientSession) { sv.toolsChanged(ctx, c, sess) })
}

// start runs the supervisor under ctx (from newServer). c is an
// already-probed connection or nil; failures and lastErr carry a failed
// probe over.
func (sv *server) start(ctx context.Context, c *conn, failures int, lastErr error) {
	// The first state is set before returning, so a REST write that waited
	// for the probe answers with it.
	switch {
	case c != nil:
		sv.setConnected(c)
	case lastErr != nil:
		sv.setFailed(lastErr, failures)
	}
	sv.runs.Store(true)
	go sv.run(ctx, c, failures, lastErr)
}

// stop ends the supervisor and its connection, and waits for both.
func (sv *server) stop() {
	sv.cancel()
	if sv.runs.Load() {
		<-sv.done
	}
}

func (sv *server) run(ctx context.Context, c *conn, failures int, lastErr error) {
	defer close(sv.done)
	backoff := minBackoff
	if lastErr != nil && !sleep(ctx, backoff) {
		return
	}
	for {
		if c == nil {
			var err error
			c, err = sv.connect(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				failures++
				sv.setFailed(err, failures)
				backoff = min(backoff*2, maxBackoff)
				if !sleep(ctx, backoff) {
					return
				}
				continue
			}
			sv.setConnected(c)
		}
		up := time.Now()
		err := c.wait(ctx)
		c.close()
		sv.setConn(nil)
		if ctx.Err() != nil {
			return
		}
		if time.Since(up) > stableAfter {
			failures, backoff = 0, minBackoff
		}
		failures++
		sv.setFailed(withStderr(fmt.Errorf("server went away: %w", err), c), failures)
		sv.pool.log.Warn("mcp server went away", "mcp", sv.spec.Name, "err", err, "failures", failures)
		c = nil
		if !sleep(ctx, backoff) {
			return
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (sv *server) setFailed(err error, failures int) {
	sv.mu.Lock()
	sv.status = StatusStarting
	if failures >= crashLimit {
		sv.status = StatusError
	}
	sv.lastErr = err.Error()
	sv.tools = nil
	sv.mu.Unlock()
	sv.pool.changed("updated", sv.spec.Name)
}

func (sv *server) setConnected(c *conn) {
	tools := c.toolList()
	sv.mu.Lock()
	sv.c = c
	sv.status = StatusConnected
	sv.lastErr = ""
	sv.tools = sv.entries(tools)
	sv.mu.Unlock()
	sv.pool.log.Info("mcp server connected", "mcp", sv.spec.Name, "tools", len(tools))
	sv.pool.changed("updated", sv.spec.Name)
}

func (sv *server) setConn(c *conn) {
	sv.mu.Lock()
	sv.c = c
	sv.mu.Unlock()
}

// toolsChanged follows notifications/tools/list_changed on c. The
// notification may arrive while c is still being dialed; c keeps the list
// and setConnected picks it up.
func (sv *server) toolsChanged(ctx context.Context, c *conn, sess *sdk.ClientSession) {
	ctx, cancel := context.WithTimeout(ctx, listTimeout)
	defer cancel()
	tools, err := listTools(ctx, sess)
	if err != nil {
		sv.pool.log.Warn("mcp tools/list after list_changed", "mcp", sv.spec.Name, "err", err)
		return
	}
	c.setTools(tools)
	sv.mu.Lock()
	current := sv.c == c
	if current {
		sv.tools = sv.entries(tools)
	}
	sv.mu.Unlock()
	if current {
		sv.pool.changed("updated", sv.spec.Name)
	}
}

func (sv *server) entries(tools []*sdk.Tool) []toolEntry {
	out := make([]toolEntry, 0, len(tools))
	for _, t := range tools {
		schema, err := json.Marshal(t.InputSchema)
		if err != nil || string(schema) == "null" {
			schema = json.RawMessage(`{"type":"object"}`)
		}
		out = append(out, toolEntry{
			exposed: ToolName(sv.spec.Name, t.Name),
			name:    t.Name,
			desc:    t.Description,
			schema:  schema,
		})
	}
	return out
}

// snapshot returns the server's state for a row.
func (sv *server) snapshot() (status, lastErr string, tools int) {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	return sv.status, sv.lastErr, len(sv.tools)
}
