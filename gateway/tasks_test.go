package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"openagent/gateway"
	"openagent/internal/agent"
	"openagent/internal/config"
	"openagent/internal/schedule"
	"openagent/internal/store"
)

// svcGW is a real gateway on a real listener, with the services of issue 8
// chosen by the test.
type svcGW struct {
	url      string
	dir      string
	settings *config.File
	db       *store.DB
	srv      *gateway.Server
	ctx      context.Context // the Serve context
}

// startSvcGateway writes yaml as openagent.yaml, lets setup fill the
// config, and serves until the test ends.
func startSvcGateway(t *testing.T, yaml string, setup func(g *svcGW, cfg *gateway.Config)) *svcGW {
	t.Helper()
	dir, settings, db, events := newAgentDir(t, yaml)
	ctx, cancel := context.WithCancel(context.Background())
	g := &svcGW{dir: dir, settings: settings, db: db, ctx: ctx}
	cfg := gateway.Config{Dir: dir, Settings: settings, DB: db, Events: events, Version: "1.0.0",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if setup != nil {
		setup(g, &cfg)
	}
	srv, err := gateway.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	g.srv = srv
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g.url = "http://" + ln.Addr().String()
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
	return g
}

// call sends a request with an optional JSON body and decodes a JSON answer into out.
func (g *svcGW) call(t *testing.T, method, path string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = strings.NewReader(s)
		} else {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
	}
	req, _ := http.NewRequest(method, g.url+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, b, err)
		}
	}
	return resp.StatusCode
}

// taskAgent answers scheduled turns; it stands in for the agent runtime.
type taskAgent struct{ turns chan agent.Turn }

func (a *taskAgent) Run(ctx context.Context, t agent.Turn, status func(string)) (agent.Reply, error) {
	a.turns <- t
	return agent.Reply{Text: "Done: " + t.Text, Model: "fake:m1"}, nil
}

func (a *taskAgent) Forget(ctx context.Context, sid string) error { return nil }

type errBody struct {
	Error string `json:"error"`
}

func TestScheduledTasksOff(t *testing.T) {
	g := startSvcGateway(t, "scheduler:\n  enabled: false\n", nil)
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/scheduled-tasks"}, {"POST", "/api/scheduled-tasks"}, {"GET", "/api/scheduled-tasks/x"},
		{"PATCH", "/api/scheduled-tasks/x"}, {"PUT", "/api/scheduled-tasks/x"}, {"DELETE", "/api/scheduled-tasks/x"},
		{"GET", "/api/scheduled-tasks/x/runs"},
	} {
		var e errBody
		if code := g.call(t, c.method, c.path, `{}`, &e); code != 503 || e.Error != "Scheduler is not running (scheduler.enabled is false)" {
			t.Errorf("%s %s = %d %q, want 503 and the contract's message", c.method, c.path, code, e.Error)
		}
	}
}

type taskJSON struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	CronExpression string   `json:"cron_expression"`
	Prompt         string   `json:"prompt"`
	Enabled        bool     `json:"enabled"`
	LastRun        *float64 `json:"last_run"`
	NextRun        *float64 `json:"next_run"`
	CreatedAt      float64  `json:"created_at"`
	RunOnce        bool     `json:"run_once"`
	RunAt          *float64 `json:"run_at"`
	NextRunISO     string   `json:"next_run_iso"`
	CreatedAtISO   string   `json:"created_at_iso"`
}

