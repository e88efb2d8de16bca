//go:build desktop || dev || bindings

package app

import "fyne.io/systray"

// fyne.io/systray on macOS: getlantern's tray makes itself the
// NSApplication delegate, which Wails then replaces, so no icon would show.
// fyne's RunWithExternalLoop is made for running beside another toolkit.

func trayIconBytes(st TrayIcon) []byte { return PNG(TrayIconImage(44, st)) }

func fyneBackend() trayBackend {
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
		setTooltip:   systray.SetTooltip,
	}
}

// startTray starts fyne's tray on the main thread before wails.Run; the
// returned function ends it (called from Wails' OnShutdown).
func startTray(m *trayMenu) (end func()) {
	m.backend = fyneBackend()
	start, end := systray.RunWithExternalLoop(m.build, nil)
	start()
	return end
}
