package gateway_test

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func (g *svcGW) getFile(t *testing.T, path string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", g.url+"/api/files?path="+url.QueryEscape(path), nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestFiles(t *testing.T) {
	g := startSvcGateway(t, "", nil)
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.txt")
	os.WriteFile(secret, []byte("top secret"), 0o600)
	os.MkdirAll(filepath.Join(g.dir, "uploads", "2026-11"), 0o755)
	audio := filepath.Join(g.dir, "uploads", "2026-11", "song.mp3")
	os.WriteFile(audio, []byte("0123456789abcdef"), 0o600)
	os.WriteFile(filepath.Join(g.dir, "memories-report.zip"), []byte("PK"), 0o600)
	if err := os.Symlink(secret, filepath.Join(g.dir, "uploads", "link.txt")); err != nil {
		t.Fatal(err)
	}

	resp, body := g.getFile(t, audio, nil)
	if resp.StatusCode != 200 || body != "0123456789abcdef" || resp.Header.Get("Content-Type") != "audio/mpeg" ||
		resp.Header.Get("Content-Disposition") != `inline; filename=song.mp3` || resp.Header.Get("Accept-Ranges") != "bytes" {
		t.Errorf("GET song.mp3 = %d %q %v", resp.StatusCode, body, resp.Header)
	}
	// Range requests let audio and video seek.
	resp, body = g.getFile(t, audio, map[string]string{"Range": "bytes=4-9"})
	if resp.StatusCode != 206 || body != "456789" || resp.Header.Get("Content-Range") != "bytes 4-9/16" {
		t.Errorf("range = %d %q %q, want 206 456789", resp.StatusCode, body, resp.Header.Get("Content-Range"))
	}
	// Relative paths are relative to the agent directory; other types download.
	resp, _ = g.getFile(t, "memories-report.zip", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Disposition") != "attachment; filename=memories-report.zip" {
		t.Errorf("zip = %d %q", resp.StatusCode, resp.Header.Get("Content-Disposition"))
	}

	for _, c := range []struct {
		path string
		code int
		want string
	}{
		{"", 400, "path required"},
		{secret, 403, "Forbidden"},
		{filepath.Join(g.dir, "..", filepath.Base(outside), "secret.txt"), 403, "Forbidden"},
		{"../" + filepath.Base(outside) + "/secret.txt", 403, "Forbidden"},
		{filepath.Join(outside, "missing.txt"), 403, "Forbidden"}, // outside: existence is not revealed
		{"/etc/passwd", 403, "Forbidden"},
		{filepath.Join(g.dir, "uploads", "link.txt"), 403, "Forbidden"}, // a symlink pointing out
		{filepath.Join(g.dir, "uploads", "missing.mp3"), 404, "not found"},
		{filepath.Join(g.dir, "uploads"), 404, "not found"}, // a directory
		{filepath.Join(g.dir, "openagent.yaml"), 403, "holds secrets"},
		{filepath.Join(g.dir, "openagent.db"), 403, "holds secrets"},
		{filepath.Join(g.dir, "openagent.db-wal"), 403, "holds secrets"},
	} {
		if c.path == filepath.Join(g.dir, "openagent.yaml") {
			os.WriteFile(c.path, []byte("name: x\n"), 0o600)
		}
		resp, body := g.getFile(t, c.path, nil)
		if resp.StatusCode != c.code || !strings.Contains(body, c.want) {
			t.Errorf("GET %q = %d %s, want %d %q", c.path, resp.StatusCode, body, c.code, c.want)
		}
	}
}
