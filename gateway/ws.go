package gateway

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// WebSocket limits and intervals (decision A9).
const (
	maxFrameBytes = 1 << 20          // a bigger frame closes the connection with 1009
	pingPeriod    = 30 * time.Second // server pings this often
	pongWait      = 60 * time.Second // a peer silent for this long is dropped
	writeWait     = 10 * time.Second // one write may take this long
	sendQueueLen  = 256              // frames buffered per connection; overflow closes it
	maxClientID   = 200              // bytes
)

// Close codes beyond RFC 6455's.
const (
	closeGoingAway    = websocket.CloseGoingAway // 1001, shutdown
	closeTakenOver    = 4001                     // another connection took the client_id
	closeQueueOverrun = websocket.ClosePolicyViolation
)

var (
	pongMsg   = []byte(`{"type":"pong"}`)
	pingFrame = []byte(`{"type":"ping"}`)
)

var upgrader = websocket.Upgrader{
	ReadBufferSize:  1024,
	WriteBufferSize: 1024,
	WriteBufferPool: &sync.Pool{},
	// Origin is checked by access before the upgrade (decision A3).
	CheckOrigin: func(*http.Request) bool { return true },
}

// conn is one WebSocket connection. Exactly one reader goroutine (serve) and
// one writer goroutine (writeLoop) use it; only the writer writes data frames.
type conn struct {
	s      *Server
	ws     *websocket.Conn
	remote string
	wake   chan struct{} // capacity 1: tells the writer the queue is not empty
	done   chan struct{}
	once   sync.Once

	qmu   sync.Mutex // guards queue
	queue []outMsg   // frames waiting for the writer; at most sendQueueLen

	isAuthed atomic.Bool
	clientID string // set by the reader goroutine only

	wmu sync.Mutex // serialises data-frame writes: the writer's, and the reader's pong fast path
}

type outMsg struct {
	data   []byte
	close  int // when non-zero: send a close frame with this code after data, then hang up
	reason string
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade already answered
	}
	c := &conn{s: s, ws: ws, remote: remoteIP(r), wake: make(chan struct{}, 1), done: make(chan struct{})}
	if !s.hub.track(c, true) {
		c.closeWith(closeGoingAway, "server shutting down")
		return
	}
	s.emit("gateway.client_connect", map[string]any{"remote": c.remote})
	go c.writeLoop()
	// The reader gets a fresh goroutine so the HTTP handler returns: its deep
	// stack and the request/response state it holds are freed, which is most
	// of an idle connection's memory.
	go c.readLoop()
}

func (c *conn) authed() bool { return c.isAuthed.Load() }

// enqueue queues a frame without blocking. A full queue means the peer is not
// reading: the connection is closed rather than waited on.
// The queue is a slice rather than a buffered channel, so an idle
// connection holds no queue memory.
func (c *conn) enqueue(msg []byte) {
	c.push(outMsg{data: msg}, closeQueueOverrun, "send queue overflow")
}

// sendThenClose queues msg, then a close frame, preserving order.
func (c *conn) sendThenClose(msg []byte, code int, reason string) {
	c.push(outMsg{data: msg, close: code, reason: reason}, code, reason)
}

func (c *conn) push(m outMsg, overflowCode int, reason string) {
	select {
	case <-c.done:
		return
	default:
	}
	c.qmu.Lock()
	if len(c.queue) >= sendQueueLen {
		c.qmu.Unlock()
		go c.closeWith(overflowCode, reason)
		return
	}
	c.queue = append(c.queue, m)
	c.qmu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *conn) queued() int {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	return len(c.queue)
}

// closeWith sends a close frame (best effort) and hangs up. Safe from any goroutine.
func (c *conn) closeWith(code int, reason string) {
	c.once.Do(func() {
		close(c.done)
		c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
		c.ws.Close()
	})
}

func (c *conn) write(data []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ws.SetWriteDeadline(time.Now().Add(writeWait))
	return c.ws.WriteMessage(websocket.TextMessage, data)
}

// pong answers a ping. When nothing is queued and the writer is idle, the
// reader writes it itself, saving two goroutine hand-offs on the hot path;
// otherwise it queues like any frame. A pong carries no session state, so
// passing a frame the writer has just dequeued is harmless.
func (c *conn) pong() {
	if c.queued() == 0 && c.wmu.TryLock() {
		c.ws.SetWriteDeadline(time.Now().Add(writeWait))
		err := c.ws.WriteMessage(websocket.TextMessage, pongMsg)
		c.wmu.Unlock()
		if err != nil {
			go c.closeWith(websocket.CloseAbnormalClosure, "")
		}
		return
	}
	c.enqueue(pongMsg)
}

func (c *conn) writeLoop() {
	ping := time.NewTicker(pingPeriod)
	defer ping.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-c.wake:
			c.qmu.Lock()
			batch := c.queue
			c.queue = nil
			c.qmu.Unlock()
			for _, m := range batch {
				if m.data != nil {
					if err := c.write(m.data); err != nil {
						c.closeWith(websocket.CloseAbnormalClosure, "")
						return
					}
				}
				if m.close != 0 {
					c.closeWith(m.close, m.reason)
					return
				}
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				c.closeWith(websocket.CloseAbnormalClosure, "")
				return
			}
		}
	}
}

