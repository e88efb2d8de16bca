//go:build desktop || dev || bindings

package app

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sync"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
	"github.com/wailsapp/wails/v2/pkg/options/mac"
	"github.com/wailsapp/wails/v2/pkg/runtime"

	"openagent/internal/config"
	"openagent/internal/listen"
)

// The window's UI, its assets and the tray all run on the main OS thread:
// GTK and Cocoa insist on it, and the tray registers before wails.Run.
func init() { goruntime.LockOSThread() }

// statusPage is shown in the window when the build has no web UI
// (frontend/dist was empty): it reaches the gateway like the real UI does.
//
//go:embed desktopui
var statusPage embed.FS

// desktop runs the window and the tray around an in-process gateway.
func desktop(args []string, assets fs.FS, stderr io.Writer) error {
	if bindingsOnly {
		// wails build runs the binary once to generate the JS bindings;
		// nothing graphical may start.
		return wails.Run(&options.App{Title: "OpenAgent", Bind: []any{&Bridge{}}})
	}
	fl, err := parseDesktopArgs(args, stderr)
	if err != nil {
		return err
	}
	if !haveDisplay() {
		fmt.Fprintln(stderr, "openagent: no display (DISPLAY and WAYLAND_DISPLAY are unset); running the headless gateway instead.")
		return serve(desktopToServeArgs(args), assets, stderr)
	}
	dir, err := filepath.Abs(fl.dir)
	if err != nil {
		return err
	}
	uniqueID := instanceID(dir)
	if port, ok := runningOn(dir); ok {
		// Decision A19: the first instance takes focus instead.
		if err := focusFirstInstance(uniqueID); err != nil {
			return fmt.Errorf("%w (and bringing its window forward failed: %v)", &ErrAlreadyRunning{Port: port}, err)
		}
		fmt.Fprintf(stderr, "openagent: already running on port %d; brought its window forward.\n", port)
		return nil
	}

	d := &desktopApp{dir: dir, started: make(chan struct{}), ctxSet: make(chan struct{})}
	d.g = NewGateway(Options{Dir: dir, Assets: assets, Stderr: stderr, OnState: d.onState})
	login, err := NewAutostart(autostartArgs(fl, dir)...)
	var li LoginItem = login
	if err != nil {
		fmt.Fprintf(stderr, "openagent: start at login is unavailable: %v\n", err)
		li = nil
	}
	d.tray = NewTray(d.g, d, li, dir)

	go func() {
		defer close(d.started)
		if err := d.g.Start(); err != nil {
			fmt.Fprintf(stderr, "openagent: start gateway: %v\n", err)
		}
	}()

	endTray := startTray(&trayMenu{tray: d.tray})

	ui := assets
	if _, err := fs.Stat(assets, "index.html"); err != nil {
		fmt.Fprintln(stderr, "openagent: this build has no web UI (frontend/dist is empty); the window shows a status page.")
		if ui, err = fs.Sub(statusPage, "desktopui"); err != nil {
			return err
		}
	}
	icon := PNG(AppIcon(256))
	err = wails.Run(&options.App{
		Title:             "OpenAgent",
		Width:             1100,
		Height:            760,
		MinWidth:          420,
		MinHeight:         480,
		StartHidden:       fl.hidden || startHidden(dir),
		HideWindowOnClose: true, // closing hides to the tray; Quit is in the tray
		BackgroundColour:  options.NewRGB(0xf8, 0xf9, 0xfb),
		AssetServer:       &assetserver.Options{Assets: ui},
		Bind:              []any{&Bridge{g: d.g, started: d.started}},
		OnStartup: func(ctx context.Context) {
			d.setCtx(ctx)
			d.tray.Refresh()
		},
		OnShutdown: func(context.Context) {
			d.g.Stop()
			endTray()
		},
		SingleInstanceLock: &options.SingleInstanceLock{
			UniqueId:               uniqueID,
			OnSecondInstanceLaunch: func(options.SecondInstanceData) { d.ShowWindow() },
		},
		Linux: &linux.Options{
			Icon:             icon,
			ProgramName:      "openagent",
			WebviewGpuPolicy: linux.WebviewGpuPolicyNever, // Wails' own default; avoids blank windows on VMs
		},
		Mac: &mac.Options{About: &mac.AboutInfo{Title: "OpenAgent", Message: "Version " + Version, Icon: icon}},
	})
	d.g.Stop()
	if err != nil {
		return fmt.Errorf("run window: %w", err)
	}
	return nil
}

