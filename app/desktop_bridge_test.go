package app

import (
	"strconv"
	"strings"
	"testing"
)

func TestBridgeConnection(t *testing.T) {
	tray, g, _, _, _ := newTestTray(t, nil)
	started := make(chan struct{})
	b := &Bridge{g: g, started: started}
	close(started)
	if _, err := b.Connection(); err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Fatalf("Connection while stopped = %v, want a stopped error", err)
	}
	if err := tray.Click(ItemStart); err != nil {
		t.Fatal(err)
	}
	info, err := b.Connection()
	if err != nil {
		t.Fatal(err)
	}
	port := g.State().Port
	if err := health(t, port); err != nil {
		t.Fatal(err)
	}
	want := ConnectionInfo{BaseURL: "http://127.0.0.1:" + strconv.Itoa(port), WSURL: "ws://127.0.0.1:" + strconv.Itoa(port) + "/ws"}
	if info != want {
		t.Fatalf("Connection() = %+v, want %+v", info, want)
	}
	if err := tray.Click(ItemLAN); err != nil {
		t.Fatal(err)
	}
	info, err = b.Connection()
	if err != nil {
		t.Fatal(err)
	}
	if info.Token == "" || info.Token != g.State().Token || !strings.HasPrefix(info.BaseURL, "http://127.0.0.1:") {
		t.Fatalf("Connection() with other devices allowed = %+v, want loopback URLs and the token", info)
	}
}
