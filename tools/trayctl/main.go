// Command trayctl drives a tray icon over D-Bus the way a desktop panel
// does, so the desktop smoke test needs no pixels or coordinates.
//
//	trayctl watch              be the StatusNotifierWatcher (runs until killed)
//	trayctl menu               print the tray menu: id, state and label per line
//	trayctl click LABEL        click the enabled item whose label starts with LABEL
//	trayctl wait LABEL [SECS]  wait until an item's label starts with LABEL
//
// The watcher claims org.kde.StatusNotifierWatcher on the session bus and
// accepts RegisterStatusNotifierItem; libayatana-appindicator then exports
// a real StatusNotifierItem with a com.canonical.dbusmenu menu, which the
// other subcommands read (GetLayout) and click (Event "clicked").
package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"
	"github.com/godbus/dbus/v5/prop"
)

const (
	watcherName  = "org.kde.StatusNotifierWatcher"
	watcherPath  = dbus.ObjectPath("/StatusNotifierWatcher")
	itemIface    = "org.kde.StatusNotifierItem"
	menuIface    = "com.canonical.dbusmenu"
	pollInterval = 100 * time.Millisecond
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "watch":
		err = watch()
	case "menu":
		err = printMenu()
	case "click":
		if len(os.Args) != 3 {
			usage()
		}
		err = click(os.Args[2])
	case "wait":
		if len(os.Args) < 3 {
			usage()
		}
		secs := 10.0
		if len(os.Args) > 3 {
			if secs, err = strconv.ParseFloat(os.Args[3], 64); err != nil {
				usage()
			}
		}
		err = wait(os.Args[2], time.Duration(secs*float64(time.Second)))
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "trayctl:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: trayctl watch | menu | click LABEL | wait LABEL [SECS]")
	os.Exit(2)
}

// watcher is a minimal org.kde.StatusNotifierWatcher.
type watcher struct {
	conn  *dbus.Conn
	props *prop.Properties

	mu    sync.Mutex // guards items
	items []string   // "<bus name><object path>"
}

// RegisterStatusNotifierItem records an item; service is a bus name or,
// as ayatana sends it, an object path on the caller's connection.
func (w *watcher) RegisterStatusNotifierItem(sender dbus.Sender, service string) *dbus.Error {
	item := service
	if strings.HasPrefix(service, "/") {
		item = string(sender) + service
	} else if !strings.Contains(service, "/") {
		item = service + "/StatusNotifierItem"
	}
	w.mu.Lock()
	w.items = append(w.items, item)
	items := append([]string(nil), w.items...)
	w.mu.Unlock()
	w.props.SetMust(watcherName, "RegisteredStatusNotifierItems", items)
	w.conn.Emit(watcherPath, watcherName+".StatusNotifierItemRegistered", item)
	fmt.Fprintln(os.Stderr, "trayctl: registered", item)
	return nil
}

// forget drops the items of a bus name that went away.
func (w *watcher) forget(name string) {
	w.mu.Lock()
	kept := w.items[:0]
	var gone []string
	for _, it := range w.items {
		if strings.HasPrefix(it, name+"/") {
			gone = append(gone, it)
		} else {
			kept = append(kept, it)
		}
	}
	w.items = kept
	items := append([]string{}, kept...)
	w.mu.Unlock()
	if len(gone) == 0 {
		return
	}
	w.props.SetMust(watcherName, "RegisteredStatusNotifierItems", items)
	for _, it := range gone {
		w.conn.Emit(watcherPath, watcherName+".StatusNotifierItemUnregistered", it)
	}
}

// RegisterStatusNotifierHost accepts a host (we are one ourselves).
func (w *watcher) RegisterStatusNotifierHost(service string) *dbus.Error { return nil }

func watch() error {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return err
	}
	w := &watcher{conn: conn}
	props, err := prop.Export(conn, watcherPath, prop.Map{watcherName: {
		"RegisteredStatusNotifierItems":  {Value: []string{}, Emit: prop.EmitTrue},
		"IsStatusNotifierHostRegistered": {Value: true, Emit: prop.EmitTrue},
		"ProtocolVersion":                {Value: int32(0), Emit: prop.EmitTrue},
	}})
	if err != nil {
		return err
	}
	w.props = props
	if err := conn.Export(w, watcherPath, watcherName); err != nil {
		return err
	}
	node := &introspect.Node{Name: string(watcherPath), Interfaces: []introspect.Interface{
		introspect.IntrospectData, prop.IntrospectData,
		{Name: watcherName, Methods: introspect.Methods(w), Properties: props.Introspection(watcherName)},
	}}
	if err := conn.Export(introspect.NewIntrospectable(node), watcherPath, "org.freedesktop.DBus.Introspectable"); err != nil {
		return err
	}
	reply, err := conn.RequestName(watcherName, dbus.NameFlagDoNotQueue)
	if err != nil {
		return err
	}
	if reply != dbus.RequestNameReplyPrimaryOwner {
		return errors.New("another StatusNotifierWatcher owns " + watcherName)
	}
	fmt.Fprintln(os.Stderr, "trayctl: watching")
	// Forget the items of connections that leave the bus.
	if err := conn.AddMatchSignal(dbus.WithMatchInterface("org.freedesktop.DBus"), dbus.WithMatchMember("NameOwnerChanged")); err != nil {
		return err
	}
	signals := make(chan *dbus.Signal, 16)
	conn.Signal(signals)
	for sig := range signals {
		if len(sig.Body) == 3 {
			if name, _ := sig.Body[0].(string); name != "" {
				if owner, _ := sig.Body[2].(string); owner == "" {
					w.forget(name)
				}
			}
		}
	}
	return errors.New("session bus closed")
}

