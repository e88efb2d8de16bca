package update

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"openagent/internal/config"
)

// TestAutoCheckModes: notify (the default) only announces, auto installs and
// restarts, manual and disabled do nothing.
func TestAutoCheckModes(t *testing.T) {
	binary := []byte("new binary")
	sum := sha256.Sum256(binary)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /feed.json", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(Release{Version: "2.0.0", Assets: []Asset{{OS: "linux", Arch: "amd64", URL: "/bin", SHA256: hex.EncodeToString(sum[:])}}})
	})
	mux.HandleFunc("GET /bin", func(w http.ResponseWriter, r *http.Request) { w.Write(binary) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	cases := []struct {
		yaml                      string
		wantNotified, wantRestart bool
		wantBinary                string
	}{
		{"auto_update: {enabled: true, feed_url: " + srv.URL + "/feed.json}", true, false, "old"},
		{"auto_update: {enabled: true, feed_url: " + srv.URL + "/feed.json, mode: notify}", true, false, "old"},
		{"auto_update: {enabled: true, feed_url: " + srv.URL + "/feed.json, mode: auto}", false, true, "new binary"},
		{"auto_update: {enabled: true, feed_url: " + srv.URL + "/feed.json, mode: manual}", false, false, "old"},
		{"auto_update: {enabled: false, feed_url: " + srv.URL + "/feed.json}", false, false, "old"},
	}
	for _, c := range cases {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, config.FileName), []byte(c.yaml+"\n"), 0o600)
		settings, err := config.Open(filepath.Join(dir, config.FileName))
		if err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(dir, "openagent")
		os.WriteFile(bin, []byte("old"), 0o755)
		u, err := New(Config{Current: "1.0.0", Settings: settings, Binary: bin, GOOS: "linux", GOARCH: "amd64"})
		if err != nil {
			t.Fatal(err)
		}
		var notified, restarted bool
		u.OnAvailable = func(st Status) { notified = st.Available && st.LatestVersion == "2.0.0" }
		u.Restart = func() { restarted = true }
		u.autoCheck(context.Background())
		got, _ := os.ReadFile(bin)
		if notified != c.wantNotified || restarted != c.wantRestart || string(got) != c.wantBinary {
			t.Errorf("%s: notified %v restarted %v binary %q; want %v %v %q", c.yaml, notified, restarted, got, c.wantNotified, c.wantRestart, c.wantBinary)
		}
	}
}
