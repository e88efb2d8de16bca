// Package llmtest is a fake LLM provider for tests: one local HTTP server
// that speaks the real wire formats of OpenAI chat completions (SSE with
// tool-call deltas and stream_options.include_usage), Anthropic Messages
// (SSE with tool_use blocks and usage in message_delta) and Gemini
// streamGenerateContent (SSE), answering from a script of replies.
package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"openagent/internal/llm"
)

// Reply is one scripted answer.
type Reply struct {
	// Chunks is the answer text, one streamed delta per element.
	Chunks []string
	// ToolCalls are streamed after the text (OpenAI: arguments split in two deltas).
	ToolCalls []llm.ToolCall
	// Usage is reported when not nil.
	Usage *llm.Usage
	// Status, when not 0, answers with this HTTP status and ErrorBody instead.
	Status    int
	ErrorBody string
	// Hang streams the first chunk, then waits until the client goes away.
	Hang bool
	// StreamError, when set, is sent as the provider's in-stream error event
	// after the first chunk (type as the provider names it, e.g. overloaded_error).
	StreamError *StreamError
}

// StreamError is an error reported inside a 200 stream.
type StreamError struct {
	Type, Message string
	// Code is the HTTP-like code Gemini puts in the error.
	Code int
}

// Text is a reply of text chunks with usage reported.
func Text(in, out int64, chunks ...string) Reply {
	return Reply{Chunks: chunks, Usage: &llm.Usage{InputTokens: in, OutputTokens: out, Reported: true}}
}

// Request is what the server received.
type Request struct {
	Path string
	Body map[string]any
	Raw  []byte
	// Header holds the request headers (API keys).
	Header http.Header
}

// Server is the fake provider.
type Server struct {
	*httptest.Server

	mu       sync.Mutex // guards the fields below
	replies  []Reply
	fallback *Reply
	requests []Request
	models   []string

	// Closed receives one value each time a Hang reply sees its client go away.
	Closed chan struct{}
}

// New starts a server that answers with replies in order.
func New(t testing.TB, replies ...Reply) *Server {
	t.Helper()
	s := &Server{replies: replies, Closed: make(chan struct{}, 16), models: []string{"model-a", "model-b"}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Push queues more replies.
func (s *Server) Push(r ...Reply) {
	s.mu.Lock()
	s.replies = append(s.replies, r...)
	s.mu.Unlock()
}

// Always answers every request with r once the queue is empty.
func (s *Server) Always(r Reply) {
	s.mu.Lock()
	s.fallback = &r
	s.mu.Unlock()
}

// SetModels sets the list served on GET …/models.
func (s *Server) SetModels(ids ...string) {
	s.mu.Lock()
	s.models = ids
	s.mu.Unlock()
}

// Requests returns the model calls received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// OpenAIBaseURL, AnthropicBaseURL and GoogleBaseURL are the base_url values to configure.
func (s *Server) OpenAIBaseURL() string    { return s.URL + "/v1" }
func (s *Server) AnthropicBaseURL() string { return s.URL }
func (s *Server) GoogleBaseURL() string    { return s.URL }

func (s *Server) next() (Reply, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.replies) > 0 {
		r := s.replies[0]
		s.replies = s.replies[1:]
		return r, true
	}
	if s.fallback != nil {
		return *s.fallback, true
	}
	return Reply{}, false
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && (strings.HasSuffix(r.URL.Path, "/models")) {
		s.serveModels(w, r)
		return
	}
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	s.mu.Lock()
	s.requests = append(s.requests, Request{Path: r.URL.Path, Body: body, Raw: raw, Header: r.Header.Clone()})
	s.mu.Unlock()

	rep, ok := s.next()
	if !ok {
		http.Error(w, `{"error":{"message":"llmtest: no scripted reply left","type":"server_error"}}`, http.StatusInternalServerError)
		return
	}
	if rep.Status != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rep.Status)
		io.WriteString(w, rep.ErrorBody)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	var sse func(w http.ResponseWriter, r *http.Request, rep Reply)
	switch {
	case strings.HasSuffix(r.URL.Path, "/chat/completions"):
		sse = s.openAI
	case strings.HasSuffix(r.URL.Path, "/messages"):
		sse = s.anthropic
	case strings.Contains(r.URL.Path, ":streamGenerateContent"):
		sse = s.gemini
	default:
		fmt.Fprintf(w, "data: {\"error\":\"llmtest: unknown path %s\"}\n\n", r.URL.Path)
		return
	}
	sse(w, r, rep)
}

