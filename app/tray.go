package app

import (
	"fmt"
	"net/url"
	"strconv"
	"sync"

	"openagent/internal/config"
)

// The tray's logic lives here, free of any GUI library, so that it can be
// tested against a real Gateway. tray_menu.go (GUI builds only) draws View
// with systray and feeds clicks back into Tray.Click.

// TrayItem identifies one entry of the tray menu.
type TrayItem int

// The tray menu, top to bottom.
const (
	ItemStatus TrayItem = iota // disabled status line
	ItemOpen
	ItemStart
	ItemStop
	ItemRestart
	ItemCopyURL
	ItemLAN // check box: allow other devices
	ItemNewToken
	ItemAutostart // check box: start at login
	ItemFolder
	ItemQuit
	itemCount
)

// TrayIcon is the state the tray icon shows.
type TrayIcon int

// Icon states.
const (
	IconStopped TrayIcon = iota
	IconRunning
	IconError
)

// MenuEntry is one rendered menu item.
type MenuEntry struct {
	ID        TrayItem
	Title     string
	Checkable bool
	Checked   bool
	Disabled  bool
	// SeparatorBefore draws a separator above the entry.
	SeparatorBefore bool
}

// TrayView is everything the tray shows.
type TrayView struct {
	Icon    TrayIcon
	Tooltip string
	Items   []MenuEntry // indexed by TrayItem
}

// trayGateway is what the tray drives; *Gateway implements it.
type trayGateway interface {
	Start() error
	Stop()
	Restart() error
	State() State
	Settings() *config.File
}

var _ trayGateway = (*Gateway)(nil)

// TrayHost carries out what the tray asks of the window and the desktop.
type TrayHost interface {
	// ShowWindow shows and focuses the main window.
	ShowWindow()
	// ShowPairing shows the window on the pairing view.
	ShowPairing()
	// SetClipboard puts text on the clipboard.
	SetClipboard(text string) error
	// OpenFolder opens dir in the file manager.
	OpenFolder(dir string) error
	// Quit ends the application (the gateway is already stopped).
	Quit()
}

// LoginItem switches starting at login on and off (see autostart.go).
type LoginItem interface {
	IsEnabled() bool
	Enable() error
	Disable() error
}

// Tray is the tray menu's state and actions.
type Tray struct {
	g     trayGateway
	host  TrayHost
	login LoginItem
	dir   string

	mu       sync.Mutex // guards the fields below
	render   func(TrayView)
	lastErr  error        // the last failed action, shown until the next success
	watched  *config.File // settings file whose OnChange we subscribed to
	startCfg config.Config
	quitting bool
}

// NewTray builds the tray logic for gateway g on agent directory dir.
// login may be nil when starting at login is unsupported.
func NewTray(g trayGateway, host TrayHost, login LoginItem, dir string) *Tray {
	return &Tray{g: g, host: host, login: login, dir: dir}
}

// OnRender sets the function that draws the view; it is called with the
// current view at once and after every change, from any goroutine.
func (t *Tray) OnRender(fn func(TrayView)) {
	t.mu.Lock()
	t.render = fn
	t.mu.Unlock()
	t.Refresh()
}

// Refresh redraws the tray from the gateway's real state. The gateway's
// OnState calls it; it also follows openagent.yaml of the running gateway,
// so a port or LAN change made in the web UI shows at once.
func (t *Tray) Refresh() {
	if f := t.g.Settings(); f != nil {
		t.mu.Lock()
		if f != t.watched {
			t.watched = f
			t.startCfg = f.Config()
			t.mu.Unlock()
			f.OnChange(func(config.Config, []string) { t.Refresh() })
		} else {
			t.mu.Unlock()
		}
	}
	v := t.View()
	t.mu.Lock()
	fn := t.render
	t.mu.Unlock()
	if fn != nil {
		fn(v)
	}
}

// View computes what the tray shows now.
func (t *Tray) View() TrayView {
	st := t.g.State()
	t.mu.Lock()
	lastErr, startCfg, watched := t.lastErr, t.startCfg, t.watched
	t.mu.Unlock()
	var cfg config.Config
	var haveCfg bool
	if watched != nil {
		cfg, haveCfg = watched.Config(), true
	}

	v := TrayView{Items: make([]MenuEntry, itemCount)}
	status := "Stopped"
	v.Icon = IconStopped
	switch {
	case st.Running:
		status = "Running on port " + strconv.Itoa(st.Port)
		v.Icon = IconRunning
		if haveCfg && pendingRestart(startCfg, cfg) {
			status += " (restart to apply changes)"
		}
	case st.Err != nil:
		status = "Error: " + st.Err.Error()
		v.Icon = IconError
	}
	if lastErr != nil && v.Icon != IconError {
		status += " (last action failed: " + lastErr.Error() + ")"
	}
	v.Tooltip = "OpenAgent: " + status

	lan := haveCfg && cfg.Desktop.LAN
	if st.Running {
		lan = !config.IsLoopback(st.Host)
	}
	autostart := t.login != nil && t.login.IsEnabled()

	set := func(id TrayItem, title string, disabled bool) {
		v.Items[id] = MenuEntry{ID: id, Title: title, Disabled: disabled}
	}
	set(ItemStatus, status, true)
	set(ItemOpen, "Open OpenAgent", false)
	set(ItemStart, "Start gateway", st.Running)
	set(ItemStop, "Stop gateway", !st.Running)
	set(ItemRestart, "Restart gateway", !st.Running)
	set(ItemCopyURL, "Copy local URL", !st.Running)
	set(ItemLAN, "Allow other devices", false)
	set(ItemNewToken, "New access token", false)
	set(ItemAutostart, "Start at login", t.login == nil)
	set(ItemFolder, "Open agent folder", false)
	set(ItemQuit, "Quit OpenAgent", false)
	v.Items[ItemLAN].Checkable, v.Items[ItemLAN].Checked = true, lan
	v.Items[ItemAutostart].Checkable, v.Items[ItemAutostart].Checked = true, autostart
	v.Items[ItemOpen].SeparatorBefore = true
	v.Items[ItemStart].SeparatorBefore = true
	v.Items[ItemCopyURL].SeparatorBefore = true
	v.Items[ItemAutostart].SeparatorBefore = true
	v.Items[ItemQuit].SeparatorBefore = true
	return v
}

