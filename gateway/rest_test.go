package gateway_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRESTAuth(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gwOpts{yaml: tokenYAML})
	var body map[string]any
	if r := g.api(t, "GET", "/api/health", "", nil, &body); r.StatusCode != 200 || body["agent"] != "testagent" {
		t.Fatalf("health without token: %d %v", r.StatusCode, body)
	}
	for _, p := range []string{"/api/agent-info", "/api/config", "/api/logs"} {
		body = nil
		if r := g.api(t, "GET", p, "", nil, &body); r.StatusCode != 401 || body["error"] != "unauthorized" {
			t.Errorf("GET %s without token: %d %v, want 401 unauthorized", p, r.StatusCode, body)
		}
		if r := g.api(t, "GET", p, "wrong", nil, nil); r.StatusCode != 401 {
			t.Errorf("GET %s with a wrong token: %d, want 401", p, r.StatusCode)
		}
		if r := g.api(t, "GET", p, "s3cret-token", nil, nil); r.StatusCode != 200 {
			t.Errorf("GET %s with the token: %d, want 200", p, r.StatusCode)
		}
	}
	if r := g.api(t, "GET", "/api/agent-info?token=s3cret-token", "", nil, nil); r.StatusCode != 200 {
		t.Errorf("?token= on GET: %d, want 200", r.StatusCode)
	}
	if r := g.api(t, "DELETE", "/api/logs?token=s3cret-token", "", nil, nil); r.StatusCode != 401 {
		t.Errorf("?token= on DELETE: %d, want 401 (only GET may use it)", r.StatusCode)
	}
}

func TestRESTRateLimit(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gwOpts{yaml: tokenYAML})
	codes := map[int]int{}
	for i := 0; i < 12; i++ {
		codes[g.api(t, "GET", "/api/config", "bad", nil, nil).StatusCode]++
	}
	if codes[401] != 10 || codes[429] != 2 {
		t.Fatalf("status counts %v, want 10×401 then 429", codes)
	}
	// The right token still works: only failures are limited.
	var logs []map[string]any
	if r := g.api(t, "GET", "/api/logs?event=auth.fail&lines=100", "s3cret-token", nil, &logs); r.StatusCode != 200 {
		t.Fatalf("right token while limited: %d", r.StatusCode)
	}
	if len(logs) < 10 {
		t.Fatalf("auth.fail events = %d, want ≥ 10", len(logs))
	}
}

func TestRESTErrorsAreJSON(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gwOpts{})
	cases := []struct {
		method, path, body string
		status             int
	}{
		{"GET", "/api/does-not-exist", "", 404},
		{"DELETE", "/api/health", "", 405},
		{"PUT", "/api/config", "{broken", 400},
		{"PUT", "/api/config", `[1,2]`, 400},
		{"GET", "/api/logs?lines=abc", "", 400},
		{"GET", "/api/config/nosuchsection", "", 404},
	}
	for _, tc := range cases {
		var body map[string]any
		var rd *strings.Reader
		if tc.body != "" {
			rd = strings.NewReader(tc.body)
		}
		var r *http.Response
		if rd != nil {
			r = g.api(t, tc.method, tc.path, "", rd, &body)
		} else {
			r = g.api(t, tc.method, tc.path, "", nil, &body)
		}
		if r.StatusCode != tc.status || body["error"] == "" || body["error"] == nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s %s: %d %v (%s), want %d with a JSON error", tc.method, tc.path, r.StatusCode, body, r.Header.Get("Content-Type"), tc.status)
		}
	}
}