// desktopApp is the TrayHost: it reaches the window through Wails' runtime
// context, which only app may keep.
type desktopApp struct {
	dir     string
	g       *Gateway
	tray    *Tray
	started chan struct{} // closed after the first Start returned

	ctxOnce sync.Once
	ctxSet  chan struct{} // closed once ctx is set
	ctx     context.Context
}

var _ TrayHost = (*desktopApp)(nil)

func (d *desktopApp) setCtx(ctx context.Context) {
	d.ctxOnce.Do(func() {
		d.ctx = ctx
		close(d.ctxSet)
	})
}

// wailsCtx waits for Wails' startup (the tray can be clicked before it).
func (d *desktopApp) wailsCtx() context.Context {
	<-d.ctxSet
	return d.ctx
}

// onState follows the gateway: the tray redraws and the window learns the
// new address or token (event "connection"; null when stopped).
func (d *desktopApp) onState(st State) {
	if d.tray != nil {
		d.tray.Refresh()
	}
	select {
	case <-d.ctxSet:
	default:
		return // the window asks through Bridge.Connection once it loads
	}
	if info, ok := connectionFor(st); ok {
		runtime.EventsEmit(d.ctx, "connection", info)
	} else {
		runtime.EventsEmit(d.ctx, "connection", nil)
	}
}

func (d *desktopApp) ShowWindow() {
	ctx := d.wailsCtx()
	runtime.WindowShow(ctx)
	runtime.WindowUnminimise(ctx)
}

func (d *desktopApp) ShowPairing() {
	d.ShowWindow()
	runtime.WindowExecJS(d.wailsCtx(), "location.hash = '#/pairing'")
}

func (d *desktopApp) SetClipboard(text string) error {
	return runtime.ClipboardSetText(d.wailsCtx(), text)
}

func (d *desktopApp) OpenFolder(dir string) error { return openFolder(dir) }

func (d *desktopApp) Quit() { runtime.Quit(d.wailsCtx()) }

// instanceID names the single-instance lock: one per agent directory, so
// a second launch on the same directory focuses the first one.
func instanceID(dir string) string {
	sum := sha256.Sum256([]byte(dir))
	return "openagent-" + hex.EncodeToString(sum[:8])
}

// runningOn reports whether a gateway already serves dir (decision A19).
func runningOn(dir string) (int, bool) {
	port, err := listen.ReadPort(dir)
	if err != nil {
		return 0, false
	}
	token := ""
	if f, err := os.Open(filepath.Join(dir, config.FileName)); err == nil {
		if c, err := config.Parse(f); err == nil {
			token = c.Channels.WebSocket.Token
		}
		f.Close()
	}
	return port, running(dir, port, token)
}

// startHidden reads desktop.start_hidden without creating anything.
func startHidden(dir string) bool {
	f, err := os.Open(filepath.Join(dir, config.FileName))
	if err != nil {
		return false
	}
	defer f.Close()
	c, err := config.Parse(f)
	return err == nil && c.Desktop.StartHidden
}

// autostartArgs keeps a non-default agent directory in the login entry.
func autostartArgs(fl desktopFlags, dir string) []string {
	if def, err := config.DefaultDir(); err == nil {
		if abs, err := filepath.Abs(def); err == nil && abs == dir {
			return nil
		}
	}
	return []string{"--dir", dir}
}
