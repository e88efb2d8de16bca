package mcp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

const (
	// protocolVersion is pinned to the last session-based revision: every
	// server we meet speaks it, and list_changed arrives as a notification.
	protocolVersion = "2025-11-25"
	// stopGrace is how long a stdio child gets to exit after its stdin is
	// closed before its whole process group is killed.
	stopGrace = 500 * time.Millisecond
	// waitDelay bounds how long we wait for a dead child's stderr to drain.
	waitDelay = time.Second
	// keepAlive pings HTTP servers so a vanished one is noticed.
	keepAlive = 30 * time.Second
	// stderrTailBytes is how much of a child's stderr is kept for errors.
	stderrTailBytes = 4 << 10
	// stderrTailLines is how many stderr lines an error shows.
	stderrTailLines = 8
)

// conn is one live session with a server.
type conn struct {
	sess   *sdk.ClientSession
	cmd    *exec.Cmd          // stdio only: the child, for killing its group
	stderr *tail              // stdio only
	inproc *sdk.ServerSession // builtin only

	once sync.Once

	mu    sync.Mutex // guards tools
	tools []*sdk.Tool
}

func (c *conn) setTools(t []*sdk.Tool) {
	c.mu.Lock()
	c.tools = t
	c.mu.Unlock()
}

func (c *conn) toolList() []*sdk.Tool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tools
}

// close ends the session. A stdio child gets stopGrace to exit on its own,
// then its whole process group is killed.
func (c *conn) close() {
	c.once.Do(func() {
		done := make(chan struct{})
		go func() {
			if c.sess != nil {
				c.sess.Close()
			}
			close(done)
		}()
		if c.cmd != nil && c.cmd.Process != nil {
			select {
			case <-done:
			case <-time.After(stopGrace):
			}
			killGroup(c.cmd) // also reaps grandchildren (npx → node)
		}
		<-done
		if c.inproc != nil {
			c.inproc.Close()
		}
	})
}

// wait blocks until the server goes away or ctx ends, and returns why.
func (c *conn) wait(ctx context.Context) error {
	ch := make(chan error, 1)
	go func() { ch <- c.sess.Wait() }()
	select {
	case err := <-ch:
		if err == nil {
			err = errors.New("connection closed")
		}
		return err
	case <-ctx.Done():
		c.close()
		<-ch
		return ctx.Err()
	}
}

// stderrTail returns the last lines the child wrote to stderr, or "".
func (c *conn) stderrTail() string {
	if c == nil || c.stderr == nil {
		return ""
	}
	return c.stderr.lines(stderrTailLines)
}

