package gateway

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"openagent/internal/agent"
	"openagent/internal/config"
	"openagent/internal/mcp"
	"openagent/internal/schedule"
	"openagent/internal/usage"
)

// The web UI's TypeScript types list their JSON keys in
// frontend/src/lib/protocol.keys.json (tsc checks the lists against the
// types). This test checks the same lists against what the Go side sends.
type uiKeys struct {
	Frames       map[string][]string `json:"frames"`
	ClientFrames map[string][]string `json:"client_frames"`
	Rest         map[string][]string `json:"rest"`
	TaskRead     []string            `json:"task_read"`
}

func loadUIKeys(t *testing.T) uiKeys {
	t.Helper()
	b, err := os.ReadFile("../frontend/src/lib/protocol.keys.json")
	if err != nil {
		t.Fatalf("read UI key lists: %v", err)
	}
	var k uiKeys
	if err := json.Unmarshal(b, &k); err != nil {
		t.Fatalf("parse UI key lists: %v", err)
	}
	return k
}

func sameKeys(t *testing.T, name string, got, want []string) {
	t.Helper()
	slices.Sort(got)
	want = slices.Clone(want)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s: Go sends keys %v, the UI types have %v", name, got, want)
	}
}

// wireKeys marshals v and returns its top-level keys.
func wireKeys(t *testing.T, b []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// tagKeys lists the JSON names of a struct's fields, omitempty ones included.
func tagKeys(v any) []string {
	var out []string
	rt := reflect.TypeOf(v)
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

func TestUITypesMatchFrames(t *testing.T) {
	k := loadUIKeys(t)
	att := []Attachment{{Type: "image", Path: "/a.png", Filename: "a.png"}}
	// Every optional field is set, so the encoding shows each key it can carry.
	frames := map[string]frame{
		"auth_ok":        {Type: "auth_ok", AgentName: "a", Version: "v", ClientID: "c", Protocol: 1},
		"auth_error":     {Type: "auth_error", Reason: "Invalid token"},
		"queued":         {Type: "queued", Position: 2, SessionID: "s"},
		"status":         {Type: "status", Text: "Thinking...", SessionID: "s"},
		"response":       {Type: "response", Text: "hi", SessionID: "s", Attachments: att, Model: "p:m"},
		"error":          {Type: "error", Text: "Stopped.", SessionID: "s"},
		"command_result": {Type: "command_result", Text: "ok"}, // runCommand never sets a session_id
		"pong":           {Type: "pong"},
		"resource_event": {Type: "resource_event", Resource: "vault", Action: "updated", ID: "a.md"},
	}
	for name, f := range frames {
		want, ok := k.Frames[name]
		if !ok {
			t.Errorf("the UI has no type for frame %q", name)
			continue
		}
		sameKeys(t, name, wireKeys(t, f.encode()), want)
	}
	for name := range k.Frames {
		if _, ok := frames[name]; !ok && name != "attachment" {
			t.Errorf("the UI has a type for frame %q the gateway never sends", name)
		}
	}
	b, _ := json.Marshal(att[0])
	sameKeys(t, "attachment", wireKeys(t, b), k.Frames["attachment"])

	// A response without a model or attachments still carries both keys (A8).
	sameKeys(t, "bare response", wireKeys(t, frame{Type: "response", SessionID: "s"}.encode()), k.Frames["response"])
	var bare map[string]any
	_ = json.Unmarshal(frame{Type: "response", SessionID: "s"}.encode(), &bare)
	if a, ok := bare["attachments"].([]any); !ok || len(a) != 0 {
		t.Errorf("bare response: attachments = %#v, want []", bare["attachments"])
	}
}

func TestUIClientFramesAreRead(t *testing.T) {
	k := loadUIKeys(t)
	read := tagKeys(inbound{})
	for name, keys := range k.ClientFrames {
		for _, key := range keys {
			if !slices.Contains(read, key) {
				t.Errorf("client frame %s: the UI sends %q, which the gateway does not read", name, key)
			}
		}
	}
}

func TestUITypesMatchREST(t *testing.T) {
	k := loadUIKeys(t)
	bodies := map[string]any{
		"health":         healthBody{},
		"agent_info":     AgentInfo{},
		"command":        Command{},
		"commands":       commandsBody{},
		"pairing":        PairingInfo{},
		"config_write":   configWriteBody{},
		"ok":             okBody{},
		"usage_day":      usage.Day{},
		"price_row":      usage.PriceRow{},
		"usage_month":    usageBody{},
		"price_entry":    priceEntry{},
		"pricing":        pricingBody{},
		"provider":       providerView{},
		"provider_model": config.ModelEntry{},
		"active_model":   activeView{},
		"models":         modelsBody{},
		"model_test":     agent.TestResult{},
		"note_meta":      vaultNoteSummary{},
		"note":           vaultNote{},
		"search_hit":     vaultSearchResult{},
		"graph_node":     vaultGraphNode{},
		"graph_edge":     vaultGraphEdge{},
		"graph":          vaultGraphResponse{},
		"mcp":            mcp.Row{},
		"upload":         uploadReply{},
		"update":         updateReply{},
	}
	for name, v := range bodies {
		want, ok := k.Rest[name]
		if !ok {
			t.Errorf("the UI has no type for REST body %q", name)
			continue
		}
		sameKeys(t, name, tagKeys(v), want)
	}
	for name := range k.Rest {
		if _, ok := bodies[name]; !ok {
			t.Errorf("REST body %q is not checked against a Go struct", name)
		}
	}
}

// The task object has optional *_iso fields; the UI reads a subset that a
// task always carries.
func TestUITaskKeysAreSent(t *testing.T) {
	k := loadUIKeys(t)
	if len(k.TaskRead) == 0 {
		t.Fatal("no task keys in the UI key lists")
	}
	b, err := json.Marshal(schedule.Task{ID: "t1", Name: "n", CronExpression: "0 9 * * *", Prompt: "p", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	sent := wireKeys(t, b)
	for _, key := range k.TaskRead {
		if !slices.Contains(sent, key) {
			t.Errorf("task: the UI reads %q, the gateway sends %v", key, sent)
		}
	}
}
