// Package llm is the provider-neutral layer between the agent loop and the
// LLM providers: one conversation shape, one streaming call with tool calls,
// the usage each provider reports, and errors a user can act on. Each
// provider lives in its own subpackage and implements Provider.
package llm

import (
	"context"
	"encoding/json"
	"net/http"
	"unicode/utf8"
)

// Role says who wrote a message.
type Role string

// The roles of a conversation. The system prompt travels in Request.System.
const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleTool      Role = "tool"
)

// Message is one entry of the conversation.
type Message struct {
	Role Role
	// Text is the message text; for RoleTool, the tool's result.
	Text string
	// ToolCalls are the calls an assistant message made.
	ToolCalls []ToolCall
	// ToolCallID and ToolName identify the call a RoleTool message answers.
	ToolCallID string
	ToolName   string
	// IsError marks a RoleTool result that is an error.
	IsError bool
	// Images go with a RoleUser message, after its text.
	Images []Image
}

// Image is a picture the model is shown.
type Image struct {
	// MIME is image/png, image/jpeg, image/gif or image/webp.
	MIME string
	Data []byte
}

// ImageTokens is what an image is counted as when tokens are estimated:
// about what Anthropic and OpenAI charge for a picture of 1000×1000 pixels.
const ImageTokens = 1500

// ToolCall is one call the model asked for.
type ToolCall struct {
	ID   string          `json:"id"`
	Name string          `json:"name"`
	Args json.RawMessage `json:"args"`
	// Signature is provider-opaque state that must travel back with the call
	// (Gemini's thought signature).
	Signature []byte `json:"signature,omitempty"`
}

// ToolSpec is a tool offered to the model.
type ToolSpec struct {
	Name        string
	Description string
	// Schema is the JSON Schema of the arguments (an object schema).
	Schema json.RawMessage
}

// Request is one model call.
type Request struct {
	// Model is the provider's id for the model.
	Model    string
	System   string
	Messages []Message
	Tools    []ToolSpec
	// MaxTokens bounds the answer; 0 leaves it to the provider (Anthropic,
	// which requires a bound, gets DefaultMaxTokens). Reasoning models count
	// their thinking against it, so the agent leaves it at 0.
	MaxTokens int
}

// DefaultMaxTokens bounds an Anthropic answer when Request.MaxTokens is 0;
// every current Claude model accepts it.
const DefaultMaxTokens = 8192

// Usage is what a provider reported for one call.
type Usage struct {
	// InputTokens counts every prompt token, cached ones included.
	InputTokens int64
	// OutputTokens counts the answer's tokens.
	OutputTokens int64
	// CachedTokens is the part of InputTokens served from the provider's cache.
	CachedTokens int64
	// Reported is false when the provider sent no usage for the call.
	Reported bool
}

// Response is the outcome of one streamed call.
type Response struct {
	Text      string
	ToolCalls []ToolCall
	Usage     Usage
	// StopReason is the provider's own finish reason, for logs.
	StopReason string
}

// Provider streams model calls. Implementations must return promptly once
// ctx is cancelled, closing the HTTP stream.
type Provider interface {
	// Stream runs one call. onText, when not nil, receives text as it
	// arrives. Errors are *Error whenever the provider said what went wrong.
	Stream(ctx context.Context, req Request, onText func(string)) (Response, error)
	// Models lists the model ids the endpoint offers (GET /models).
	Models(ctx context.Context) ([]string, error)
}

// Config describes how to reach one provider.
type Config struct {
	// Name is the provider's entry name in openagent.yaml (openai, groq, …).
	Name string
	// APIKey may be empty for local servers.
	APIKey string
	// BaseURL overrides the SDK's default endpoint.
	BaseURL string
	// HTTPClient is optional; the SDK's default is used when nil.
	HTTPClient *http.Client
	// MaxRetries is how often the SDK retries rate limits and server errors.
	MaxRetries int
}

// EstimateTokens is a tokenizer-free token count: about four characters per
// token, which is the usual rule of thumb for English text and code.
func EstimateTokens(s string) int64 {
	n := utf8.RuneCountInString(s)
	if n == 0 {
		return 0
	}
	return int64((n + 3) / 4)
}

// EstimateRequest estimates the prompt tokens of req, tools included.
func EstimateRequest(req Request) int64 {
	n := EstimateTokens(req.System)
	for _, m := range req.Messages {
		n += EstimateMessage(m)
	}
	for _, t := range req.Tools {
		n += EstimateTokens(t.Name) + EstimateTokens(t.Description) + EstimateTokens(string(t.Schema))
	}
	return n
}

// EstimateMessage estimates one message's tokens, with a small per-message overhead.
func EstimateMessage(m Message) int64 {
	n := int64(4) + EstimateTokens(m.Text) + int64(len(m.Images))*ImageTokens
	for _, c := range m.ToolCalls {
		n += EstimateTokens(c.Name) + EstimateTokens(string(c.Args))
	}
	return n
}

// EstimateResponse estimates the output tokens of resp.
func EstimateResponse(resp Response) int64 {
	n := EstimateTokens(resp.Text)
	for _, c := range resp.ToolCalls {
		n += EstimateTokens(c.Name) + EstimateTokens(string(c.Args))
	}
	return n
}
