//go:build desktop || dev || bindings

package app

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/godbus/dbus/v5"
)

// focusFirstInstance asks the running instance to show its window, over
// the D-Bus name Wails' SingleInstanceLock exports on Linux
// (org.wails_app_<id>.SingleInstance); Wails calls OnSecondInstanceLaunch.
func focusFirstInstance(uniqueID string) error {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return fmt.Errorf("connect session bus: %w", err)
	}
	defer conn.Close()
	id := "wails_app_" + strings.NewReplacer("-", "_", ".", "_").Replace(uniqueID)
	name := "org." + id + ".SingleInstance"
	wd, _ := os.Getwd()
	msg, err := json.Marshal(map[string]any{"Args": os.Args[1:], "WorkingDirectory": wd})
	if err != nil {
		return err
	}
	call := conn.Object(name, dbus.ObjectPath("/org/"+id+"/SingleInstance")).Call(name+".SendMessage", 0, string(msg))
	if call.Err != nil {
		return fmt.Errorf("call %s: %w", name, call.Err)
	}
	return nil
}
