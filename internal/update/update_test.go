package update_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"openagent/internal/config"
	"openagent/internal/update"
)

func TestCompare(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"1.2.3", "1.2.3", 0},
		{"v1.2.3", "1.2.3", 0},
		{"1.2", "1.2.0", 0},
		{"1.10.0", "1.9.9", 1},
		{"2.0.0", "10.0.0", -1},
		{"0.1.0-dev", "0.1.0", -1},
		{"0.1.0", "0.1.0-dev", 1},
		{"1.0.0-rc.2", "1.0.0-rc.10", -1},
		{"1.0.0-alpha", "1.0.0-alpha.1", -1},
		{"1.0.0-1", "1.0.0-alpha", -1},
		{"1.0.0+build.5", "1.0.0", 0},
		{"dev", "0.0.1", -1},
	}
	for _, c := range cases {
		if got := update.Compare(c.a, c.b); got != c.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := update.Compare(c.b, c.a); got != -c.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", c.b, c.a, got, -c.want)
		}
	}
}

// feed is a local release server: the feed document and the binaries.
type feed struct {
	srv      *httptest.Server
	mu       sync.Mutex
	release  update.Release
	binaries map[string][]byte
	hold     chan struct{} // when non-nil, binary downloads wait on it
	started  chan struct{} // receives when a binary download begins
}