// dial connects to the server sp describes, runs initialize and tools/list
// within ctx, and returns the live session, which lasts until life ends or
// it is closed. onToolsChanged runs (in its own goroutine) after
// notifications/tools/list_changed.
func (p *Pool) dial(ctx, life context.Context, sp Spec, onToolsChanged func(*conn, *sdk.ClientSession)) (*conn, error) {
	c := &conn{}
	opts := &sdk.ClientOptions{
		Logger: p.log,
		ToolListChangedHandler: func(_ context.Context, req *sdk.ToolListChangedRequest) {
			go onToolsChanged(c, req.Session)
		},
	}
	var t sdk.Transport
	switch {
	case sp.Kind == KindBuiltin || sp.Kind == KindDefault:
		b, ok := p.builtins[sp.BuiltinName]
		if !ok {
			return nil, fmt.Errorf("builtin %q is not available in this build", sp.BuiltinName)
		}
		st, ct := sdk.NewInMemoryTransports()
		ss, err := b.Server().Connect(ctx, st, nil)
		if err != nil {
			return nil, fmt.Errorf("start builtin %q: %w", sp.BuiltinName, err)
		}
		c.inproc, t = ss, ct
	case sp.OAuth:
		return nil, errors.New("not supported yet: OAuth sign-in for MCP servers; pass a token in headers instead")
	case sp.URL != "":
		hc := &http.Client{Transport: headerTransport{sp.Headers, http.DefaultTransport}}
		if isSSE(sp.URL) {
			t = lifeTransport{&sdk.SSEClientTransport{Endpoint: sp.URL, HTTPClient: hc}, life}
		} else {
			t = &sdk.StreamableClientTransport{Endpoint: sp.URL, HTTPClient: hc}
		}
		opts.KeepAlive = keepAlive
	case len(sp.Command) > 0:
		argv := sp.argv()
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = p.dir
		cmd.Env = os.Environ()
		for k, v := range sp.Env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		c.stderr = &tail{max: stderrTailBytes}
		cmd.Stderr = c.stderr
		cmd.WaitDelay = waitDelay
		setGroup(cmd)
		c.cmd = cmd
		t = &sdk.CommandTransport{Command: cmd, TerminateDuration: stopGrace}
	default:
		return nil, errors.New("either command (argv list) or url is required")
	}

	client := sdk.NewClient(&sdk.Implementation{Name: "openagent", Version: p.version}, opts)
	sess, err := client.Connect(ctx, t, &sdk.ClientSessionOptions{ProtocolVersion: protocolVersion})
	if err != nil {
		if c.cmd != nil && c.cmd.Process != nil {
			killGroup(c.cmd)
			c.cmd.Wait() // drains stderr so the error can show it
		}
		if c.inproc != nil {
			c.inproc.Close()
		}
		return nil, withStderr(fmt.Errorf("initialize: %w", err), c)
	}
	c.sess = sess
	tools, err := listTools(ctx, sess)
	if err != nil {
		c.close()
		return nil, withStderr(err, c)
	}
	c.setTools(tools)
	return c, nil
}

func listTools(ctx context.Context, sess *sdk.ClientSession) ([]*sdk.Tool, error) {
	var tools []*sdk.Tool
	for t, err := range sess.Tools(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("tools/list: %w", err)
		}
		tools = append(tools, t)
	}
	return tools, nil
}

// withStderr adds a child's last stderr lines to err.
func withStderr(err error, c *conn) error {
	if s := c.stderrTail(); s != "" {
		return fmt.Errorf("%w; stderr: %s", err, s)
	}
	return err
}

// isSSE tells a legacy SSE endpoint from a streamable HTTP one: by
// convention the former's path ends in /sse.
func isSSE(url string) bool {
	u, _, _ := strings.Cut(url, "?")
	return strings.HasSuffix(strings.TrimRight(u, "/"), "/sse")
}

// lifeTransport connects under the session's lifetime instead of the
// connect timeout, for transports (legacy SSE) whose stream lives on the
// context given to Connect. The connect context still bounds the dial.
type lifeTransport struct {
	sdk.Transport
	life context.Context
}

func (t lifeTransport) Connect(ctx context.Context) (sdk.Connection, error) {
	lctx, cancel := context.WithCancel(t.life)
	stop := context.AfterFunc(ctx, cancel)
	c, err := t.Transport.Connect(lctx)
	if !stop() {
		if c != nil {
			c.Close()
		}
		return nil, ctx.Err()
	}
	if err != nil {
		cancel()
		return nil, err
	}
	context.AfterFunc(t.life, cancel) // the stream lasts until life ends or c closes
	return c, nil
}

// headerTransport adds a server's configured headers to every request.
type headerTransport struct {
	headers map[string]string
	base    http.RoundTripper
}

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if len(h.headers) > 0 {
		r = r.Clone(r.Context())
		for k, v := range h.headers {
			r.Header.Set(k, v)
		}
	}
	return h.base.RoundTrip(r)
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex // guards buf
	buf []byte
	max int
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// lines returns the last n non-empty lines, joined with " | ".
func (t *tail) lines(n int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for _, l := range strings.Split(string(t.buf), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return strings.Join(out, " | ")
}
