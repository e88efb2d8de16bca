//go:build (desktop || dev || bindings) && !darwin

package app

import (
	"runtime"

	"github.com/getlantern/systray"
)

const isWindows = runtime.GOOS == "windows"

// getlantern/systray on Linux (libayatana-appindicator: a
// StatusNotifierItem with a dbusmenu, or an XEmbed icon without a watcher)
// and Windows (a notification-area icon served by Wails' message loop).

// trayIconBytes is the icon format the library takes: .ico on Windows, PNG
// elsewhere.
func trayIconBytes(st TrayIcon) []byte {
	if isWindows {
		return ICO(TrayIconImage(32, st), TrayIconImage(16, st))
	}
	return PNG(TrayIconImage(64, st))
}

func getlanternBackend() trayBackend {
	return trayBackend{
		addItem: func(title string) trayEntry {
			it := systray.AddMenuItem(title, "")
			return trayEntry{it, it.ClickedCh}
		},
		addCheckbox: func(title string, checked bool) trayEntry {
			it := systray.AddMenuItemCheckbox(title, "", checked)
			return trayEntry{it, it.ClickedCh}
		},
		addSeparator: systray.AddSeparator,
		setIcon:      systray.SetIcon,
		setTooltip: func(s string) {
			if isWindows { // a no-op on Linux, and not safe off the GTK thread there
				systray.SetTooltip(s)
			}
		},
	}
}

// startTray registers the tray on the main thread before wails.Run: it
// runs gtk_init and creates the indicator, and the menu is built in the
// ready callback; Wails' GTK loop then serves it. The returned function
// ends the tray (getlantern's needs nothing: the process exits).
func startTray(m *trayMenu) (end func()) {
	m.backend = getlanternBackend()
	systray.Register(m.build, nil)
	return func() {}
}
