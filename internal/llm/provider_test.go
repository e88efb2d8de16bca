package llm_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"openagent/internal/llm"
	"openagent/internal/llm/anthropic"
	"openagent/internal/llm/google"
	"openagent/internal/llm/llmtest"
	"openagent/internal/llm/openai"
)

type kind struct {
	name string
	open func(t *testing.T, s *llmtest.Server) llm.Provider
}

var kinds = []kind{
	{"openai", func(t *testing.T, s *llmtest.Server) llm.Provider {
		return openai.New(llm.Config{Name: "openai", APIKey: "sk-test", BaseURL: s.OpenAIBaseURL()})
	}},
	{"anthropic", func(t *testing.T, s *llmtest.Server) llm.Provider {
		return anthropic.New(llm.Config{Name: "anthropic", APIKey: "sk-ant-test", BaseURL: s.AnthropicBaseURL()})
	}},
	{"google", func(t *testing.T, s *llmtest.Server) llm.Provider {
		p, err := google.New(context.Background(), llm.Config{Name: "google", APIKey: "g-test", BaseURL: s.GoogleBaseURL()})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}},
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestStreamTextAndUsage(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			srv := llmtest.New(t, llmtest.Reply{Chunks: []string{"Hel", "lo"}, Usage: &llm.Usage{InputTokens: 12, OutputTokens: 3, CachedTokens: 2, Reported: true}})
			p := k.open(t, srv)
			var deltas []string
			resp, err := p.Stream(ctxT(t), llm.Request{Model: "m1", System: "be brief", Messages: []llm.Message{{Role: llm.RoleUser, Text: "hi"}}}, func(s string) { deltas = append(deltas, s) })
			if err != nil {
				t.Fatal(err)
			}
			if resp.Text != "Hello" || !reflect.DeepEqual(deltas, []string{"Hel", "lo"}) {
				t.Errorf("text = %q, deltas %q; want Hello in 2 deltas", resp.Text, deltas)
			}
			want := llm.Usage{InputTokens: 12, OutputTokens: 3, CachedTokens: 2, Reported: true}
			if resp.Usage != want {
				t.Errorf("usage = %+v, want %+v", resp.Usage, want)
			}
			req := srv.Requests()[0]
			switch k.name {
			case "openai":
				so, _ := req.Body["stream_options"].(map[string]any)
				if req.Body["stream"] != true || so["include_usage"] != true {
					t.Errorf("request stream=%v stream_options=%v, want stream with include_usage", req.Body["stream"], so)
				}
				if req.Header.Get("Authorization") != "Bearer sk-test" {
					t.Errorf("Authorization = %q", req.Header.Get("Authorization"))
				}
			case "anthropic":
				if req.Body["stream"] != true || req.Header.Get("X-Api-Key") != "sk-ant-test" {
					t.Errorf("stream=%v key=%q", req.Body["stream"], req.Header.Get("X-Api-Key"))
				}
			case "google":
				if req.Path != "/v1beta/models/m1:streamGenerateContent" || req.Header.Get("X-Goog-Api-Key") != "g-test" {
					t.Errorf("path %q key %q", req.Path, req.Header.Get("X-Goog-Api-Key"))
				}
			}
		})
	}
}

func TestNoUsageReported(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			srv := llmtest.New(t, llmtest.Reply{Chunks: []string{"ok"}})
			resp, err := k.open(t, srv).Stream(ctxT(t), llm.Request{Model: "m1", Messages: []llm.Message{{Role: llm.RoleUser, Text: "hi"}}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Usage.Reported {
				t.Errorf("usage = %+v, want not reported", resp.Usage)
			}
		})
	}
}

