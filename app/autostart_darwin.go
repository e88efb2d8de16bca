package app

import "github.com/emersion/go-autostart"

// macOS: go-autostart writes ~/Library/LaunchAgents/OpenAgent.plist.

func loginApp(exec []string) *autostart.App {
	return &autostart.App{Name: autostartName, DisplayName: "OpenAgent", Exec: exec}
}

func autostartEnabled(exec []string) bool  { return loginApp(exec).IsEnabled() }
func autostartEnable(exec []string) error  { return loginApp(exec).Enable() }
func autostartDisable(exec []string) error { return loginApp(exec).Disable() }
