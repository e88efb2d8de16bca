package gateway_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"openagent/gateway"
	"openagent/internal/config"
	"openagent/internal/eventlog"
	"openagent/internal/store"
)

// servePairing runs a real gateway bound to host with token and returns
// its port.
func servePairing(t *testing.T, host, token string) int {
	t.Helper()
	dir := t.TempDir()
	settings, err := config.Open(filepath.Join(dir, config.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		if err := settings.SetValue(token, "channels", "websocket", "token"); err != nil {
			t.Fatal(err)
		}
	}
	db, err := store.Open(context.Background(), filepath.Join(dir, "openagent.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	events, err := eventlog.Open(filepath.Join(dir, "logs", "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { events.Close() })
	srv, err := gateway.New(gateway.Config{Dir: dir, Settings: settings, DB: db, Events: events,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp4", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-served:
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after cancel")
		}
	})
	return ln.Addr().(*net.TCPAddr).Port
}

func getPairing(t *testing.T, port int, token string) (int, gateway.PairingInfo) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:"+strconv.Itoa(port)+"/api/pairing", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info gateway.PairingInfo
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, info
}

func TestPairingLoopback(t *testing.T) {
	port := servePairing(t, "127.0.0.1", "")
	code, info := getPairing(t, port, "")
	if code != http.StatusOK {
		t.Fatalf("GET /api/pairing = %d", code)
	}
	if info.LAN || info.Host != "127.0.0.1" || info.Port != port || info.QRPNG != "" || info.URLs == nil || len(info.URLs) != 0 {
		t.Fatalf("pairing on loopback = %+v, want lan false, no URLs, no QR", info)
	}
}

func TestPairingLAN(t *testing.T) {
	const token = "pairing-test-token"
	port := servePairing(t, "0.0.0.0", token)

	if code, _ := getPairing(t, port, ""); code != http.StatusUnauthorized {
		t.Fatalf("GET /api/pairing without the token = %d, want 401", code)
	}
	code, info := getPairing(t, port, token)
	if code != http.StatusOK {
		t.Fatalf("GET /api/pairing = %d", code)
	}
	if !info.LAN || info.Host != "0.0.0.0" || info.Port != port || info.Token != token {
		t.Fatalf("pairing = %+v, want lan on 0.0.0.0:%d with the token", info, port)
	}

	want := map[string]bool{} // the machine's up, non-loopback IPv4 addresses
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
				want[n.IP.To4().String()] = true
			}
		}
	}
	if len(info.URLs) != len(want) {
		t.Fatalf("urls = %v, want one per address of %v", info.URLs, want)
	}
	if len(want) == 0 {
		if info.QRPNG != "" {
			t.Fatal("QR code without any URL")
		}
		t.Skip("this machine has no LAN address; the URL and QR checks need one")
	}
	for _, raw := range info.URLs {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if !want[u.Hostname()] || u.Port() != strconv.Itoa(port) || u.Query().Get("token") != token || u.Path != "/" {
			t.Fatalf("url %q: want http://<lan ip>:%d/?token=%s", raw, port, token)
		}
		// Each URL really reaches this gateway, with the token.
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + u.Host + "/api/agent-info?token=" + token)
		if err != nil {
			t.Fatalf("GET via %s: %v", u.Host, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /api/agent-info via %s = %d", u.Host, resp.StatusCode)
		}
	}
	b64, ok := strings.CutPrefix(info.QRPNG, "data:image/png;base64,")
	if !ok {
		t.Fatalf("qr_png = %.40q…, want a PNG data URL", info.QRPNG)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("decode QR PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 100 || b.Dx() != b.Dy() {
		t.Fatalf("QR image is %v, want a square of at least 100 px", b)
	}
}
