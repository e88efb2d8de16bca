package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"openagent/internal/config"
)

// childDirEnv hands the agent directory to the child process of
// TestRestartIntoUpdatedBinary.
const childDirEnv = "OPENAGENT_TEST_REEXEC_DIR"

// TestRestartIntoUpdatedBinary runs a copy of this test binary as the
// agent. POST /api/update installs a "new version" from a local feed (a
// shell script standing in for the new binary) over the copy, and the
// restart that follows must exec it, in the same process, after the
// gateway stopped; the script then reports that it ran.
func TestRestartIntoUpdatedBinary(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("restarting into a new binary is not supported on Windows")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	orig, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	binDir := t.TempDir()
	agentBin := filepath.Join(binDir, "openagent")
	if err := os.WriteFile(agentBin, orig, 0o755); err != nil {
		t.Fatal(err)
	}
	script := []byte("#!/bin/sh\necho \"NEW-BINARY-RAN pid=$$ args=$*\"\n")
	sum := sha256.Sum256(script)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /feed.json", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"version": "99.0.0", "assets": []map[string]string{
			{"os": runtime.GOOS, "arch": runtime.GOARCH, "url": "/openagent", "sha256": hex.EncodeToString(sum[:])},
		}})
	})
	mux.HandleFunc("GET /openagent", func(w http.ResponseWriter, r *http.Request) { w.Write(script) })
	feed := httptest.NewServer(mux)
	defer feed.Close()

	dir := t.TempDir()
	yaml := "name: reexec\nauto_update:\n  feed_url: " + feed.URL + "/feed.json\n"
	if err := os.WriteFile(filepath.Join(dir, config.FileName), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, agentBin, "-test.run=^TestRestartIntoUpdatedBinaryChild$", "-test.v")
	cmd.Env = append(os.Environ(), childDirEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	text := string(out)
	childPID := between(text, "child pid=", "\n")
	if !strings.Contains(text, "NEW-BINARY-RAN pid="+childPID+" args=-test.run=^TestRestartIntoUpdatedBinaryChild$ -test.v") {
		t.Fatalf("the new binary did not run in the same process with the same arguments:\n%s", text)
	}
	if !strings.Contains(text, "gateway stopped") {
		t.Errorf("the gateway did not stop before the exec:\n%s", text)
	}
	if old, err := os.ReadFile(agentBin + ".old"); err != nil || len(old) != len(orig) {
		t.Errorf("rollback binary: %d bytes, %v; want the original %d bytes", len(old), err, len(orig))
	}
}

// TestRestartIntoUpdatedBinaryChild is the agent process of the test above.
func TestRestartIntoUpdatedBinaryChild(t *testing.T) {
	dir := os.Getenv(childDirEnv)
	if dir == "" {
		t.Skip("run by TestRestartIntoUpdatedBinary")
	}
	fmt.Printf("child pid=%d\n", os.Getpid())
	g := NewGateway(Options{Dir: dir, Port: e2ePort(t), Stderr: os.Stdout})
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/api/update", g.State().Port), "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	var u struct {
		Updated bool   `json:"updated"`
		New     string `json:"new"`
		Error   string `json:"error"`
	}
	json.NewDecoder(resp.Body).Decode(&u)
	resp.Body.Close()
	if !u.Updated || u.New != "99.0.0" {
		t.Fatalf("POST /api/update = %d %+v", resp.StatusCode, u)
	}
	time.Sleep(20 * time.Second) // the restart execs the new binary long before
	t.Fatal("the process was not replaced by the new binary")
}

func between(s, start, end string) string {
	_, rest, ok := strings.Cut(s, start)
	if !ok {
		return "?"
	}
	v, _, _ := strings.Cut(rest, end)
	return v
}