// menuItem is one entry of a dbusmenu layout.
type menuItem struct {
	id      int32
	label   string
	enabled bool
	toggle  string // "checkmark" for check boxes
	checked bool
	sep     bool
}

// items returns the registered tray items.
func items(conn *dbus.Conn) ([]string, error) {
	v, err := conn.Object(watcherName, watcherPath).GetProperty(watcherName + ".RegisteredStatusNotifierItems")
	if err != nil {
		return nil, err
	}
	list, _ := v.Value().([]string)
	return list, nil
}

// readMenu reads the menu of the most recently registered tray item that
// is still on the bus.
func readMenu(conn *dbus.Conn) (dbus.BusObject, []menuItem, error) {
	list, err := items(conn)
	if err != nil {
		return nil, nil, err
	}
	if len(list) == 0 {
		return nil, nil, errors.New("no tray item registered")
	}
	var dest string
	var menuPath dbus.ObjectPath
	for i := len(list) - 1; i >= 0; i-- {
		j := strings.Index(list[i], "/")
		d, path := list[i][:j], dbus.ObjectPath(list[i][j:])
		mv, e := conn.Object(d, path).GetProperty(itemIface + ".Menu")
		if e != nil {
			err = fmt.Errorf("read menu path of %s: %w", list[i], e)
			continue
		}
		dest, menuPath = d, mv.Value().(dbus.ObjectPath)
		break
	}
	if dest == "" {
		return nil, nil, err
	}
	menu := conn.Object(dest, menuPath)
	var revision uint32
	var layout struct {
		ID       int32
		Props    map[string]dbus.Variant
		Children []dbus.Variant
	}
	call := menu.Call(menuIface+".GetLayout", 0, int32(0), int32(-1), []string{})
	if call.Err != nil {
		return nil, nil, fmt.Errorf("GetLayout: %w", call.Err)
	}
	if err := call.Store(&revision, &layout); err != nil {
		return nil, nil, fmt.Errorf("decode layout: %w", err)
	}
	var out []menuItem
	for _, c := range layout.Children {
		out = append(out, parseItem(c.Value()))
	}
	return menu, out, nil
}

// parseItem decodes a child layout node: (ia{sv}av), as []any.
func parseItem(v any) menuItem {
	fields, _ := v.([]any)
	it := menuItem{enabled: true}
	if len(fields) < 2 {
		return it
	}
	it.id, _ = fields[0].(int32)
	props, _ := fields[1].(map[string]dbus.Variant)
	for k, pv := range props {
		switch k {
		case "label":
			it.label, _ = pv.Value().(string)
		case "enabled":
			it.enabled, _ = pv.Value().(bool)
		case "toggle-type":
			it.toggle, _ = pv.Value().(string)
		case "toggle-state":
			n, _ := pv.Value().(int32)
			it.checked = n == 1
		case "type":
			s, _ := pv.Value().(string)
			it.sep = s == "separator"
		}
	}
	return it
}

func printMenu() error {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return err
	}
	_, menu, err := readMenu(conn)
	if err != nil {
		return err
	}
	for _, it := range menu {
		if it.sep {
			fmt.Printf("%3d  ----\n", it.id)
			continue
		}
		state := " "
		if it.toggle != "" {
			state = "[ ]"
			if it.checked {
				state = "[x]"
			}
		}
		dis := ""
		if !it.enabled {
			dis = " (disabled)"
		}
		fmt.Printf("%3d %3s %s%s\n", it.id, state, it.label, dis)
	}
	return nil
}

func click(label string) error {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return err
	}
	obj, menu, err := readMenu(conn)
	if err != nil {
		return err
	}
	for _, it := range menu {
		if !it.sep && it.enabled && strings.HasPrefix(it.label, label) {
			ts := uint32(time.Now().Unix())
			return obj.Call(menuIface+".Event", 0, it.id, "clicked", dbus.MakeVariant(""), ts).Err
		}
	}
	return fmt.Errorf("no enabled menu item starts with %q", label)
}

func wait(label string, d time.Duration) error {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(d)
	var last []menuItem
	for {
		_, menu, err := readMenu(conn)
		if err == nil {
			for _, it := range menu {
				if strings.HasPrefix(it.label, label) {
					fmt.Println(it.label)
					return nil
				}
			}
			last = menu
		}
		if time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("no item %q within %v: %w", label, d, err)
			}
			labels := make([]string, 0, len(last))
			for _, it := range last {
				labels = append(labels, it.label)
			}
			return fmt.Errorf("no item %q within %v; menu: %q", label, d, labels)
		}
		time.Sleep(pollInterval)
	}
}