func (c *conn) readLoop() {
	defer func() {
		c.closeWith(websocket.CloseNormalClosure, "")
		c.s.hub.track(c, false)
		if c.clientID != "" {
			c.s.hub.detach(c.clientID, c)
		}
		c.s.emit("gateway.client_disconnect", map[string]any{"client_id": c.clientID})
	}()
	c.ws.SetReadLimit(maxFrameBytes)
	c.ws.SetReadDeadline(time.Now().Add(pongWait))
	c.ws.SetPongHandler(func(string) error {
		c.ws.SetReadDeadline(time.Now().Add(pongWait))
		return nil
	})
	for {
		kind, data, err := c.ws.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				c.closeWith(websocket.CloseMessageTooBig, "frame larger than 1 MiB")
			}
			return
		}
		c.ws.SetReadDeadline(time.Now().Add(pongWait))
		if kind != websocket.TextMessage {
			c.enqueue(frame{Type: "error", Text: "binary frames are not supported"}.encode())
			continue
		}
		c.handle(data)
	}
}

// handle processes one text frame (contract §2.2-2.3 with decisions A5-A10).
func (c *conn) handle(data []byte) {
	if c.authed() && bytes.Equal(data, pingFrame) {
		c.pong() // the common keepalive, without a JSON decode
		return
	}
	var in inbound
	if err := json.Unmarshal(data, &in); err != nil {
		c.enqueue(frame{Type: "error", Text: decodeErrorText(err)}.encode())
		return
	}
	s := c.s
	if in.Type == "auth" {
		c.auth(in)
		return
	}
	if !c.authed() {
		if s.token() != "" {
			c.enqueue(frame{Type: "auth_error", Reason: "Not authenticated"}.encode())
			return
		}
		// No token: the connection counts as authenticated from its first frame.
		c.login(newClientID())
	}
	switch in.Type {
	case "ping":
		c.pong()
	case "message":
		if in.Text == nil {
			c.enqueue(frame{Type: "error", Text: "message needs a text field"}.encode())
			return
		}
		s.handleMessage(c.clientID, *in.Text, sessionOf(in.SessionID))
	case "command":
		name := ""
		if in.Name != nil {
			name = *in.Name
		}
		sid := ""
		if in.SessionID != nil {
			sid = *in.SessionID
		}
		s.runCommand(c.clientID, strings.TrimPrefix(strings.TrimSpace(name), "/"), sid)
	case "":
		c.enqueue(frame{Type: "error", Text: "frame has no type"}.encode())
	default:
		c.enqueue(frame{Type: "error", Text: "unknown message type: " + in.Type}.encode())
	}
}

func (c *conn) auth(in inbound) {
	s := c.s
	if want := s.token(); want != "" {
		if s.access.limited(c.remote) {
			c.sendThenClose(frame{Type: "auth_error", Reason: "Too many failed attempts; try again later"}.encode(), websocket.ClosePolicyViolation, "rate limited")
			return
		}
		got := ""
		if in.Token != nil {
			got = *in.Token
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			s.access.fail(c.remote, "ws")
			c.sendThenClose(frame{Type: "auth_error", Reason: "Invalid token"}.encode(), websocket.CloseNormalClosure, "")
			return
		}
	}
	id := ""
	if in.ClientID != nil {
		id = strings.TrimSpace(*in.ClientID)
	}
	if len(id) > maxClientID {
		c.enqueue(frame{Type: "error", Text: fmt.Sprintf("client_id is longer than %d bytes", maxClientID)}.encode())
		return
	}
	if id == "" {
		id = c.clientID
	}
	if id == "" {
		id = newClientID()
	}
	if c.clientID != "" && c.clientID != id {
		s.hub.detach(c.clientID, c)
	}
	c.isAuthed.Store(true)
	c.enqueue(frame{Type: "auth_ok", AgentName: s.name(), Version: s.cfg.Version, ClientID: id, Protocol: 1}.encode())
	c.clientID = id
	s.hub.attach(id, c)
	s.emit("session.attach", map[string]any{"client_id": id})
}

// login authenticates a connection implicitly (no token configured).
func (c *conn) login(id string) {
	c.isAuthed.Store(true)
	c.clientID = id
	c.s.hub.attach(id, c)
}

func sessionOf(p *string) string {
	if p == nil || strings.TrimSpace(*p) == "" {
		return "default"
	}
	return *p
}

func newClientID() string {
	var b [8]byte
	rand.Read(b[:])
	return "ws-" + hex.EncodeToString(b[:])
}

// decodeErrorText says what is wrong with a frame, for the error reply.
func decodeErrorText(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return "frame must be a JSON object"
		}
		return fmt.Sprintf("field %s must be a %s, not %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
	}
	return "Invalid JSON"
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string", "ptr":
		return "string"
	case "int", "float64":
		return "number"
	}
	return goKind
}
