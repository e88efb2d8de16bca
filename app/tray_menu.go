//go:build desktop || dev || bindings

package app

import "sync"

// trayMenu draws a TrayView with a systray library and sends clicks to the
// Tray. The library is chosen per platform (tray_systray.go: getlantern on
// Linux and Windows; tray_systray_darwin.go: fyne.io on macOS, whose
// RunWithExternalLoop coexists with Wails' app delegate); both have the
// same API, which trayBackend captures.
type trayMenu struct {
	tray    *Tray
	backend trayBackend

	mu    sync.Mutex // guards items, last and icons
	items []trayEntry
	last  TrayView
	icons map[TrayIcon][]byte
}

// trayItem is one systray menu item.
type trayItem interface {
	SetTitle(string)
	Check()
	Uncheck()
	Enable()
	Disable()
}

// trayEntry is a created item and its click channel.
type trayEntry struct {
	item    trayItem
	clicked <-chan struct{}
}

// trayBackend is the systray library's package-level API.
type trayBackend struct {
	addItem      func(title string) trayEntry
	addCheckbox  func(title string, checked bool) trayEntry
	addSeparator func()
	setIcon      func(png []byte)
	setTooltip   func(string)
}

// build creates the menu from the tray's current view and starts one
// goroutine per item that turns clicks into actions. It runs once, in the
// systray library's ready callback.
func (m *trayMenu) build() {
	v := m.tray.View()
	m.mu.Lock()
	m.icons = map[TrayIcon][]byte{}
	for _, st := range []TrayIcon{IconStopped, IconRunning, IconError} {
		m.icons[st] = trayIconBytes(st)
	}
	for _, e := range v.Items {
		if e.SeparatorBefore {
			m.backend.addSeparator()
		}
		var te trayEntry
		if e.Checkable {
			te = m.backend.addCheckbox(e.Title, e.Checked)
		} else {
			te = m.backend.addItem(e.Title)
		}
		if e.Disabled {
			te.item.Disable()
		}
		m.items = append(m.items, te)
	}
	m.backend.setIcon(m.icons[v.Icon])
	m.last = v
	m.mu.Unlock()

	for i, te := range m.items {
		id := TrayItem(i)
		go func() {
			for range te.clicked {
				// Actions block (a restart takes a moment); clicks on other
				// items keep working meanwhile.
				_ = m.tray.Click(id)
			}
		}()
	}
	m.tray.OnRender(m.render)
}

// render applies the differences between the last drawn view and v.
func (m *trayMenu) render(v TrayView) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.items) != len(v.Items) {
		return
	}
	for i, e := range v.Items {
		old := m.last.Items[i]
		it := m.items[i].item
		if e.Title != old.Title {
			it.SetTitle(e.Title)
		}
		if e.Checked != old.Checked {
			if e.Checked {
				it.Check()
			} else {
				it.Uncheck()
			}
		}
		if e.Disabled != old.Disabled {
			if e.Disabled {
				it.Disable()
			} else {
				it.Enable()
			}
		}
	}
	if v.Icon != m.last.Icon {
		m.backend.setIcon(m.icons[v.Icon])
	}
	if v.Tooltip != m.last.Tooltip {
		m.backend.setTooltip(v.Tooltip)
	}
	m.last = v
}
