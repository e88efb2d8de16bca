package app

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"openagent/internal/config"
	"openagent/internal/listen"
	"openagent/internal/llm/llmtest"
)

func startTestGateway(t *testing.T, opts Options) *Gateway {
	t.Helper()
	if opts.Stderr == nil {
		opts.Stderr = &syncBuffer{}
	}
	g := NewGateway(opts)
	if err := g.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(g.Stop)
	return g
}

func TestPortFallbackAndPortFile(t *testing.T) {
	p := freePort(t)
	busy, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
	if err != nil {
		t.Skipf("port %d taken meanwhile: %v", p, err)
	}
	defer busy.Close()

	dir := t.TempDir()
	g := startTestGateway(t, Options{Dir: dir, Port: p})
	st := g.State()
	if !st.Running || st.Port <= p || st.Port > p+listen.Span {
		t.Fatalf("state %+v, want a port in (%d, %d]", st, p, p+listen.Span)
	}
	b, err := os.ReadFile(filepath.Join(dir, ".port"))
	if err != nil || string(b) != strconv.Itoa(st.Port) {
		t.Fatalf(".port = %q, %v; want %d with no newline", b, err, st.Port)
	}
	for _, f := range []string{"openagent.yaml", "openagent.db", "memories", "logs/events.jsonl", "logs/openagent.log"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("agent directory lacks %s: %v", f, err)
		}
	}
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(st.Port) + "/api/health")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("health: %v %v", resp, err)
	}
	resp.Body.Close()

	// A second process on the same directory refuses.
	second := NewGateway(Options{Dir: dir, Port: p, Stderr: &syncBuffer{}})
	err = second.Start()
	var ar *ErrAlreadyRunning
	if !errors.As(err, &ar) || ar.Port != st.Port || err.Error() != "already running on port "+strconv.Itoa(st.Port) {
		t.Fatalf("second start: %v, want already running on port %d", err, st.Port)
	}

	start := time.Now()
	g.Stop()
	t.Logf("stop took %v", time.Since(start))
	if _, err := os.Stat(filepath.Join(dir, ".port")); !os.IsNotExist(err) {
		t.Fatalf(".port still there after a clean stop: %v", err)
	}
	if _, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(st.Port), time.Second); err == nil {
		t.Fatal("port still open after Stop")
	}

	// A stale .port (crash) does not block the next start.
	os.WriteFile(filepath.Join(dir, ".port"), []byte(strconv.Itoa(st.Port)), 0o644)
	g2 := startTestGateway(t, Options{Dir: dir, Port: p})
	if !g2.State().Running {
		t.Fatal("stale .port blocked the start")
	}
}

func TestNoFreePort(t *testing.T) {
	// Occupy a whole range of 100 ports.
	var lns []net.Listener
	defer func() {
		for _, l := range lns {
			l.Close()
		}
	}()
	base := 0
	for try := 0; try < 20 && base == 0; try++ {
		p := freePort(t)
		if p+listen.Span > 65535 {
			continue
		}
		ok := true
		for q := p; q <= p+listen.Span; q++ {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(q))
			if err != nil {
				ok = false
				break
			}
			lns = append(lns, l)
		}
		if ok {
			base = p
		} else {
			for _, l := range lns {
				l.Close()
			}
			lns = nil
		}
	}
	if base == 0 {
		t.Skip("could not occupy a range of 100 ports")
	}
	g := NewGateway(Options{Dir: t.TempDir(), Port: base, Stderr: &syncBuffer{}})
	err := g.Start()
	want := "in range " + strconv.Itoa(base) + "-" + strconv.Itoa(base+listen.Span)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("start: %v, want an error naming %q", err, want)
	}
}

func TestNonLoopbackGeneratesToken(t *testing.T) {
	dir := t.TempDir()
	var out syncBuffer // the gateway's logger writes to it concurrently
	g := startTestGateway(t, Options{Dir: dir, Host: "0.0.0.0", Port: freePort(t), Stderr: &out})
	st := g.State()
	if len(st.Token) < 40 {
		t.Fatalf("token %q, want a generated 32-byte token", st.Token)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "openagent.yaml"))
	if !strings.Contains(string(b), st.Token) || !strings.Contains(out.String(), st.Token) {
		t.Fatal("the generated token was not saved and shown")
	}
	// REST now needs it, even from loopback.
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(st.Port) + "/api/agent-info")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("agent-info without token: %d, want 401", resp.StatusCode)
	}
}

func TestRestartKeepsPort(t *testing.T) {
	g := startTestGateway(t, Options{Dir: t.TempDir(), Port: freePort(t)})
	before := g.State().Port
	if err := g.Restart(); err != nil {
		t.Fatal(err)
	}
	if after := g.State().Port; after != before {
		t.Fatalf("port after restart %d, want %d", after, before)
	}
}