// TestToolRoundTrip: the model calls a tool, the result goes back in the
// provider's own format, and the model answers.
func TestToolRoundTrip(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			call := llm.ToolCall{ID: "call_1", Name: "clock__now", Args: json.RawMessage(`{"tz":"UTC"}`)}
			srv := llmtest.New(t,
				llmtest.Reply{ToolCalls: []llm.ToolCall{call}, Usage: &llm.Usage{InputTokens: 20, OutputTokens: 8, Reported: true}},
				llmtest.Text(30, 4, "It is noon."))
			p := k.open(t, srv)
			tools := []llm.ToolSpec{{Name: "clock__now", Description: "current time", Schema: json.RawMessage(`{"type":"object","properties":{"tz":{"type":"string"}},"required":["tz"]}`)}}
			req := llm.Request{Model: "m1", Tools: tools, Messages: []llm.Message{{Role: llm.RoleUser, Text: "what time is it?"}}}
			r1, err := p.Stream(ctxT(t), req, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(r1.ToolCalls) != 1 || r1.ToolCalls[0].Name != "clock__now" || r1.ToolCalls[0].ID != "call_1" {
				t.Fatalf("tool calls = %+v", r1.ToolCalls)
			}
			var args map[string]string
			if err := json.Unmarshal(r1.ToolCalls[0].Args, &args); err != nil || args["tz"] != "UTC" {
				t.Fatalf("args = %s (%v), want {\"tz\":\"UTC\"}", r1.ToolCalls[0].Args, err)
			}
			req.Messages = append(req.Messages,
				llm.Message{Role: llm.RoleAssistant, ToolCalls: r1.ToolCalls},
				llm.Message{Role: llm.RoleTool, ToolCallID: "call_1", ToolName: "clock__now", Text: "12:00"})
			r2, err := p.Stream(ctxT(t), req, nil)
			if err != nil {
				t.Fatal(err)
			}
			if r2.Text != "It is noon." {
				t.Errorf("text = %q", r2.Text)
			}
			second := srv.Requests()[1].Body
			raw, _ := json.Marshal(second)
			switch k.name {
			case "openai":
				msgs := second["messages"].([]any)
				last := msgs[len(msgs)-1].(map[string]any)
				prev := msgs[len(msgs)-2].(map[string]any)
				if last["role"] != "tool" || last["tool_call_id"] != "call_1" || last["content"] != "12:00" || prev["tool_calls"] == nil {
					t.Errorf("second request = %s", raw)
				}
				if len(second["tools"].([]any)) != 1 {
					t.Errorf("tools not sent: %s", raw)
				}
			case "anthropic":
				msgs := second["messages"].([]any)
				last := msgs[len(msgs)-1].(map[string]any)
				block := last["content"].([]any)[0].(map[string]any)
				if last["role"] != "user" || block["type"] != "tool_result" || block["tool_use_id"] != "call_1" {
					t.Errorf("second request = %s", raw)
				}
			case "google":
				cs := second["contents"].([]any)
				last := cs[len(cs)-1].(map[string]any)
				part := last["parts"].([]any)[0].(map[string]any)
				fr, _ := part["functionResponse"].(map[string]any)
				if fr["name"] != "clock__now" {
					t.Errorf("second request = %s", raw)
				}
			}
		})
	}
}

// TestCancelMidStream: cancelling the context closes the HTTP stream; the
// fake server sees its client go away.
func TestCancelMidStream(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			srv := llmtest.New(t, llmtest.Reply{Chunks: []string{"partial", "never"}, Hang: true})
			p := k.open(t, srv)
			ctx, cancel := context.WithCancel(ctxT(t))
			defer cancel()
			done := make(chan error, 1)
			go func() {
				_, err := p.Stream(ctx, llm.Request{Model: "m1", Messages: []llm.Message{{Role: llm.RoleUser, Text: "hi"}}}, func(string) { cancel() })
				done <- err
			}()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("err = %v, want context.Canceled", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Stream did not return after cancel")
			}
			select {
			case <-srv.Closed:
			case <-time.After(10 * time.Second):
				t.Fatal("server never saw the connection close")
			}
		})
	}
}

func TestErrorClasses(t *testing.T) {
	cases := map[string][]struct {
		name  string
		reply llmtest.Reply
		want  llm.Kind
	}{
		"openai": {
			{"bad key", llmtest.OpenAIError(401, "invalid_request_error", "invalid_api_key", "Incorrect API key provided"), llm.KindAuth},
			{"unknown model", llmtest.OpenAIError(404, "invalid_request_error", "model_not_found", "The model `nope` does not exist"), llm.KindModel},
			{"rate limit", llmtest.OpenAIError(429, "requests", "rate_limit_exceeded", "Rate limit reached"), llm.KindRateLimit},
			{"context", llmtest.OpenAIError(400, "invalid_request_error", "context_length_exceeded", "This model's maximum context length is 8192 tokens"), llm.KindContextLength},
			{"down", llmtest.OpenAIError(503, "server_error", "", "The server is overloaded"), llm.KindUnavailable},
		},
		"anthropic": {
			{"bad key", llmtest.AnthropicError(401, "authentication_error", "invalid x-api-key"), llm.KindAuth},
			{"unknown model", llmtest.AnthropicError(404, "not_found_error", "model: nope"), llm.KindModel},
			{"rate limit", llmtest.AnthropicError(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"), llm.KindRateLimit},
			{"context", llmtest.AnthropicError(400, "invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum"), llm.KindContextLength},
			{"down", llmtest.AnthropicError(529, "overloaded_error", "Overloaded"), llm.KindUnavailable},
		},
		"google": {
			{"bad key", llmtest.GoogleError(400, "INVALID_ARGUMENT", "API_KEY_INVALID", "API key not valid. Please pass a valid API key."), llm.KindAuth},
			{"unknown model", llmtest.GoogleError(404, "NOT_FOUND", "", "models/nope is not found for API version v1beta"), llm.KindModel},
			{"rate limit", llmtest.GoogleError(429, "RESOURCE_EXHAUSTED", "", "Resource has been exhausted (e.g. check quota)."), llm.KindRateLimit},
			{"context", llmtest.GoogleError(400, "INVALID_ARGUMENT", "", "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576)."), llm.KindContextLength},
			{"down", llmtest.GoogleError(503, "UNAVAILABLE", "", "The model is overloaded. Please try again later."), llm.KindUnavailable},
		},
	}
	for _, k := range kinds {
		for _, c := range cases[k.name] {
			t.Run(k.name+"/"+c.name, func(t *testing.T) {
				srv := llmtest.New(t, c.reply)
				_, err := k.open(t, srv).Stream(ctxT(t), llm.Request{Model: "m1", Messages: []llm.Message{{Role: llm.RoleUser, Text: "hi"}}}, nil)
				var le *llm.Error
				if !errors.As(err, &le) || le.Kind != c.want {
					t.Fatalf("err = %v, want kind %q", err, c.want)
				}
				if le.Provider != k.name || le.Status != c.reply.Status {
					t.Errorf("provider %q status %d, want %q %d", le.Provider, le.Status, k.name, c.reply.Status)
				}
			})
		}
		t.Run(k.name+"/unreachable", func(t *testing.T) {
			srv := llmtest.New(t)
			p := k.open(t, srv)
			srv.Close()
			_, err := p.Stream(ctxT(t), llm.Request{Model: "m1", Messages: []llm.Message{{Role: llm.RoleUser, Text: "hi"}}}, nil)
			if llm.KindOf(err) != llm.KindUnavailable {
				t.Fatalf("err = %v, want provider down", err)
			}
		})
	}
}

func TestModels(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			srv := llmtest.New(t)
			srv.SetModels("zeta", "alpha")
			got, err := k.open(t, srv).Models(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, []string{"alpha", "zeta"}) {
				t.Errorf("Models = %q", got)
			}
		})
	}
}

