package app

import (
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"strconv"
	"time"
)

// connectionWait bounds how long the window waits for the first start of
// the gateway before Connection reports it as not running.
const connectionWait = 15 * time.Second

// ConnectionInfo tells the web UI in the desktop window where the gateway is.
type ConnectionInfo struct {
	// BaseURL is the REST base, http://127.0.0.1:<port>.
	BaseURL string `json:"base_url"`
	// WSURL is the WebSocket, ws://127.0.0.1:<port>/ws.
	WSURL string `json:"ws_url"`
	// Token goes in the auth frame and in Authorization: Bearer ("" when none).
	Token string `json:"token"`
}

// Bridge is bound into the desktop window by Wails; the UI calls
// window.go.app.Bridge.Connection(). The window also receives the Wails
// event "connection" (a ConnectionInfo, or null when stopped) whenever the
// gateway starts, stops or restarts, so it can reconnect.
type Bridge struct {
	g       *Gateway
	started <-chan struct{} // closed once the first Start has returned
}

// Connection returns where the gateway listens and its token. It waits for
// the gateway's first start, and fails when the gateway is not running.
func (b *Bridge) Connection() (ConnectionInfo, error) {
	if b == nil || b.g == nil {
		return ConnectionInfo{}, errors.New("no gateway in this process")
	}
	select {
	case <-b.started:
	case <-time.After(connectionWait):
	}
	st := b.g.State()
	info, ok := connectionFor(st)
	if !ok {
		if st.Err != nil {
			return info, fmt.Errorf("the gateway is not running: %w", st.Err)
		}
		return info, errors.New("the gateway is stopped; start it from the tray")
	}
	return info, nil
}

// connectionFor is the UI's view of a state; ok is false when stopped.
func connectionFor(st State) (ConnectionInfo, bool) {
	if !st.Running {
		return ConnectionInfo{}, false
	}
	hp := "127.0.0.1:" + strconv.Itoa(st.Port)
	return ConnectionInfo{BaseURL: "http://" + hp, WSURL: "ws://" + hp + "/ws", Token: st.Token}, true
}

// openFolder shows dir in the platform's file manager.
func openFolder(dir string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "windows":
		cmd = exec.Command("explorer", dir)
	case "darwin":
		cmd = exec.Command("open", dir)
	default:
		cmd = exec.Command("xdg-open", dir)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("open folder: %w", err)
	}
	go cmd.Wait() // reap it; explorer exits non-zero even on success
	return nil
}
