package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chzyer/readline"

	"openagent/internal/config"
	"openagent/internal/listen"
	"openagent/internal/wsclient"
)

// Reconnect backoff for the interactive client.
const (
	reconnectMin = 500 * time.Millisecond
	reconnectMax = 10 * time.Second
)

type connectOpts struct {
	url, token, session, clientID, message string
	timeout                                time.Duration
}

// connect is the terminal client.
func connect(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("connect", flag.ContinueOnError)
	fset.SetOutput(stderr)
	token := fset.String("token", "", "access token (default: OPENAGENT_WS_TOKEN, or the agent directory's config with --dir)")
	session := fset.String("session", "terminal", "conversation id (session_id)")
	clientID := fset.String("client-id", "", "stable client id; replies held while away arrive on reconnect")
	dir := fset.String("dir", "", "agent directory: read the port from DIR/.port and the token from its config")
	msg := fset.String("m", "", "send one message, print the reply and exit (non-zero on error)")
	timeout := fset.Duration("timeout", 30*time.Minute, "with -m: how long to wait for the reply")
	pos, err := parseArgs(fset, args)
	if err != nil {
		return err
	}
	o := connectOpts{token: *token, session: *session, clientID: *clientID, message: *msg, timeout: *timeout}
	switch {
	case *dir != "" && len(pos) == 0:
		port, err := listen.ReadPort(*dir)
		if err != nil {
			return fmt.Errorf("no running agent in %s (%v): start it with 'openagent serve %s'", *dir, err, *dir)
		}
		o.url = wsclient.URL(net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if o.token == "" {
			if f, err := os.Open(filepath.Join(*dir, config.FileName)); err == nil {
				c, perr := config.Parse(f)
				f.Close()
				if perr == nil {
					o.token = c.Channels.WebSocket.Token
				}
			}
		}
	case len(pos) == 1 && *dir == "":
		hp := pos[0]
		if _, _, err := net.SplitHostPort(hp); err != nil && !strings.Contains(hp, "://") {
			return usageError{fmt.Sprintf("connect wants HOST:PORT, got %q", hp)}
		}
		o.url = wsclient.URL(hp)
	default:
		return usageError{"connect takes HOST:PORT or --dir DIR"}
	}
	if o.token == "" {
		o.token = os.Getenv("OPENAGENT_WS_TOKEN")
	}
	if o.message != "" {
		return connectOnce(o, stdout, stderr)
	}
	return connectInteractive(o, stdin, stdout, stderr)
}

// connectOnce sends one message and prints the reply.
func connectOnce(o connectOpts, stdout, stderr io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	c, err := wsclient.Dial(ctx, o.url, o.token, o.clientID)
	if err != nil {
		return err
	}
	defer c.Close()
	go func() {
		<-ctx.Done()
		c.Command("stop", o.session)
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
	}()
	if err := c.Message(o.message, o.session); err != nil {
		return err
	}
	for {
		f, err := c.Read()
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("no reply within %s", o.timeout)
			}
			return fmt.Errorf("connection lost: %w", err)
		}
		if f.SessionID != "" && f.SessionID != o.session {
			continue
		}
		switch f.Type {
		case "status":
			fmt.Fprintln(stderr, "… "+wsclient.FormatStatus(f.Text))
		case "queued":
			fmt.Fprintf(stderr, "… queued at position %d\n", f.Position)
		case "response":
			fmt.Fprintln(stdout, f.Text)
			for _, a := range f.Attachments {
				fmt.Fprintf(stdout, "[%s] %s\n", a.Type, a.Path)
			}
			if f.Model != "" {
				fmt.Fprintln(stderr, "— "+f.Model)
			}
			return nil
		case "error":
			return errors.New(f.Text)
		}
	}
}