// pendingRestart reports whether listener settings changed since the
// gateway started, so the running gateway no longer matches the file.
func pendingRestart(atStart, now config.Config) bool {
	a, b := atStart.Channels.WebSocket, now.Channels.WebSocket
	return a.Host != b.Host || a.Port != b.Port || a.Token != b.Token || atStart.Desktop.LAN != now.Desktop.LAN
}

// LocalURL is the address of the web UI on this machine, with the token
// when one is set, or "" when the gateway is not running.
func LocalURL(st State) string {
	if !st.Running {
		return ""
	}
	u := "http://127.0.0.1:" + strconv.Itoa(st.Port) + "/"
	if st.Token != "" {
		u += "?token=" + url.QueryEscape(st.Token)
	}
	return u
}

// Click performs the action of a menu item and redraws the tray. The
// returned error is also shown in the status line.
func (t *Tray) Click(id TrayItem) error {
	err := t.click(id)
	t.mu.Lock()
	t.lastErr = err
	t.mu.Unlock()
	if err != nil && id != ItemQuit {
		t.Refresh()
	}
	return err
}

func (t *Tray) click(id TrayItem) error {
	switch id {
	case ItemOpen:
		t.host.ShowWindow()
		return nil
	case ItemStart:
		return t.start()
	case ItemStop:
		t.g.Stop()
		t.Refresh()
		return nil
	case ItemRestart:
		return t.restart()
	case ItemCopyURL:
		u := LocalURL(t.g.State())
		if u == "" {
			return fmt.Errorf("copy local URL: the gateway is not running")
		}
		return t.host.SetClipboard(u)
	case ItemLAN:
		return t.toggleLAN()
	case ItemNewToken:
		return t.newToken()
	case ItemAutostart:
		return t.toggleAutostart()
	case ItemFolder:
		return t.host.OpenFolder(t.dir)
	case ItemQuit:
		t.mu.Lock()
		t.quitting = true
		t.mu.Unlock()
		t.g.Stop()
		t.host.Quit()
		return nil
	}
	return fmt.Errorf("tray: unknown item %d", id)
}

// start starts the gateway; the runner's OnState redraws the tray.
func (t *Tray) start() error {
	if err := t.g.Start(); err != nil {
		return fmt.Errorf("start gateway: %w", err)
	}
	t.Refresh()
	return nil
}

func (t *Tray) restart() error {
	if err := t.g.Restart(); err != nil {
		return fmt.Errorf("restart gateway: %w", err)
	}
	t.Refresh()
	return nil
}

// settings returns openagent.yaml, starting the gateway once if it has
// never run (the file is opened by Start).
func (t *Tray) settings() (*config.File, error) {
	if f := t.g.Settings(); f != nil {
		return f, nil
	}
	if err := t.g.Start(); err != nil {
		return nil, fmt.Errorf("start gateway: %w", err)
	}
	return t.g.Settings(), nil
}

// toggleLAN flips desktop.lan and restarts: on, the gateway binds 0.0.0.0
// with a token (decision A1) and the window opens the pairing view.
func (t *Tray) toggleLAN() error {
	f, err := t.settings()
	if err != nil {
		return err
	}
	on := !f.Config().Desktop.LAN
	if err := f.SetValue(on, "desktop", "lan"); err != nil {
		return fmt.Errorf("save desktop.lan: %w", err)
	}
	if err := t.restart(); err != nil {
		return err
	}
	if on {
		t.host.ShowPairing()
	}
	return nil
}

// newToken saves a fresh access token and restarts, which drops every
// client that used the old one.
func (t *Tray) newToken() error {
	f, err := t.settings()
	if err != nil {
		return err
	}
	tok, err := NewToken()
	if err != nil {
		return fmt.Errorf("make token: %w", err)
	}
	if err := f.SetValue(tok, "channels", "websocket", "token"); err != nil {
		return fmt.Errorf("save token: %w", err)
	}
	if err := t.restart(); err != nil {
		return err
	}
	if t.g.State().Running && !config.IsLoopback(t.g.State().Host) {
		t.host.ShowPairing()
	}
	return nil
}

func (t *Tray) toggleAutostart() error {
	if t.login == nil {
		return fmt.Errorf("start at login: %w", errUnsupportedLogin)
	}
	var err error
	if t.login.IsEnabled() {
		err = t.login.Disable()
	} else {
		err = t.login.Enable()
	}
	t.Refresh()
	if err != nil {
		return fmt.Errorf("start at login: %w", err)
	}
	return nil
}

// Quitting reports whether Quit was chosen (the window's close handler
// then lets the application end instead of hiding).
func (t *Tray) Quitting() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.quitting
}
