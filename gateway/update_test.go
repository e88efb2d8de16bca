package gateway_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"openagent/gateway"
	"openagent/internal/update"
)

// releaseFeed serves a release feed and its binary.
type releaseFeed struct {
	srv     *httptest.Server
	mu      sync.Mutex
	version string
	binary  []byte
	sum     string
	started chan struct{} // a download began
	hold    chan struct{} // when non-nil, downloads wait for it to close
}

func newReleaseFeed(t *testing.T) *releaseFeed {
	f := &releaseFeed{started: make(chan struct{}, 10)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /feed.json", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"version": f.version, "notes": "n", "assets": []map[string]string{
			{"os": "linux", "arch": "amd64", "url": "/bin/openagent", "sha256": f.sum},
		}})
	})
	mux.HandleFunc("GET /bin/openagent", func(w http.ResponseWriter, r *http.Request) {
		f.started <- struct{}{}
		if f.hold != nil {
			<-f.hold
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		w.Write(f.binary)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *releaseFeed) publish(version string, binary []byte, badSum bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := sha256.Sum256(binary)
	f.version, f.binary, f.sum = version, binary, hex.EncodeToString(h[:])
	if badSum {
		f.sum = strings.Repeat("0", 64)
	}
}

type updateJSON struct {
	Updated    bool   `json:"updated"`
	Version    string `json:"version"`
	Old        string `json:"old"`
	New        string `json:"new"`
	Restarting bool   `json:"restarting"`
	Error      string `json:"error"`
}

func startUpdateGateway(t *testing.T, feed *releaseFeed) (*svcGW, string, chan struct{}) {
	t.Helper()
	restarted := make(chan struct{}, 5)
	var bin string
	g := startSvcGateway(t, "auto_update:\n  feed_url: "+feed.srv.URL+"/feed.json\n", func(g *svcGW, cfg *gateway.Config) {
		bin = filepath.Join(g.dir, "openagent-bin")
		os.WriteFile(bin, []byte("old binary"), 0o755)
		upd, err := update.New(update.Config{Current: "1.0.0", Settings: g.settings, Binary: bin, GOOS: "linux", GOARCH: "amd64"})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Updater = upd
		cfg.Restart = func() { restarted <- struct{}{} }
	})
	return g, bin, restarted
}

func TestUpdateUpToDate(t *testing.T) {
	feed := newReleaseFeed(t)
	feed.publish("1.0.0", []byte("same"), false)
	g, bin, restarted := startUpdateGateway(t, feed)
	var u updateJSON
	if code := g.call(t, "POST", "/api/update", nil, &u); code != 200 || u.Updated || u.Version != "1.0.0" {
		t.Fatalf("POST /api/update = %d %+v, want updated false version 1.0.0", code, u)
	}
	if b, _ := os.ReadFile(bin); string(b) != "old binary" {
		t.Errorf("binary = %q", b)
	}
	select {
	case <-restarted:
		t.Error("restarted although nothing was installed")
	case <-time.After(200 * time.Millisecond):
	}
	var st update.Status
	if code := g.call(t, "GET", "/api/update", nil, &st); code != 200 || st.CurrentVersion != "1.0.0" || st.LatestVersion != "1.0.0" || st.Available || st.Mode != "notify" {
		t.Errorf("GET /api/update = %d %+v", code, st)
	}
}

func TestUpdateInstallsAndRestarts(t *testing.T) {
	feed := newReleaseFeed(t)
	feed.publish("1.1.0", []byte("new binary"), false)
	g, bin, restarted := startUpdateGateway(t, feed)
	var u updateJSON
	if code := g.call(t, "POST", "/api/update", nil, &u); code != 200 || !u.Updated || u.Old != "1.0.0" || u.New != "1.1.0" || !u.Restarting {
		t.Fatalf("POST /api/update = %d %+v, want 1.0.0 → 1.1.0", code, u)
	}
	select {
	case <-restarted:
	case <-time.After(5 * time.Second):
		t.Fatal("no restart after the update")
	}
	if b, _ := os.ReadFile(bin); string(b) != "new binary" {
		t.Errorf("binary = %q, want the new one", b)
	}
	if b, _ := os.ReadFile(bin + ".old"); string(b) != "old binary" {
		t.Errorf("rollback binary = %q", b)
	}
	var st update.Status
	g.call(t, "GET", "/api/update", nil, &st)
	if st.InstalledVersion != "1.1.0" || !st.Available {
		t.Errorf("status after install = %+v", st)
	}
}

func TestUpdateBadChecksum(t *testing.T) {
	feed := newReleaseFeed(t)
	feed.publish("1.1.0", []byte("evil binary"), true)
	g, bin, restarted := startUpdateGateway(t, feed)
	var u updateJSON
	if code := g.call(t, "POST", "/api/update", nil, &u); code != 502 || !strings.Contains(u.Error, "sha256") {
		t.Fatalf("POST /api/update = %d %+v, want 502 naming the checksum", code, u)
	}
	if b, _ := os.ReadFile(bin); string(b) != "old binary" {
		t.Errorf("binary = %q, want the old one", b)
	}
	select {
	case <-restarted:
		t.Error("restarted after a refused update")
	case <-time.After(200 * time.Millisecond):
	}
}

// TestUpdateDoesNotBlock: while one update downloads, other requests are
// answered and a second update gets 409.
func TestUpdateDoesNotBlock(t *testing.T) {
	feed := newReleaseFeed(t)
	feed.publish("1.1.0", []byte("new binary"), false)
	feed.hold = make(chan struct{})
	g, _, restarted := startUpdateGateway(t, feed)
	first := make(chan updateJSON, 1)
	go func() {
		var u updateJSON
		g.call(t, "POST", "/api/update", nil, &u)
		first <- u
	}()
	select {
	case <-feed.started:
	case <-time.After(5 * time.Second):
		t.Fatal("the update did not start downloading")
	}
	if code := g.call(t, "GET", "/api/health", nil, nil); code != 200 {
		t.Errorf("health during an update = %d", code)
	}
	var e errBody
	if code := g.call(t, "POST", "/api/update", nil, &e); code != 409 || !strings.Contains(e.Error, "already in progress") {
		t.Errorf("second update = %d %q, want 409", code, e.Error)
	}
	close(feed.hold)
	if u := <-first; !u.Updated || u.New != "1.1.0" {
		t.Errorf("first update = %+v", u)
	}
	<-restarted
}

func TestUpdateUnavailable(t *testing.T) {
	g := startSvcGateway(t, "", nil)
	var e errBody
	if code := g.call(t, "POST", "/api/update", nil, &e); code != 503 || !strings.Contains(e.Error, "no updater") {
		t.Errorf("POST /api/update without updater = %d %q", code, e.Error)
	}
	feed := newReleaseFeed(t)
	g2, _, _ := startUpdateGateway(t, feed)
	g2.settings.SetValue("", "auto_update", "feed_url")
	if code := g2.call(t, "POST", "/api/update", nil, &e); code != 400 || !strings.Contains(e.Error, "auto_update.feed_url") {
		t.Errorf("POST /api/update without feed = %d %q", code, e.Error)
	}
}
