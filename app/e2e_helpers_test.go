package app

import (
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// e2eConn dials the gateway's /ws on base (host:port), authenticates as
// clientID (none when empty) and returns write and read helpers that carry
// a deadline on every call. The connection closes with the test.
func e2eConn(t *testing.T, base, clientID string) (write func(any), read func() map[string]any) {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial("ws://"+base+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	write = func(v any) {
		t.Helper()
		c.SetWriteDeadline(time.Now().Add(e2eWait))
		if err := c.WriteJSON(v); err != nil {
			t.Fatal(err)
		}
	}
	read = func() map[string]any {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(e2eWait))
		var m map[string]any
		if err := c.ReadJSON(&m); err != nil {
			t.Fatalf("read: %v", err)
		}
		return m
	}
	auth := map[string]any{"type": "auth"}
	if clientID != "" {
		auth["client_id"] = clientID
	}
	write(auth)
	if f := read(); f["type"] != "auth_ok" {
		t.Fatalf("auth: %v", f)
	}
	return write, read
}
