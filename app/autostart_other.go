//go:build !linux && !darwin && !(windows && cgo)

package app

// Starting at login is not available here: an unsupported OS, or a Windows
// build without cgo (go-autostart makes the shortcut through COM).

func autostartEnabled([]string) bool  { return false }
func autostartEnable([]string) error  { return errUnsupportedLogin }
func autostartDisable([]string) error { return errUnsupportedLogin }