func TestScheduledTasksREST(t *testing.T) {
	ag := &taskAgent{turns: make(chan agent.Turn, 10)}
	var sched *schedule.Scheduler
	g := startSvcGateway(t, "", func(g *svcGW, cfg *gateway.Config) {
		var err error
		sched, err = schedule.New(schedule.Config{DB: g.db, Runner: ag})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Scheduler = sched
	})
	sched.OnChange = func(action, id string) { g.srv.Broadcast("scheduled_task", action, id) }
	go sched.Run(g.ctx)
	ws := dialSvcWS(t, g)

	// Validation, in the contract's words.
	for _, c := range []struct {
		body any
		want string
	}{
		{map[string]any{"cron_expression": "@daily", "prompt": "p"}, "name is required"},
		{map[string]any{"name": "n", "prompt": "p"}, "cron_expression is required"},
		{map[string]any{"name": "n", "cron_expression": "@daily", "prompt": "  "}, "prompt is required"},
		{map[string]any{"name": "n", "cron_expression": "0 9 * *", "prompt": "p"}, "Invalid cron expression '0 9 * *': expected exactly 5 fields, found 4: [0 9 * *]"},
		{map[string]any{"name": "n", "cron_expression": "0 99 * * *", "prompt": "p"}, "Invalid cron expression '0 99 * * *': end of range (99) above maximum (23): 99"},
	} {
		var e errBody
		if code := g.call(t, "POST", "/api/scheduled-tasks", c.body, &e); code != 400 || e.Error != c.want {
			t.Errorf("POST %v = %d %q, want 400 %q", c.body, code, e.Error, c.want)
		}
	}
	var e errBody
	if code := g.call(t, "POST", "/api/scheduled-tasks", `{"name":`, &e); code != 400 || !strings.Contains(e.Error, "invalid JSON body") {
		t.Errorf("POST broken JSON = %d %q", code, e.Error)
	}

	var daily taskJSON
	if code := g.call(t, "POST", "/api/scheduled-tasks", map[string]any{"name": " Digest ", "cron_expression": "0 7 * * *", "prompt": "summarise my inbox notes"}, &daily); code != 201 {
		t.Fatalf("POST = %d", code)
	}
	if daily.ID == "" || daily.Name != "Digest" || !daily.Enabled || daily.RunOnce || daily.NextRun == nil || daily.LastRun != nil ||
		daily.NextRunISO == "" || daily.CreatedAtISO == "" || daily.RunAt != nil {
		t.Errorf("created = %+v", daily)
	}
	if f := readSvcFrame(t, ws); f["type"] != "resource_event" || f["resource"] != "scheduled_task" || f["action"] != "created" || f["id"] != daily.ID {
		t.Errorf("after create: frame %v, want resource_event scheduled_task created", f)
	}

	var got taskJSON
	if code := g.call(t, "GET", "/api/scheduled-tasks/"+daily.ID, nil, &got); code != 200 || got.ID != daily.ID {
		t.Errorf("GET = %d %+v", code, got)
	}
	if code := g.call(t, "GET", "/api/scheduled-tasks/nope", nil, &e); code != 404 || e.Error != "Task 'nope' not found" {
		t.Errorf("GET missing = %d %q", code, e.Error)
	}

	// PATCH and PUT both update (decision A14).
	if code := g.call(t, "PATCH", "/api/scheduled-tasks/"+daily.ID, map[string]any{"enabled": false}, &got); code != 200 || got.Enabled || got.NextRun != nil {
		t.Errorf("PATCH disable = %d %+v", code, got)
	}
	readSvcFrame(t, ws)
	if code := g.call(t, "PUT", "/api/scheduled-tasks/"+daily.ID, map[string]any{"enabled": true, "name": "Morning digest"}, &got); code != 200 || !got.Enabled || got.NextRun == nil || got.Name != "Morning digest" {
		t.Errorf("PUT enable = %d %+v", code, got)
	}
	if f := readSvcFrame(t, ws); f["action"] != "updated" || f["id"] != daily.ID {
		t.Errorf("after update: frame %v", f)
	}
	for _, c := range []struct {
		body any
		code int
		want string
	}{
		{map[string]any{}, 400, "No fields to update. Pass name, cron_expression, prompt, or enabled."},
		{map[string]any{"name": ""}, 400, "name cannot be empty"},
		{map[string]any{"cron_expression": "@fortnightly"}, 400, "Invalid cron expression '@fortnightly': unrecognized descriptor: @fortnightly"},
	} {
		if code := g.call(t, "PATCH", "/api/scheduled-tasks/"+daily.ID, c.body, &e); code != c.code || e.Error != c.want {
			t.Errorf("PATCH %v = %d %q, want %d %q", c.body, code, e.Error, c.code, c.want)
		}
	}
	if code := g.call(t, "PATCH", "/api/scheduled-tasks/nope", map[string]any{"enabled": true}, &e); code != 404 {
		t.Errorf("PATCH missing = %d", code)
	}

	// A one-shot that is due now runs as an agent turn in its own session.
	at := strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)
	var once taskJSON
	if code := g.call(t, "POST", "/api/scheduled-tasks", map[string]any{"name": "Now", "cron_expression": "@once:" + at, "prompt": "say hi"}, &once); code != 201 || !once.RunOnce || once.RunAt == nil {
		t.Fatalf("POST one-shot = %d %+v", code, once)
	}
	select {
	case turn := <-ag.turns:
		if turn.Text != "say hi" || !strings.HasPrefix(turn.SessionID, "scheduler:"+once.ID+":") || turn.Channel != "scheduler" {
			t.Errorf("turn = %+v", turn)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the due one-shot did not run")
	}
	var runs struct {
		Runs []struct {
			ID, Status, Model, SessionID, ReplyExcerpt string
			FinishedAt                                 *float64 `json:"finished_at"`
		} `json:"runs"`
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		g.call(t, "GET", "/api/scheduled-tasks/"+once.ID+"/runs", nil, &runs)
		if len(runs.Runs) == 1 && runs.Runs[0].FinishedAt != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(runs.Runs) != 1 || runs.Runs[0].Status != "ok" || runs.Runs[0].Model != "fake:m1" {
		t.Errorf("runs = %+v, want one ok run by fake:m1", runs.Runs)
	}
	var list struct{ Tasks []taskJSON }
	g.call(t, "GET", "/api/scheduled-tasks", nil, &list)
	if len(list.Tasks) != 2 || list.Tasks[0].ID != once.ID {
		t.Errorf("list = %+v, want 2 tasks, newest first", list.Tasks)
	}
	g.call(t, "GET", "/api/scheduled-tasks?enabled_only=yes", nil, &list)
	if len(list.Tasks) != 1 || list.Tasks[0].ID != daily.ID {
		t.Errorf("enabled_only = %+v, want only the daily task (the one-shot is done)", list.Tasks)
	}

	var del struct {
		OK bool   `json:"ok"`
		ID string `json:"id"`
	}
	if code := g.call(t, "DELETE", "/api/scheduled-tasks/"+daily.ID, nil, &del); code != 200 || !del.OK || del.ID != daily.ID {
		t.Errorf("DELETE = %d %+v", code, del)
	}
	if code := g.call(t, "DELETE", "/api/scheduled-tasks/"+daily.ID, nil, &e); code != 404 {
		t.Errorf("DELETE twice = %d", code)
	}
	if code := g.call(t, "GET", "/api/scheduled-tasks/"+daily.ID+"/runs", nil, &e); code != 404 {
		t.Errorf("runs of a deleted task = %d", code)
	}
}

// dialSvcWS connects and authenticates a WebSocket client (no token set).
func dialSvcWS(t *testing.T, g *svcGW) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(g.url, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := c.WriteJSON(map[string]string{"type": "auth", "token": ""}); err != nil {
		t.Fatal(err)
	}
	if f := readSvcFrame(t, c); f["type"] != "auth_ok" {
		t.Fatalf("auth: %v", f)
	}
	return c
}

func readSvcFrame(t *testing.T, c *websocket.Conn) map[string]any {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var m map[string]any
	if err := c.ReadJSON(&m); err != nil {
		t.Fatalf("read frame: %v", err)
	}
	return m
}
