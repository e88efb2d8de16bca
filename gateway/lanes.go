package gateway

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"openagent/internal/agent"
)

// maxPending is how many turns one conversation may have waiting (decision A6).
const maxPending = 20

// shutdownWait bounds how long shutdown waits for cancelled turns to report.
const shutdownWait = 500 * time.Millisecond

// Why a turn was cancelled (decision A7).
var (
	errStopped  = errors.New("Stopped.")
	errShutdown = errors.New("The agent is shutting down; send your message again once it is back.")
)

// lanes queues turns per conversation (client_id, session_id): one running
// turn per conversation, FIFO, conversations in parallel.
type lanes struct {
	s *Server

	mu     sync.Mutex // guards m, closed and every lane's fields
	m      map[laneKey]*lane
	closed bool
	wg     sync.WaitGroup // running workers
}

type laneKey struct{ client, session string }

type lane struct {
	pending []*turn
	running *turn
}

type turn struct {
	text     string
	enqueued time.Time
	cancel   context.CancelCauseFunc // set once running
}

func newLanes(s *Server) *lanes { return &lanes{s: s, m: map[laneKey]*lane{}} }

// enqueue adds a turn and returns its position: 0 starts now, n > 0 waits
// behind n turns, -1 means the lane is full.
func (ls *lanes) enqueue(client, session, text string) int {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.closed {
		return -2
	}
	k := laneKey{client, session}
	l := ls.m[k]
	if l == nil {
		l = &lane{}
		ls.m[k] = l
	}
	if len(l.pending) >= maxPending {
		return -1
	}
	pos := len(l.pending)
	if l.running != nil {
		pos++
	}
	l.pending = append(l.pending, &turn{text: text, enqueued: time.Now()})
	if l.running == nil && len(l.pending) == 1 {
		ls.wg.Add(1)
		go ls.work(k, l)
	}
	return pos
}

// work runs a lane's turns until it is empty.
func (ls *lanes) work(k laneKey, l *lane) {
	defer ls.wg.Done()
	ls.mu.Lock()
	for {
		if len(l.pending) == 0 || ls.closed {
			l.running = nil
			if len(l.pending) == 0 && ls.m[k] == l {
				delete(ls.m, k)
			}
			ls.mu.Unlock()
			return
		}
		t := l.pending[0]
		l.pending = l.pending[1:]
		// Turns end by stop or by shutdown (which cancels them with a reason),
		// never silently with the Serve context.
		ctx, cancel := context.WithCancelCause(context.WithoutCancel(ls.s.base()))
		t.cancel = cancel
		l.running = t
		ls.mu.Unlock()

		final := ls.s.runTurn(ctx, k, t)
		cancel(nil)

		ls.mu.Lock()
		// The turn is over before its answer goes out, so a message sent in
		// reply to it starts at once instead of being told it is queued.
		l.running = nil
		if final != nil {
			ls.s.hub.send(k.client, *final)
		}
	}
}

// stop cancels the running turn of client (of one session when session != "").
func (ls *lanes) stop(client, session string) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	stopped := false
	for k, l := range ls.m {
		if k.client == client && (session == "" || k.session == session) && l.running != nil {
			l.running.cancel(errStopped)
			stopped = true
		}
	}
	return stopped
}

// clear drops the pending turns of client (of one session when session != "").
func (ls *lanes) clear(client, session string) int {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	n := 0
	for k, l := range ls.m {
		if k.client == client && (session == "" || k.session == session) {
			n += len(l.pending)
			l.pending = nil
		}
	}
	return n
}

// state reports whether client has a running turn and how many wait.
func (ls *lanes) state(client string) (busy bool, depth int) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	for k, l := range ls.m {
		if k.client == client {
			busy = busy || l.running != nil || len(l.pending) > 0 // a turn about to start counts
			depth += len(l.pending)
		}
	}
	return busy, depth
}

// shutdown cancels every running turn with the shutdown error, answers every
// pending one with it too, and waits briefly for the workers.
func (ls *lanes) shutdown() {
	ls.mu.Lock()
	ls.closed = true
	type dropped struct {
		k laneKey
		n int
	}
	var drops []dropped
	for k, l := range ls.m {
		if l.running != nil {
			l.running.cancel(errShutdown)
		}
		if len(l.pending) > 0 {
			drops = append(drops, dropped{k, len(l.pending)})
			l.pending = nil
		}
	}
	ls.mu.Unlock()
	for _, d := range drops {
		for i := 0; i < d.n; i++ {
			ls.s.hub.send(d.k.client, frame{Type: "error", Text: errShutdown.Error(), SessionID: d.k.session})
		}
	}
	done := make(chan struct{})
	go func() { ls.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(shutdownWait):
	}
}

type turnResult struct {
	reply agent.Reply
	err   error
}

// runTurn runs one turn through the agent and returns the frame that ends it
// (response or error), for the lane to send. A cancelled turn is answered at
// once with the reason, and the agent's late result is dropped (nil).
func (s *Server) runTurn(ctx context.Context, k laneKey, t *turn) *frame {
	start := time.Now()
	s.emit("queue.start", map[string]any{"client_id": k.client, "session_id": k.session, "waited_ms": start.Sub(t.enqueued).Milliseconds()})
	status := func(text string) {
		if ctx.Err() == nil {
			s.hub.send(k.client, frame{Type: "status", Text: text, SessionID: k.session})
		}
	}
	done := make(chan turnResult, 1)
	a := s.cfg.Agent
	go func() {
		if a == nil {
			done <- turnResult{err: agent.ErrNoModel}
			return
		}
		r, err := a.Run(ctx, agent.Turn{ClientID: k.client, SessionID: k.session, Channel: channelOf(k.client), Text: t.text}, status)
		done <- turnResult{r, err}
	}()

	var res turnResult
	select {
	case res = <-done:
	case <-ctx.Done():
	}
	if cause := context.Cause(ctx); cause != nil {
		if !errors.Is(cause, errStopped) {
			cause = errShutdown
		}
		s.hub.send(k.client, frame{Type: "error", Text: cause.Error(), SessionID: k.session})
		s.emit("message.cancelled", map[string]any{"client_id": k.client, "session_id": k.session, "reason": cause.Error()})
		<-done
		return nil
	}
	if res.err != nil {
		s.emit("message.error", map[string]any{"client_id": k.client, "session_id": k.session, "error": res.err.Error()})
		return &frame{Type: "error", Text: res.err.Error(), SessionID: k.session}
	}
	text, atts := parseMarkers(res.reply.Text)
	s.emit("message.response", map[string]any{"client_id": k.client, "session_id": k.session, "model": res.reply.Model, "ms": time.Since(start).Milliseconds(), "chars": len(text)})
	return &frame{Type: "response", Text: text, SessionID: k.session, Attachments: atts, Model: res.reply.Model}
}

// channelOf maps a client_id to its channel: bridge:telegram → telegram, else websocket.
func channelOf(client string) string {
	if name, ok := strings.CutPrefix(client, "bridge:"); ok && name != "" {
		return name
	}
	return "websocket"
}