// hang waits for the client to close the connection and reports it.
func (s *Server) hang(w http.ResponseWriter, r *http.Request) {
	w.(http.Flusher).Flush()
	<-r.Context().Done()
	s.Closed <- struct{}{}
}

func event(w http.ResponseWriter, name string, v any) {
	b, _ := json.Marshal(v)
	if name != "" {
		fmt.Fprintf(w, "event: %s\n", name)
	}
	fmt.Fprintf(w, "data: %s\n\n", b)
	w.(http.Flusher).Flush()
}

type obj = map[string]any

func (s *Server) openAI(w http.ResponseWriter, r *http.Request, rep Reply) {
	chunk := func(delta obj, finish any) obj {
		c := obj{"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "fake",
			"choices": []obj{{"index": 0, "delta": delta, "finish_reason": finish}}}
		if rep.Usage != nil {
			c["usage"] = nil // as OpenAI does on every chunk but the last with include_usage
		}
		return c
	}
	event(w, "", chunk(obj{"role": "assistant", "content": ""}, nil))
	for i, c := range rep.Chunks {
		event(w, "", chunk(obj{"content": c}, nil))
		if i == 0 && rep.StreamError != nil {
			event(w, "", obj{"error": obj{"message": rep.StreamError.Message, "type": rep.StreamError.Type, "code": nil}})
			return
		}
		if i == 0 && rep.Hang {
			s.hang(w, r)
			return
		}
	}
	for i, c := range rep.ToolCalls {
		args := string(c.Args)
		half := len(args) / 2
		event(w, "", chunk(obj{"tool_calls": []obj{{"index": i, "id": c.ID, "type": "function", "function": obj{"name": c.Name, "arguments": args[:half]}}}}, nil))
		event(w, "", chunk(obj{"tool_calls": []obj{{"index": i, "function": obj{"arguments": args[half:]}}}}, nil))
	}
	finish := "stop"
	if len(rep.ToolCalls) > 0 {
		finish = "tool_calls"
	}
	event(w, "", chunk(obj{}, finish))
	if rep.Usage != nil {
		event(w, "", obj{"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "fake", "choices": []obj{},
			"usage": obj{"prompt_tokens": rep.Usage.InputTokens, "completion_tokens": rep.Usage.OutputTokens,
				"total_tokens":          rep.Usage.InputTokens + rep.Usage.OutputTokens,
				"prompt_tokens_details": obj{"cached_tokens": rep.Usage.CachedTokens}}})
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
}

func (s *Server) anthropic(w http.ResponseWriter, r *http.Request, rep Reply) {
	msg := obj{"id": "msg_1", "type": "message", "role": "assistant", "model": "fake", "content": []obj{}, "stop_reason": nil, "stop_sequence": nil}
	if rep.Usage != nil {
		// Anthropic reports cache reads apart from input_tokens.
		msg["usage"] = obj{"input_tokens": rep.Usage.InputTokens - rep.Usage.CachedTokens, "cache_read_input_tokens": rep.Usage.CachedTokens,
			"cache_creation_input_tokens": 0, "output_tokens": 1}
	}
	event(w, "message_start", obj{"type": "message_start", "message": msg})
	idx := 0
	if len(rep.Chunks) > 0 {
		event(w, "content_block_start", obj{"type": "content_block_start", "index": 0, "content_block": obj{"type": "text", "text": ""}})
		for i, c := range rep.Chunks {
			event(w, "content_block_delta", obj{"type": "content_block_delta", "index": 0, "delta": obj{"type": "text_delta", "text": c}})
			if i == 0 && rep.StreamError != nil {
				event(w, "error", obj{"type": "error", "error": obj{"type": rep.StreamError.Type, "message": rep.StreamError.Message}})
				return
			}
			if i == 0 && rep.Hang {
				s.hang(w, r)
				return
			}
		}
		event(w, "content_block_stop", obj{"type": "content_block_stop", "index": 0})
		idx++
	}
	for _, c := range rep.ToolCalls {
		event(w, "content_block_start", obj{"type": "content_block_start", "index": idx, "content_block": obj{"type": "tool_use", "id": c.ID, "name": c.Name, "input": obj{}}})
		args := string(c.Args)
		half := len(args) / 2
		event(w, "content_block_delta", obj{"type": "content_block_delta", "index": idx, "delta": obj{"type": "input_json_delta", "partial_json": args[:half]}})
		event(w, "content_block_delta", obj{"type": "content_block_delta", "index": idx, "delta": obj{"type": "input_json_delta", "partial_json": args[half:]}})
		event(w, "content_block_stop", obj{"type": "content_block_stop", "index": idx})
		idx++
	}
	stop := "end_turn"
	if len(rep.ToolCalls) > 0 {
		stop = "tool_use"
	}
	delta := obj{"type": "message_delta", "delta": obj{"stop_reason": stop, "stop_sequence": nil}}
	if rep.Usage != nil {
		delta["usage"] = obj{"output_tokens": rep.Usage.OutputTokens}
	}
	event(w, "message_delta", delta)
	event(w, "message_stop", obj{"type": "message_stop"})
}

func (s *Server) gemini(w http.ResponseWriter, r *http.Request, rep Reply) {
	for i, c := range rep.Chunks {
		event(w, "", obj{"candidates": []obj{{"content": obj{"role": "model", "parts": []obj{{"text": c}}}, "index": 0}}, "modelVersion": "fake"})
		if i == 0 && rep.StreamError != nil {
			event(w, "", obj{"error": obj{"code": rep.StreamError.Code, "message": rep.StreamError.Message, "status": rep.StreamError.Type}})
			return
		}
		if i == 0 && rep.Hang {
			s.hang(w, r)
			return
		}
	}
	var parts []obj
	for _, c := range rep.ToolCalls {
		var args any
		_ = json.Unmarshal(c.Args, &args)
		parts = append(parts, obj{"functionCall": obj{"id": c.ID, "name": c.Name, "args": args}})
	}
	last := obj{"candidates": []obj{{"content": obj{"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}}, "modelVersion": "fake"}
	if parts == nil {
		last["candidates"] = []obj{{"content": obj{"role": "model", "parts": []obj{{"text": ""}}}, "finishReason": "STOP", "index": 0}}
	}
	if rep.Usage != nil {
		last["usageMetadata"] = obj{"promptTokenCount": rep.Usage.InputTokens, "candidatesTokenCount": rep.Usage.OutputTokens,
			"cachedContentTokenCount": rep.Usage.CachedTokens, "totalTokenCount": rep.Usage.InputTokens + rep.Usage.OutputTokens}
	}
	event(w, "", last)
}

func (s *Server) serveModels(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ids := append([]string(nil), s.models...)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case strings.HasPrefix(r.URL.Path, "/v1beta/"):
		var ms []obj
		for _, id := range ids {
			ms = append(ms, obj{"name": "models/" + id, "displayName": id})
		}
		json.NewEncoder(w).Encode(obj{"models": ms})
	case r.Header.Get("anthropic-version") != "":
		var ms []obj
		for _, id := range ids {
			ms = append(ms, obj{"id": id, "type": "model", "display_name": id, "created_at": "2025-01-01T00:00:00Z"})
		}
		json.NewEncoder(w).Encode(obj{"data": ms, "has_more": false, "first_id": ids[0], "last_id": ids[len(ids)-1]})
	default:
		var ms []obj
		for _, id := range ids {
			ms = append(ms, obj{"id": id, "object": "model", "created": 0, "owned_by": "llmtest"})
		}
		json.NewEncoder(w).Encode(obj{"object": "list", "data": ms})
	}
}

// Error bodies in each provider's format.
func OpenAIError(status int, typ, code, msg string) Reply {
	b, _ := json.Marshal(obj{"error": obj{"message": msg, "type": typ, "code": code, "param": nil}})
	return Reply{Status: status, ErrorBody: string(b)}
}

func AnthropicError(status int, typ, msg string) Reply {
	b, _ := json.Marshal(obj{"type": "error", "error": obj{"type": typ, "message": msg}})
	return Reply{Status: status, ErrorBody: string(b)}
}

func GoogleError(status int, st, reason, msg string) Reply {
	e := obj{"code": status, "message": msg, "status": st}
	if reason != "" {
		e["details"] = []obj{{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason}}
	}
	b, _ := json.Marshal(obj{"error": e})
	return Reply{Status: status, ErrorBody: string(b)}
}
