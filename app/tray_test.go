package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"openagent/internal/config"
	"openagent/internal/listen"
)

// recordingHost stands in for the window: it records what the tray asked.
type recordingHost struct {
	mu    sync.Mutex
	calls []string
	clip  string
}

func (h *recordingHost) add(s string) {
	h.mu.Lock()
	h.calls = append(h.calls, s)
	h.mu.Unlock()
}
func (h *recordingHost) ShowWindow()  { h.add("show") }
func (h *recordingHost) ShowPairing() { h.add("pairing") }
func (h *recordingHost) SetClipboard(s string) error {
	h.mu.Lock()
	h.clip = s
	h.mu.Unlock()
	h.add("clipboard")
	return nil
}
func (h *recordingHost) OpenFolder(dir string) error { h.add("folder " + dir); return nil }
func (h *recordingHost) Quit()                       { h.add("quit") }

func (h *recordingHost) Calls() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.calls...)
}

// freePort returns a port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// newTestTray builds a real Gateway on a temporary agent directory whose
// openagent.yaml prefers a free port, and the tray over it.
func newTestTray(t *testing.T, login LoginItem) (*Tray, *Gateway, *recordingHost, string, *viewLog) {
	t.Helper()
	dir := t.TempDir()
	f, err := config.Open(filepath.Join(dir, config.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SetValue(freePort(t), "channels", "websocket", "port"); err != nil {
		t.Fatal(err)
	}
	views := &viewLog{}
	var tray *Tray
	g := NewGateway(Options{Dir: dir, OnState: func(State) {
		if tray != nil {
			tray.Refresh()
		}
	}})
	host := &recordingHost{}
	tray = NewTray(g, host, login, dir)
	tray.OnRender(views.add)
	t.Cleanup(g.Stop)
	return tray, g, host, dir, views
}

type viewLog struct {
	mu    sync.Mutex
	views []TrayView
}

func (l *viewLog) add(v TrayView) {
	l.mu.Lock()
	l.views = append(l.views, v)
	l.mu.Unlock()
}

func (l *viewLog) last() TrayView {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.views[len(l.views)-1]
}

// waitView waits for a rendered view that satisfies ok (settings changes
// arrive through callbacks).
func (l *viewLog) waitView(t *testing.T, ok func(TrayView) bool) TrayView {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if v := l.last(); ok(v) {
			return v
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no such view; last status %q", l.last().Items[ItemStatus].Title)
	return TrayView{}
}

func health(t *testing.T, port int) error {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/api/health")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	return nil
}

func TestTrayStartStopRestart(t *testing.T) {
	tray, g, _, dir, views := newTestTray(t, nil)

	v := views.last()
	if got := v.Items[ItemStatus].Title; got != "Stopped" {
		t.Fatalf("status before start = %q, want Stopped", got)
	}
	if v.Icon != IconStopped || v.Items[ItemStop].Disabled != true || v.Items[ItemStart].Disabled {
		t.Fatalf("stopped view = %+v", v)
	}

	if err := tray.Click(ItemStart); err != nil {
		t.Fatal(err)
	}
	st := g.State()
	if !st.Running {
		t.Fatalf("state after Start = %+v", st)
	}
	v = views.last()
	if want := "Running on port " + strconv.Itoa(st.Port); v.Items[ItemStatus].Title != want {
		t.Fatalf("status = %q, want %q", v.Items[ItemStatus].Title, want)
	}
	if v.Icon != IconRunning || !v.Items[ItemStart].Disabled || v.Items[ItemStop].Disabled {
		t.Fatalf("running view = %+v", v)
	}
	if err := health(t, st.Port); err != nil {
		t.Fatalf("health after start: %v", err)
	}
	if p, err := listen.ReadPort(dir); err != nil || p != st.Port {
		t.Fatalf(".port = %d, %v; want %d", p, err, st.Port)
	}

	if err := tray.Click(ItemStop); err != nil {
		t.Fatal(err)
	}
	if g.State().Running {
		t.Fatal("still running after Stop")
	}
	if err := health(t, st.Port); err == nil {
		t.Fatal("port still answers after Stop")
	}
	if got := views.last().Items[ItemStatus].Title; got != "Stopped" {
		t.Fatalf("status after stop = %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, listen.PortFile)); !os.IsNotExist(err) {
		t.Fatalf(".port after stop: %v", err)
	}

	if err := tray.Click(ItemStart); err != nil {
		t.Fatal(err)
	}
	if p := g.State().Port; p != st.Port {
		t.Fatalf("port after restart from stopped = %d, want the same %d", p, st.Port)
	}
	if err := tray.Click(ItemRestart); err != nil {
		t.Fatal(err)
	}
	if s := g.State(); !s.Running || s.Port != st.Port {
		t.Fatalf("state after Restart = %+v, want running on %d", s, st.Port)
	}
	if err := health(t, st.Port); err != nil {
		t.Fatalf("health after restart: %v", err)
	}
}

func TestTrayErrorState(t *testing.T) {
	tray, _, _, dir, views := newTestTray(t, nil)
	// Another gateway serves the same directory: Start must refuse (A19).
	other := NewGateway(Options{Dir: dir})
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer other.Stop()
	err := tray.Click(ItemStart)
	var ar *ErrAlreadyRunning
	if !errors.As(err, &ar) {
		t.Fatalf("Start with another gateway on the dir = %v, want ErrAlreadyRunning", err)
	}
	v := views.last()
	if v.Icon != IconError || !strings.HasPrefix(v.Items[ItemStatus].Title, "Error: ") {
		t.Fatalf("view = icon %d status %q, want the error", v.Icon, v.Items[ItemStatus].Title)
	}
}

func TestTrayCopyURLAndFolder(t *testing.T) {
	tray, g, host, dir, _ := newTestTray(t, nil)
	if err := tray.Click(ItemCopyURL); err == nil {
		t.Fatal("copy URL while stopped succeeded")
	}
	if err := tray.Click(ItemStart); err != nil {
		t.Fatal(err)
	}
	if err := tray.Click(ItemCopyURL); err != nil {
		t.Fatal(err)
	}
	want := "http://127.0.0.1:" + strconv.Itoa(g.State().Port) + "/"
	if host.clip != want {
		t.Fatalf("clipboard = %q, want %q", host.clip, want)
	}
	if err := tray.Click(ItemFolder); err != nil {
		t.Fatal(err)
	}
	if err := tray.Click(ItemOpen); err != nil {
		t.Fatal(err)
	}
	calls := strings.Join(host.Calls(), ",")
	if !strings.Contains(calls, "folder "+dir) || !strings.Contains(calls, "show") {
		t.Fatalf("host calls = %s", calls)
	}
}

func TestTrayLAN(t *testing.T) {
	tray, g, host, _, views := newTestTray(t, nil)
	if err := tray.Click(ItemStart); err != nil {
		t.Fatal(err)
	}
	port := g.State().Port
	if views.last().Items[ItemLAN].Checked {
		t.Fatal("LAN checked on a fresh agent")
	}

	if err := tray.Click(ItemLAN); err != nil {
		t.Fatal(err)
	}
	st := g.State()
	if !st.Running || st.Host != "0.0.0.0" || st.Token == "" {
		t.Fatalf("state after allowing other devices = %+v, want 0.0.0.0 with a token", st)
	}
	if st.Port != port {
		t.Fatalf("port after LAN on = %d, want %d", st.Port, port)
	}
	if !views.last().Items[ItemLAN].Checked {
		t.Fatal("LAN not checked after turning it on")
	}
	if c := host.Calls(); len(c) == 0 || c[len(c)-1] != "pairing" {
		t.Fatalf("host calls = %v, want the pairing view last", c)
	}
	if tok := g.Settings().Config().Channels.WebSocket.Token; tok != st.Token {
		t.Fatalf("token in openagent.yaml = %q, want the generated %q", tok, st.Token)
	}
	// The copied URL carries the token now.
	if err := tray.Click(ItemCopyURL); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(host.clip, "?token="+st.Token) {
		t.Fatalf("clipboard = %q, want the token", host.clip)
	}

	// Rotating the token saves a new one and restarts.
	if err := tray.Click(ItemNewToken); err != nil {
		t.Fatal(err)
	}
	if s := g.State(); s.Token == "" || s.Token == st.Token || !s.Running {
		t.Fatalf("state after new token = %+v (old token %q)", s, st.Token)
	}

	if err := tray.Click(ItemLAN); err != nil {
		t.Fatal(err)
	}
	if st := g.State(); st.Host != "127.0.0.1" || !st.Running {
		t.Fatalf("state after LAN off = %+v, want 127.0.0.1", st)
	}
	if views.last().Items[ItemLAN].Checked {
		t.Fatal("LAN still checked after turning it off")
	}
}

// A change of openagent.yaml made elsewhere (the web UI's PATCH /api/config)
// shows in the tray without any click.
func TestTrayFollowsSettings(t *testing.T) {
	tray, g, _, _, views := newTestTray(t, nil)
	if err := tray.Click(ItemStart); err != nil {
		t.Fatal(err)
	}
	if err := g.Settings().SetValue(true, "desktop", "lan"); err != nil {
		t.Fatal(err)
	}
	views.waitView(t, func(v TrayView) bool {
		return strings.HasSuffix(v.Items[ItemStatus].Title, "(restart to apply changes)")
	})
	newPort := freePort(t)
	if err := g.Settings().SetValue(newPort, "channels", "websocket", "port"); err != nil {
		t.Fatal(err)
	}
	// The web UI restarts through POST /api/restart, which the runner
	// performs; the tray follows the runner's OnState.
	if err := g.Restart(); err != nil {
		t.Fatal(err)
	}
	v := views.waitView(t, func(v TrayView) bool {
		return v.Items[ItemStatus].Title == "Running on port "+strconv.Itoa(newPort)
	})
	if !v.Items[ItemLAN].Checked {
		t.Fatal("LAN not checked after restart with desktop.lan: true")
	}
}

func TestTrayQuit(t *testing.T) {
	tray, g, host, dir, _ := newTestTray(t, nil)
	if err := tray.Click(ItemStart); err != nil {
		t.Fatal(err)
	}
	port := g.State().Port
	if err := tray.Click(ItemQuit); err != nil {
		t.Fatal(err)
	}
	if !tray.Quitting() {
		t.Fatal("Quitting() = false after Quit")
	}
	if g.State().Running {
		t.Fatal("gateway still running after Quit")
	}
	if err := health(t, port); err == nil {
		t.Fatal("port still answers after Quit")
	}
	if _, err := os.Stat(filepath.Join(dir, listen.PortFile)); !os.IsNotExist(err) {
		t.Fatalf(".port after Quit: %v", err)
	}
	if c := host.Calls(); len(c) == 0 || c[len(c)-1] != "quit" {
		t.Fatalf("host calls = %v, want quit last", c)
	}
}

func TestLocalURL(t *testing.T) {
	for _, tc := range []struct {
		name string
		st   State
		want string
	}{
		{"stopped", State{}, ""},
		{"no token", State{Running: true, Port: 8765}, "http://127.0.0.1:8765/"},
		{"token", State{Running: true, Port: 9000, Token: "a+b"}, "http://127.0.0.1:9000/?token=a%2Bb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := LocalURL(tc.st); got != tc.want {
				t.Fatalf("LocalURL(%+v) = %q, want %q", tc.st, got, tc.want)
			}
		})
	}
}

// autostartChildEnv makes TestTrayAutostart's child run the real switch.
const autostartChildEnv = "OPENAGENT_TEST_AUTOSTART_CHILD"

// TestTrayAutostart drives "Start at login" in a child process with a
// temporary HOME and XDG_CONFIG_HOME, because go-autostart reads them at
// process start.
func TestTrayAutostart(t *testing.T) {
	if os.Getenv(autostartChildEnv) != "" {
		autostartChild(t)
		return
	}
	if runtime.GOOS != "linux" {
		t.Skip("the XDG autostart entry is checked on Linux")
	}
	home := t.TempDir()
	xdg := filepath.Join(home, "xdg")
	cmd := exec.Command(os.Args[0], "-test.run=^TestTrayAutostart$", "-test.v")
	cmd.Env = append(os.Environ(), autostartChildEnv+"=1", "HOME="+home, "XDG_CONFIG_HOME="+xdg)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var rep autostartReport
	for _, line := range strings.Split(string(out), "\n") {
		if s, ok := strings.CutPrefix(line, "REPORT "); ok {
			if err := json.Unmarshal([]byte(s), &rep); err != nil {
				t.Fatal(err)
			}
		}
	}
	if rep.Entry == "" {
		t.Fatalf("child wrote no report:\n%s", out)
	}
	if rep.CheckedBefore || !rep.CheckedOn || rep.CheckedOff {
		t.Fatalf("check box before/on/off = %v/%v/%v, want false/true/false", rep.CheckedBefore, rep.CheckedOn, rep.CheckedOff)
	}
	if !strings.Contains(rep.Entry, "Exec=") || !strings.Contains(rep.Entry, "--hidden") {
		t.Fatalf("autostart entry lacks --hidden:\n%s", rep.Entry)
	}
	if _, err := os.Stat(filepath.Join(xdg, "autostart", "OpenAgent.desktop")); !os.IsNotExist(err) {
		t.Fatalf("entry still present after turning it off: %v", err)
	}
}

type autostartReport struct {
	CheckedBefore, CheckedOn, CheckedOff bool
	Entry                                string
}

func autostartChild(t *testing.T) {
	login, err := NewAutostart()
	if err != nil {
		t.Fatal(err)
	}
	tray, _, _, _, views := newTestTray(t, login)
	var rep autostartReport
	rep.CheckedBefore = views.last().Items[ItemAutostart].Checked
	if err := tray.Click(ItemAutostart); err != nil {
		t.Fatal(err)
	}
	rep.CheckedOn = views.last().Items[ItemAutostart].Checked
	b, err := os.ReadFile(filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "autostart", "OpenAgent.desktop"))
	if err != nil {
		t.Fatal(err)
	}
	rep.Entry = string(b)
	if err := tray.Click(ItemAutostart); err != nil {
		t.Fatal(err)
	}
	rep.CheckedOff = views.last().Items[ItemAutostart].Checked
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(rep); err != nil {
		t.Fatal(err)
	}
	fmt.Print("REPORT " + buf.String())
}
