package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// autostartName names the login entry: OpenAgent.desktop in the XDG
// autostart folder, a LaunchAgent plist on macOS, a Startup-folder
// shortcut on Windows.
const autostartName = "OpenAgent"

// errUnsupportedLogin says that this platform or build cannot start the
// app at login.
var errUnsupportedLogin = fmt.Errorf("not supported on this platform: %w", errors.ErrUnsupported)

// Autostart is the "Start at login" switch. It starts the running
// executable with --hidden, so the app comes up in the tray only. It is
// off until the user turns it on.
type Autostart struct {
	exec []string // command and arguments run at login
}

var _ LoginItem = (*Autostart)(nil)

// NewAutostart returns the login entry for this executable; extra
// arguments (such as --dir DIR) follow --hidden.
func NewAutostart(extra ...string) (*Autostart, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find executable: %w", err)
	}
	if p, err := filepath.EvalSymlinks(exe); err == nil {
		exe = p
	}
	return &Autostart{exec: autostartCommand(exe, extra...)}, nil
}

// autostartCommand is what runs at login.
func autostartCommand(exe string, extra ...string) []string {
	return append([]string{exe, "--hidden"}, extra...)
}

// IsEnabled reports whether the app starts at login.
func (a *Autostart) IsEnabled() bool { return autostartEnabled(a.exec) }

// Enable makes the app start at login (in the tray).
func (a *Autostart) Enable() error {
	if err := autostartEnable(a.exec); err != nil {
		return fmt.Errorf("enable start at login: %w", err)
	}
	return nil
}

// Disable stops starting the app at login.
func (a *Autostart) Disable() error {
	if err := autostartDisable(a.exec); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("disable start at login: %w", err)
	}
	return nil
}
