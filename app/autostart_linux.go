package app

import "github.com/emersion/go-autostart"

// Linux: go-autostart writes $XDG_CONFIG_HOME/autostart/OpenAgent.desktop
// (or ~/.config/autostart), reading HOME and XDG at process start.

func loginApp(exec []string) *autostart.App {
	return &autostart.App{Name: autostartName, DisplayName: "OpenAgent", Exec: exec}
}

func autostartEnabled(exec []string) bool  { return loginApp(exec).IsEnabled() }
func autostartEnable(exec []string) error  { return loginApp(exec).Enable() }
func autostartDisable(exec []string) error { return loginApp(exec).Disable() }
