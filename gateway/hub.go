package gateway

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"openagent/internal/eventlog"
)

// Limits for replies held while a client is away (decision A10).
const (
	maxHeldFrames = 100
	maxHeldAge    = 10 * time.Minute
	sweepInterval = time.Minute
)

// hub owns client membership: which connection currently speaks for each
// client_id, and the frames held for clients that are away.
type hub struct {
	log    *slog.Logger
	events *eventlog.Log

	mu      sync.Mutex // guards clients, the fields of every client, and all
	clients map[string]*client
	all     map[*conn]struct{} // every open connection, authenticated or not
	closing bool               // set by closeAll; later connections are refused
}

// client is one client_id. It outlives its connections.
type client struct {
	id        string
	conn      *conn // nil while away
	held      []heldFrame
	sessions  map[string]struct{} // sessions this client has used
	awaySince time.Time
}

type heldFrame struct {
	at  time.Time
	msg []byte
}

func newHub(log *slog.Logger, events *eventlog.Log) *hub {
	return &hub{log: log, events: events, clients: map[string]*client{}, all: map[*conn]struct{}{}}
}

// track adds or removes an open connection. Adding fails once closeAll has
// run, so a connection upgraded during shutdown is not left open.
func (h *hub) track(c *conn, open bool) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !open {
		delete(h.all, c)
		return true
	}
	if h.closing {
		return false
	}
	h.all[c] = struct{}{}
	return true
}

// attach makes c the current connection of id, taking over from an older one
// (closed with 4001), and flushes held frames to it in order.
func (h *hub) attach(id string, c *conn) {
	h.mu.Lock()
	cl := h.clients[id]
	if cl == nil {
		cl = &client{id: id, sessions: map[string]struct{}{}}
		h.clients[id] = cl
	}
	old := cl.conn
	cl.conn = c
	held := cl.held
	cl.held = nil
	now := time.Now()
	for _, f := range held {
		if now.Sub(f.at) <= maxHeldAge {
			c.enqueue(f.msg)
		}
	}
	h.mu.Unlock()
	if old != nil && old != c {
		old.closeWith(closeTakenOver, "client_id taken over")
		h.events.Emit("gateway.client_takeover", map[string]any{"client_id": id})
	}
}

// detach forgets c as id's connection if it still is.
func (h *hub) detach(id string, c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	cl := h.clients[id]
	if cl != nil && cl.conn == c {
		cl.conn = nil
		cl.awaySince = time.Now()
	}
}

// send delivers a frame to id's current connection, or holds it while the
// client is away.
func (h *hub) send(id string, f frame) {
	msg := f.encode()
	h.mu.Lock()
	defer h.mu.Unlock()
	cl := h.clients[id]
	if cl == nil {
		cl = &client{id: id, sessions: map[string]struct{}{}, awaySince: time.Now()}
		h.clients[id] = cl
	}
	if cl.conn != nil {
		cl.conn.enqueue(msg)
		return
	}
	if len(cl.held) >= maxHeldFrames {
		cl.held = cl.held[1:]
	}
	cl.held = append(cl.held, heldFrame{at: time.Now(), msg: msg})
}

// broadcast sends f to every connected client; absent clients do not get it held.
func (h *hub) broadcast(f frame) {
	msg := f.encode()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, cl := range h.clients {
		if cl.conn != nil && cl.conn.authed() {
			cl.conn.enqueue(msg)
		}
	}
}

// noteSession records that id used session sid.
func (h *hub) noteSession(id, sid string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if cl := h.clients[id]; cl != nil {
		cl.sessions[sid] = struct{}{}
	}
}

// sessions returns the sessions id has used.
func (h *hub) sessions(id string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	cl := h.clients[id]
	if cl == nil {
		return nil
	}
	out := make([]string, 0, len(cl.sessions))
	for s := range cl.sessions {
		out = append(out, s)
	}
	return out
}

// forgetSessions clears id's session list.
func (h *hub) forgetSessions(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if cl := h.clients[id]; cl != nil {
		cl.sessions = map[string]struct{}{}
	}
}

// connected counts clients with a live, authenticated connection.
func (h *hub) connected() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, cl := range h.clients {
		if cl.conn != nil {
			n++
		}
	}
	return n
}

// sweep drops expired held frames and clients that have been away too long.
func (h *hub) sweep(ctx context.Context) {
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			h.expire(now)
		}
	}
}

func (h *hub) expire(now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, cl := range h.clients {
		i := 0
		for i < len(cl.held) && now.Sub(cl.held[i].at) > maxHeldAge {
			i++
		}
		cl.held = cl.held[i:]
		if cl.conn == nil && len(cl.held) == 0 && now.Sub(cl.awaySince) > maxHeldAge {
			delete(h.clients, id)
		}
	}
}

// closeAll closes every connection with 1001 (going away).
func (h *hub) closeAll() {
	h.mu.Lock()
	h.closing = true
	conns := make([]*conn, 0, len(h.all))
	for c := range h.all {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	// Queue the close behind frames already queued (the shutdown errors), so
	// they reach the client first; force it if a writer does not get there.
	for _, c := range conns {
		c.sendThenClose(nil, closeGoingAway, "server shutting down")
	}
	deadline := time.After(closeFlushWait)
	for _, c := range conns {
		select {
		case <-c.done:
		case <-deadline:
		}
		c.closeWith(closeGoingAway, "server shutting down")
	}
}

// closeFlushWait bounds how long closeAll lets writers flush queued frames.
const closeFlushWait = 300 * time.Millisecond