func newFeed(t *testing.T) *feed {
	f := &feed{binaries: map[string][]byte{}, started: make(chan struct{}, 10)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /feed.json", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(f.release)
	})
	mux.HandleFunc("GET /dl/{name}", func(w http.ResponseWriter, r *http.Request) {
		f.started <- struct{}{}
		if f.hold != nil {
			<-f.hold
		}
		f.mu.Lock()
		b, ok := f.binaries[r.PathValue("name")]
		f.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// publish offers version with a binary for linux/amd64; sum overrides its checksum.
func (f *feed) publish(version string, binary []byte, sum string) {
	h := sha256.Sum256(binary)
	if sum == "" {
		sum = hex.EncodeToString(h[:])
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.binaries["openagent-"+version] = binary
	f.release = update.Release{Version: version, Notes: "Faster.", Assets: []update.Asset{
		{OS: "darwin", Arch: "arm64", URL: "/dl/nope", SHA256: strings.Repeat("0", 64)},
		{OS: "linux", Arch: "amd64", URL: "dl/openagent-" + version, SHA256: sum}, // relative to the feed
	}}
}

type fixture struct {
	bin string
	upd *update.Updater
}

func newFixture(t *testing.T, feedURL, current string) fixture {
	t.Helper()
	dir := t.TempDir()
	yaml := "auto_update:\n  enabled: true\n  feed_url: " + feedURL + "\n"
	if err := os.WriteFile(filepath.Join(dir, config.FileName), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	settings, err := config.Open(filepath.Join(dir, config.FileName))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bin", "openagent")
	os.MkdirAll(filepath.Dir(bin), 0o755)
	if err := os.WriteFile(bin, []byte("old binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	upd, err := update.New(update.Config{Current: current, Settings: settings, Binary: bin, GOOS: "linux", GOARCH: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{bin, upd}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("read %s: %v", p, err)
	}
	return string(b)
}

func TestUpToDate(t *testing.T) {
	f := newFeed(t)
	f.publish("1.2.0", []byte("new binary"), "")
	fx := newFixture(t, f.srv.URL+"/feed.json", "v1.2.0")
	updated, old, nv, err := fx.upd.Update(context.Background())
	if err != nil || updated || old != "v1.2.0" || nv != "v1.2.0" {
		t.Fatalf("Update = %v %q %q %v, want not updated", updated, old, nv, err)
	}
	if got := readFile(t, fx.bin); got != "old binary" {
		t.Errorf("binary = %q, want it untouched", got)
	}
	st := fx.upd.Status()
	if st.Available || st.LatestVersion != "1.2.0" || st.CheckedAt == 0 || fx.upd.Pending() != "" {
		t.Errorf("status = %+v, pending %q", st, fx.upd.Pending())
	}
}

func TestInstallNewer(t *testing.T) {
	f := newFeed(t)
	f.publish("1.3.0", []byte("new binary"), "")
	fx := newFixture(t, f.srv.URL+"/feed.json", "1.2.0")
	updated, old, nv, err := fx.upd.Update(context.Background())
	if err != nil || !updated || old != "1.2.0" || nv != "1.3.0" {
		t.Fatalf("Update = %v %q %q %v, want 1.2.0 → 1.3.0", updated, old, nv, err)
	}
	if got := readFile(t, fx.bin); got != "new binary" {
		t.Errorf("binary = %q, want the new one", got)
	}
	if got := readFile(t, fx.bin+".old"); got != "old binary" {
		t.Errorf("rollback copy = %q, want the old binary", got)
	}
	if fi, err := os.Stat(fx.bin); err != nil || fi.Mode().Perm()&0o100 == 0 {
		t.Errorf("new binary mode = %v, %v; want executable", fi.Mode(), err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(fx.bin)); len(ents) != 2 {
		t.Errorf("binary folder holds %d files, want the binary and .old (no leftover download)", len(ents))
	}
	if fx.upd.Pending() != fx.bin || fx.upd.Status().InstalledVersion != "1.3.0" {
		t.Errorf("Pending = %q, status %+v; want the binary to restart into", fx.upd.Pending(), fx.upd.Status())
	}
	// Asked again before the restart: nothing is downloaded twice.
	f.mu.Lock()
	f.binaries = map[string][]byte{}
	f.mu.Unlock()
	if updated, _, nv, err := fx.upd.Update(context.Background()); err != nil || !updated || nv != "1.3.0" {
		t.Errorf("second Update = %v %q %v, want the staged 1.3.0", updated, nv, err)
	}
}

func TestBadChecksumKeepsOldBinary(t *testing.T) {
	f := newFeed(t)
	f.publish("1.3.0", []byte("tampered binary"), strings.Repeat("ab", 32))
	fx := newFixture(t, f.srv.URL+"/feed.json", "1.2.0")
	updated, _, _, err := fx.upd.Update(context.Background())
	if updated || err == nil || !strings.Contains(err.Error(), "sha256") || !strings.Contains(err.Error(), "not replaced") {
		t.Fatalf("Update = %v, %v; want a checksum error", updated, err)
	}
	if got := readFile(t, fx.bin); got != "old binary" {
		t.Errorf("binary = %q, want the old one", got)
	}
	if ents, _ := os.ReadDir(filepath.Dir(fx.bin)); len(ents) != 1 {
		t.Errorf("binary folder holds %d files, want only the binary", len(ents))
	}
	if fx.upd.Pending() != "" || !strings.Contains(fx.upd.Status().Error, "sha256") {
		t.Errorf("after a refused update: pending %q, status %+v", fx.upd.Pending(), fx.upd.Status())
	}
}

func TestUpdateErrors(t *testing.T) {
	f := newFeed(t)
	f.publish("1.3.0", []byte("new"), "")
	cases := []struct{ feed, goos, want string }{
		{"", "linux", "no release feed"},
		{"http://updates.example.com/feed.json", "linux", "must use https"},
		{f.srv.URL + "/missing.json", "linux", "404"},
		{f.srv.URL + "/feed.json", "freebsd", "no binary for freebsd/amd64"},
	}
	for _, c := range cases {
		fx := newFixture(t, c.feed, "1.0.0")
		if c.goos != "linux" {
			fx = newFixtureOS(t, c.feed, c.goos)
		}
		if _, _, _, err := fx.upd.Update(context.Background()); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Update(feed %q, %s) = %v, want %q", c.feed, c.goos, err, c.want)
		}
		if got := readFile(t, fx.bin); got != "old binary" {
			t.Errorf("binary changed to %q", got)
		}
	}
	fx := newFixture(t, "", "1.0.0")
	if _, _, _, err := fx.upd.Update(context.Background()); !errors.Is(err, update.ErrNoFeed) {
		t.Errorf("Update without feed = %v, want ErrNoFeed", err)
	}
}

func newFixtureOS(t *testing.T, feedURL, goos string) fixture {
	fx := newFixture(t, feedURL, "1.0.0")
	settings, _ := config.Open(filepath.Join(filepath.Dir(filepath.Dir(fx.bin)), config.FileName))
	upd, err := update.New(update.Config{Current: "1.0.0", Settings: settings, Binary: fx.bin, GOOS: goos, GOARCH: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{fx.bin, upd}
}

func TestConcurrentUpdateIsRefused(t *testing.T) {
	f := newFeed(t)
	f.publish("1.3.0", []byte("new binary"), "")
	f.hold = make(chan struct{})
	fx := newFixture(t, f.srv.URL+"/feed.json", "1.2.0")
	first := make(chan error, 1)
	go func() {
		_, _, _, err := fx.upd.Update(context.Background())
		first <- err
	}()
	select {
	case <-f.started:
	case <-time.After(5 * time.Second):
		t.Fatal("the first update did not start downloading")
	}
	// The first update is downloading: a second is refused, not queued.
	if _, _, _, err := fx.upd.Update(context.Background()); !errors.Is(err, update.ErrInProgress) {
		t.Errorf("second Update = %v, want ErrInProgress", err)
	}
	close(f.hold)
	if err := <-first; err != nil {
		t.Fatalf("first Update = %v", err)
	}
}