func TestCLI(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Run([]string{"version"}, nil, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "openagent ") {
		t.Fatalf("version: %d %q", code, out.String())
	}
	out.Reset()
	if code := Run([]string{"--help"}, nil, &out, &errb); code != 0 {
		t.Fatalf("--help: %d", code)
	}
	for _, w := range []string{"serve [DIR]", "connect HOST:PORT", "--token", "--session", "--client-id", "-m TEXT", "--dir DIR", "version"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("help lacks %q", w)
		}
	}
	if code := Run([]string{"frobnicate"}, nil, &out, &errb); code != 2 {
		t.Fatalf("unknown command exit %d, want 2", code)
	}
	if code := Run([]string{"connect"}, nil, &out, &errb); code != 2 {
		t.Fatalf("connect without address exit %d, want 2", code)
	}
}

func TestConnectOneShot(t *testing.T) {
	dir := t.TempDir()
	startTestGateway(t, Options{Dir: dir, Port: freePort(t)})
	var out, errb bytes.Buffer
	code := Run([]string{"connect", "--dir", dir, "-m", "hello"}, nil, &out, &errb)
	// No model is configured: the reply is the gateway's error, and the exit code says so.
	if code != 1 || !strings.Contains(errb.String(), "No model is configured") {
		t.Fatalf("connect -m: exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a polling reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func waitFor(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(out.String(), want) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("output lacks %q:\n%s", want, out.String())
}

func TestConnectInteractiveReconnects(t *testing.T) {
	dir := t.TempDir()
	g := startTestGateway(t, Options{Dir: dir, Port: freePort(t)})
	stdin, out, quit := runConnect(t, dir, "term-1")
	waitFor(t, out, "Connected to openagent")
	waitFor(t, out, "as term-1")

	io.WriteString(stdin, "hello\n")
	waitFor(t, out, "! No model is configured")
	io.WriteString(stdin, "/status\n")
	waitFor(t, out, "Idle | Queue: 0 | Sessions: 1")

	// The gateway restarts: the client notices, reconnects by itself, and works again.
	if err := g.Restart(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, out, "connection lost; reconnecting")
	waitFor(t, out, "! reconnected")
	io.WriteString(stdin, "/queue\n")
	waitFor(t, out, "Queue depth: 0")

	quit()
}

// TestConnectCtrlCStopsTurn: in the interactive client, Ctrl-C during a turn
// sends stop for the session; the gateway stops the turn (the model's stream
// is closed) and the client shows the answer and keeps running.
func TestConnectCtrlCStopsTurn(t *testing.T) {
	fake := llmtest.New(t, llmtest.Reply{Chunks: []string{"Thinking about it "}, Hang: true}, llmtest.Text(5, 2, "Fine."))
	dir := t.TempDir()
	yaml := fmt.Sprintf("model: {provider: openai, model_id: gpt-test}\nproviders:\n  openai: {api_key: sk-t, base_url: %s, models: [gpt-test]}\n", fake.OpenAIBaseURL())
	if err := os.WriteFile(filepath.Join(dir, config.FileName), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	startTestGateway(t, Options{Dir: dir, Port: freePort(t)})
	stdin, out, quit := runConnect(t, dir, "term-2")
	waitFor(t, out, "Connected to openagent")

	io.WriteString(stdin, "write me a long essay\n")
	waitFor(t, out, "Thinking")
	for deadline := time.Now().Add(10 * time.Second); len(fake.Requests()) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the model was never asked")
		}
	}
	io.WriteString(stdin, "\x03") // Ctrl-C, while the model streams
	select {
	case <-fake.Closed: // the gateway cancelled the model's stream
	case <-time.After(10 * time.Second):
		t.Fatalf("the model's stream was not closed after Ctrl-C; output:\n%s", out.String())
	}
	waitFor(t, out, "Stopped.")

	// The client is still there: the next message gets an answer.
	io.WriteString(stdin, "short one then\n")
	waitFor(t, out, "agent (openai:gpt-test)> Fine.")
	quit()
}

// runConnect runs the interactive client against the gateway of dir; its
// stdin is a pipe and its output a buffer. quit ends the input (Ctrl-D) and
// checks that the client returns cleanly.
func runConnect(t *testing.T, dir, clientID string) (stdin io.WriteCloser, out *syncBuffer, quit func()) {
	t.Helper()
	in, stdin := io.Pipe()
	out = &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- connect([]string{"--dir", dir, "--client-id", clientID}, in, out, out) }()
	return stdin, out, func() {
		t.Helper()
		stdin.Close()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("connect returned %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("connect did not return at end of input")
		}
	}
}