// connectInteractive runs a line-editing session that reconnects by itself.
func connectInteractive(o connectOpts, stdin io.Reader, stdout, stderr io.Writer) error {
	histFile := ""
	if d, err := os.UserCacheDir(); err == nil {
		os.MkdirAll(filepath.Join(d, "openagent"), 0o700)
		histFile = filepath.Join(d, "openagent", "connect_history")
	}
	rl, err := readline.NewEx(&readline.Config{
		Prompt:          "you> ",
		HistoryFile:     histFile,
		InterruptPrompt: "^C",
		EOFPrompt:       "bye",
		AutoComplete:    commandCompleter(),
		Stdin:           io.NopCloser(stdin),
		Stdout:          stdout,
		Stderr:          stderr,
	})
	if err != nil {
		return err
	}
	defer rl.Close()
	out := rl.Stdout()

	cl := &liveConn{opts: o, out: out}
	if err := cl.connect(context.Background()); err != nil {
		return err
	}
	defer cl.close()
	fmt.Fprintf(out, "Connected to %s (v%s) as %s, session %q. /help lists commands; Ctrl-C stops a turn, Ctrl-D quits.\n",
		cl.hello.AgentName, cl.hello.Version, cl.hello.ClientID, o.session)

	for {
		line, err := rl.Readline()
		if errors.Is(err, readline.ErrInterrupt) {
			if err := cl.send(func(c *wsclient.Conn) error { return c.Command("stop", o.session) }); err != nil {
				fmt.Fprintln(out, "! "+err.Error())
			}
			continue
		}
		if err != nil {
			return nil // EOF: Ctrl-D
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if line == "/quit" || line == "/exit" {
			return nil
		}
		var send func(c *wsclient.Conn) error
		if name, ok := strings.CutPrefix(line, "/"); ok {
			name = strings.Fields(name + " ")[0]
			sid := o.session
			if !scopedCommand(name) {
				sid = ""
			}
			send = func(c *wsclient.Conn) error { return c.Command(name, sid) }
		} else {
			send = func(c *wsclient.Conn) error { return c.Message(line, o.session) }
		}
		if err := cl.send(send); err != nil {
			fmt.Fprintln(out, "! not sent: "+err.Error())
		}
	}
}

// scopedCommand reports whether a command applies to the current session only.
func scopedCommand(name string) bool {
	switch name {
	case "stop", "new", "reset", "clear":
		return true
	}
	return false
}

func commandCompleter() readline.AutoCompleter {
	var items []readline.PrefixCompleterInterface
	for _, n := range []string{"new", "stop", "status", "queue", "clear", "usage", "update", "restart", "help", "quit"} {
		items = append(items, readline.PcItem("/"+n))
	}
	return readline.NewPrefixCompleter(items...)
}

// liveConn keeps one connection up, reconnecting with backoff under the same
// client_id so replies held by the gateway arrive after a drop.
type liveConn struct {
	opts connectOpts
	out  io.Writer

	mu     sync.Mutex // guards c, hello and closed
	c      *wsclient.Conn
	hello  wsclient.Frame
	closed bool
}

func (l *liveConn) connect(ctx context.Context) error {
	c, err := wsclient.Dial(ctx, l.opts.url, l.opts.token, l.opts.clientID)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.c, l.hello = c, c.Hello
	l.opts.clientID = c.Hello.ClientID // keep it for reconnects
	l.mu.Unlock()
	go l.read(c)
	return nil
}

func (l *liveConn) send(fn func(*wsclient.Conn) error) error {
	l.mu.Lock()
	c := l.c
	l.mu.Unlock()
	if c == nil {
		return errors.New("reconnecting to the gateway; try again in a moment")
	}
	return fn(c)
}

func (l *liveConn) close() {
	l.mu.Lock()
	l.closed = true
	c := l.c
	l.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

func (l *liveConn) read(c *wsclient.Conn) {
	for {
		f, err := c.Read()
		if err != nil {
			break
		}
		l.show(f)
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.c = nil
	l.mu.Unlock()
	fmt.Fprintln(l.out, "! connection lost; reconnecting…")
	wait := reconnectMin
	for {
		time.Sleep(wait)
		l.mu.Lock()
		closed := l.closed
		l.mu.Unlock()
		if closed {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := l.connect(ctx)
		cancel()
		if err == nil {
			fmt.Fprintln(l.out, "! reconnected")
			return
		}
		if errors.Is(err, wsclient.ErrAuth) {
			fmt.Fprintln(l.out, "! "+err.Error()+"; giving up (check --token)")
			return
		}
		wait = min(wait*2, reconnectMax)
	}
}

func (l *liveConn) show(f wsclient.Frame) {
	switch f.Type {
	case "status":
		fmt.Fprintln(l.out, "  … "+wsclient.FormatStatus(f.Text))
	case "queued":
		fmt.Fprintf(l.out, "  … queued at position %d\n", f.Position)
	case "response":
		model := ""
		if f.Model != "" {
			model = " (" + f.Model + ")"
		}
		fmt.Fprintf(l.out, "agent%s> %s\n", model, f.Text)
		for _, a := range f.Attachments {
			fmt.Fprintf(l.out, "  [%s] %s\n", a.Type, a.Path)
		}
	case "error":
		fmt.Fprintln(l.out, "! "+f.Text)
	case "command_result":
		fmt.Fprintln(l.out, f.Text)
	case "resource_event":
		// Other clients' edits; nothing to show in a terminal.
	}
}