func TestErrorMessageSaysWhich(t *testing.T) {
	err := &llm.Error{Kind: llm.KindAuth, Provider: "groq", Status: http.StatusUnauthorized, Msg: "Invalid API Key"}
	want := "groq: bad key (the API key was rejected; check providers.groq.api_key; HTTP 401): Invalid API Key"
	if err.Error() != want {
		t.Errorf("Error() = %q\nwant %q", err.Error(), want)
	}
}

// TestStreamErrorMidway: an error event inside a 200 stream is classified too.
func TestStreamErrorMidway(t *testing.T) {
	errs := map[string]*llmtest.StreamError{
		"openai":    {Type: "server_error", Message: "The server had an error while processing your request."},
		"anthropic": {Type: "overloaded_error", Message: "Overloaded"},
		"google":    {Type: "UNAVAILABLE", Message: "The model is overloaded.", Code: 503},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			srv := llmtest.New(t, llmtest.Reply{Chunks: []string{"par", "tial"}, StreamError: errs[k.name]})
			_, err := k.open(t, srv).Stream(ctxT(t), llm.Request{Model: "m1", Messages: []llm.Message{{Role: llm.RoleUser, Text: "hi"}}}, nil)
			if llm.KindOf(err) != llm.KindUnavailable || !strings.Contains(err.Error(), errs[k.name].Message) {
				t.Fatalf("err = %v, want provider down with the provider's message", err)
			}
		})
	}
}

// TestImagesInUserMessage: a user message's images go after its text, in
// each provider's own format.
func TestImagesInUserMessage(t *testing.T) {
	data := []byte("\x89PNG\r\n\x1a\nnot really a picture, but bytes")
	b64 := base64.StdEncoding.EncodeToString(data)
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			srv := llmtest.New(t, llmtest.Text(5, 1, "a square"))
			msgs := []llm.Message{{Role: llm.RoleUser, Text: "what is this?", Images: []llm.Image{{MIME: "image/png", Data: data}}}}
			if _, err := k.open(t, srv).Stream(ctxT(t), llm.Request{Model: "m1", Messages: msgs}, nil); err != nil {
				t.Fatal(err)
			}
			var got any
			body := srv.Requests()[0].Body
			switch k.name {
			case "openai":
				got = body["messages"].([]any)[0].(map[string]any)["content"]
			case "anthropic":
				got = body["messages"].([]any)[0].(map[string]any)["content"]
			case "google":
				got = body["contents"].([]any)[0].(map[string]any)["parts"]
			}
			want := map[string]any{
				"openai": []any{
					map[string]any{"type": "text", "text": "what is this?"},
					map[string]any{"type": "image_url", "image_url": map[string]any{"url": "data:image/png;base64," + b64}},
				},
				"anthropic": []any{
					map[string]any{"type": "text", "text": "what is this?"},
					map[string]any{"type": "image", "source": map[string]any{"type": "base64", "media_type": "image/png", "data": b64}},
				},
				"google": []any{
					map[string]any{"text": "what is this?"},
					map[string]any{"inlineData": map[string]any{"mimeType": "image/png", "data": b64}},
				},
			}[k.name]
			if !reflect.DeepEqual(got, want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(want)
				t.Errorf("user content = %s\nwant %s", g, w)
			}
		})
	}
}