func TestConfigREST(t *testing.T) {
	t.Parallel()
	yaml := "# my agent\nname: cfgtest   # the name\n\n# keys below\nproviders:\n  openai:\n    api_key: sk-abcdefgh1234\n    base_url: http://x\n  anth:\n    type: anthropic\n    api_key: ${ANTHROPIC_KEY}\nchannels:\n  websocket:\n    port: 8765\n"
	g := startGateway(t, gwOpts{yaml: yaml})

	var cfg map[string]any
	g.api(t, "GET", "/api/config", "", nil, &cfg)
	prov := cfg["providers"].(map[string]any)
	if k := prov["openai"].(map[string]any)["api_key"]; k != "****1234" {
		t.Fatalf("masked key = %v, want ****1234", k)
	}
	if k := prov["anth"].(map[string]any)["api_key"]; k != "${ANTHROPIC_KEY}" {
		t.Fatalf("env reference = %v, want it unmasked", k)
	}

	// Sending the masked value back keeps the secret; the section is replaced.
	prov["openai"].(map[string]any)["base_url"] = "http://y"
	delete(prov, "anth")
	b, _ := json.Marshal(prov)
	var res map[string]any
	r := g.api(t, "PATCH", "/api/config/providers", "", strings.NewReader(string(b)), &res)
	if r.StatusCode != 200 || res["ok"] != true || res["restart_required"] != false {
		t.Fatalf("PATCH providers: %d %v", r.StatusCode, res)
	}
	raw, _ := os.ReadFile(filepath.Join(g.dir, "openagent.yaml"))
	s := string(raw)
	if !strings.Contains(s, "sk-abcdefgh1234") || strings.Contains(s, "****") || strings.Contains(s, "anth:") || !strings.Contains(s, "http://y") {
		t.Fatalf("file after PATCH:\n%s", s)
	}
	if !strings.Contains(s, "# my agent") || !strings.Contains(s, "# the name") {
		t.Fatalf("comments outside the section were lost:\n%s", s)
	}
	if st, _ := os.Stat(filepath.Join(g.dir, "openagent.yaml")); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", st.Mode().Perm())
	}
	if got := g.cfg.Config().Providers["openai"].BaseURL; got != "http://y" {
		t.Fatalf("live config base_url = %q; providers must hot-reload", got)
	}

	r = g.api(t, "PATCH", "/api/config/system_prompt", "", strings.NewReader(`"patched at 1a2b3c"`), &res)
	if r.StatusCode != 200 || res["restart_required"] != false {
		t.Fatalf("PATCH system_prompt: %d %v", r.StatusCode, res)
	}
	r = g.api(t, "PATCH", "/api/config/scheduler", "", strings.NewReader(`{"enabled":false}`), &res)
	if res["restart_required"] != true {
		t.Fatalf("PATCH scheduler: %v, want restart_required", res)
	}
	g.api(t, "GET", "/api/config", "", nil, &cfg)
	if cfg["system_prompt"] != "patched at 1a2b3c" {
		t.Fatalf("system_prompt = %v", cfg["system_prompt"])
	}

	// An invalid value is refused with a message, and the file stays as it was.
	before, _ := os.ReadFile(filepath.Join(g.dir, "openagent.yaml"))
	var e map[string]any
	r = g.api(t, "PATCH", "/api/config/model", "", strings.NewReader(`{"provider":"nope"}`), &e)
	if r.StatusCode != 400 || !strings.Contains(e["error"].(string), "model.provider") {
		t.Fatalf("invalid model: %d %v", r.StatusCode, e)
	}
	after, _ := os.ReadFile(filepath.Join(g.dir, "openagent.yaml"))
	if string(before) != string(after) {
		t.Fatal("a refused PATCH changed the file")
	}

	// PUT replaces the whole file; unchanged sections keep their comments.
	g.api(t, "GET", "/api/config", "", nil, &cfg)
	cfg["name"] = "renamed"
	b, _ = json.Marshal(cfg)
	r = g.api(t, "PUT", "/api/config", "", strings.NewReader(string(b)), &res)
	if r.StatusCode != 200 || res["ok"] != true {
		t.Fatalf("PUT: %d %v", r.StatusCode, res)
	}
	raw, _ = os.ReadFile(filepath.Join(g.dir, "openagent.yaml"))
	if !strings.Contains(string(raw), "sk-abcdefgh1234") || !strings.Contains(string(raw), "name: renamed") {
		t.Fatalf("file after PUT:\n%s", raw)
	}
	var h map[string]any
	g.api(t, "GET", "/api/health", "", nil, &h)
	if h["agent"] != "renamed" {
		t.Fatalf("health agent = %v, want renamed", h["agent"])
	}
}

func TestLogsREST(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gwOpts{})
	c, _ := g.auth(t, "", "")
	for i := 0; i < 3; i++ {
		c.send(map[string]any{"type": "message", "text": "hi"})
		c.read()
	}
	var logs []map[string]any
	g.api(t, "GET", "/api/logs?lines=2&event=message.", "", nil, &logs)
	if len(logs) != 2 {
		t.Fatalf("lines=2 gave %d entries", len(logs))
	}
	for _, e := range logs {
		if !strings.HasPrefix(e["event"].(string), "message.") || e["ts"] == nil {
			t.Fatalf("entry %v", e)
		}
		if _, ok := e["text"]; ok {
			t.Fatalf("a message body was logged: %v", e)
		}
	}
	if logs[1]["event"] != "message.response" {
		t.Fatalf("newest entry = %v, want message.response last (oldest first)", logs[1])
	}
	if r := g.api(t, "DELETE", "/api/logs", "", nil, nil); r.StatusCode != 200 {
		t.Fatalf("DELETE /api/logs: %d", r.StatusCode)
	}
	g.api(t, "GET", "/api/logs?event=message.", "", nil, &logs)
	if len(logs) != 0 {
		t.Fatalf("after DELETE: %d entries", len(logs))
	}
}

func TestAgentInfoAndSPA(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gwOpts{})
	var info map[string]any
	g.api(t, "GET", "/api/agent-info", "", nil, &info)
	if info["agent_dir"] != g.dir || info["port"].(float64) == 0 || info["version"] != "9.9.9" {
		t.Fatalf("agent-info = %v", info)
	}
	resp, err := http.Get(g.url + "/some/client/route")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("SPA fallback: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
