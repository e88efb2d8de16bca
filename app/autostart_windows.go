//go:build cgo

package app

import "github.com/emersion/go-autostart"

// Windows: go-autostart makes a Startup-folder shortcut through COM, which
// needs cgo; autostart_other.go covers CGO_ENABLED=0 builds.

func loginApp(exec []string) *autostart.App {
	return &autostart.App{Name: autostartName, DisplayName: "OpenAgent", Exec: exec}
}

func autostartEnabled(exec []string) bool  { return loginApp(exec).IsEnabled() }
func autostartEnable(exec []string) error  { return loginApp(exec).Enable() }
func autostartDisable(exec []string) error { return loginApp(exec).Disable() }
