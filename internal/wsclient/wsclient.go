// Package wsclient is the gateway's WebSocket client, shared by the terminal
// client and the bridges. It authenticates, keeps the connection alive and
// hands every server frame to the caller.
package wsclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Timeouts.
const (
	dialTimeout = 10 * time.Second
	authTimeout = 10 * time.Second
	writeWait   = 10 * time.Second
)

// Frame is any server → client message.
type Frame struct {
	Type        string       `json:"type"`
	Text        string       `json:"text,omitempty"`
	SessionID   string       `json:"session_id,omitempty"`
	Reason      string       `json:"reason,omitempty"`
	Position    int          `json:"position,omitempty"`
	Model       string       `json:"model,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
	AgentName   string       `json:"agent_name,omitempty"`
	Version     string       `json:"version,omitempty"`
	ClientID    string       `json:"client_id,omitempty"`
	Resource    string       `json:"resource,omitempty"`
	Action      string       `json:"action,omitempty"`
	ID          string       `json:"id,omitempty"`
}

// Attachment is a file named in a response.
type Attachment struct {
	Type     string `json:"type"`
	Path     string `json:"path"`
	Filename string `json:"filename"`
}

// ErrAuth is returned when the gateway refuses the token.
var ErrAuth = errors.New("authentication failed")

// Conn is one authenticated connection.
type Conn struct {
	ws    *websocket.Conn
	Hello Frame // the auth_ok frame

	wmu sync.Mutex // serialises writes
}

// URL builds the ws:// URL for a host:port.
func URL(hostport string) string {
	if strings.HasPrefix(hostport, "ws://") || strings.HasPrefix(hostport, "wss://") {
		return hostport
	}
	u := url.URL{Scheme: "ws", Host: hostport, Path: "/ws"}
	return u.String()
}

// Dial connects to url and authenticates with token and clientID (either may
// be empty). It returns after auth_ok.
func Dial(ctx context.Context, url, token, clientID string) (*Conn, error) {
	d := websocket.Dialer{HandshakeTimeout: dialTimeout}
	ws, resp, err := d.DialContext(ctx, url, http.Header{})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("connect %s: %s", url, resp.Status)
		}
		return nil, fmt.Errorf("connect %s: %w", url, err)
	}
	c := &Conn{ws: ws}
	auth := map[string]string{"type": "auth", "token": token}
	if clientID != "" {
		auth["client_id"] = clientID
	}
	if err := c.send(auth); err != nil {
		ws.Close()
		return nil, err
	}
	ws.SetReadDeadline(time.Now().Add(authTimeout))
	for {
		f, err := c.Read()
		if err != nil {
			ws.Close()
			return nil, fmt.Errorf("authenticate: %w", err)
		}
		switch f.Type {
		case "auth_ok":
			ws.SetReadDeadline(time.Time{})
			c.Hello = f
			return c, nil
		case "auth_error":
			ws.Close()
			return nil, fmt.Errorf("%w: %s", ErrAuth, f.Reason)
		}
	}
}

// Read returns the next frame. Pings are answered by the library.
func (c *Conn) Read() (Frame, error) {
	var f Frame
	_, data, err := c.ws.ReadMessage()
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return f, fmt.Errorf("bad frame from gateway: %w", err)
	}
	return f, nil
}

// Message sends a chat message.
func (c *Conn) Message(text, sessionID string) error {
	m := map[string]string{"type": "message", "text": text}
	if sessionID != "" {
		m["session_id"] = sessionID
	}
	return c.send(m)
}

// Command sends a command, scoped to sessionID when it is not empty.
func (c *Conn) Command(name, sessionID string) error {
	m := map[string]string{"type": "command", "name": name}
	if sessionID != "" {
		m["session_id"] = sessionID
	}
	return c.send(m)
}

// Ping sends an application-level ping; the gateway answers with pong.
func (c *Conn) Ping() error { return c.send(map[string]string{"type": "ping"}) }

func (c *Conn) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ws.SetWriteDeadline(time.Now().Add(writeWait))
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

// SetReadDeadline bounds the next Read.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.ws.SetReadDeadline(t) }

// Close closes the connection with a normal closure.
func (c *Conn) Close() error {
	c.wmu.Lock()
	c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	c.wmu.Unlock()
	return c.ws.Close()
}

// ToolEvent is a JSON status line describing a tool call (contract §2.7).
type ToolEvent struct {
	Tool   string          `json:"tool"`
	Status string          `json:"status"`
	Params json.RawMessage `json:"params,omitempty"`
	Result string          `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
}

// FormatStatus renders a status line for people: tool events become
// "Using x...", "✓ x done" or "✗ x failed: …"; other text is unchanged.
func FormatStatus(text string) string {
	if !strings.HasPrefix(text, "{") {
		return text
	}
	var ev ToolEvent
	if json.Unmarshal([]byte(text), &ev) != nil || ev.Tool == "" {
		return text
	}
	switch ev.Status {
	case "running":
		return "Using " + ev.Tool + "..."
	case "error":
		e := ev.Error
		if e == "" {
			e = "unknown error"
		}
		return "✗ " + ev.Tool + " failed: " + e
	case "done":
		return "✓ " + ev.Tool + " done"
	}
	return text
}
