// Package agent runs conversation turns: it builds the prompt and history,
// streams the model, runs tool calls through a Tools registry and records usage.
package agent

import (
	"context"
	"encoding/json"
	"errors"
)

// ErrNoModel is returned for a turn when no model is configured.
var ErrNoModel = errors.New("No model is configured: add a provider in Settings → Models or in openagent.yaml")

// Turn is one user message to answer.
type Turn struct {
	// ClientID is the queue owner: a ws-… id, or bridge:<name> for bridges.
	ClientID string
	// SessionID keys the conversation history (global, not per client).
	SessionID string
	// Channel is websocket, telegram, discord, whatsapp or scheduler; it selects
	// the per-channel model override (channels.<name>.model).
	Channel string
	// Text is the user's message, already trimmed and non-empty.
	Text string
}

// Reply is the agent's final answer to a turn.
type Reply struct {
	// Text may hold [IMAGE:…]/[FILE:…]/[VOICE:…]/[VIDEO:…] markers; the gateway
	// turns them into attachments.
	Text string
	// Model is the runtime id of the model that answered, "<provider>:<model_id>".
	Model string
}

// Tool is one tool offered to the model.
type Tool struct {
	// Name is unique across the registry; MCP tools are "<server>__<tool>".
	Name        string
	Description string
	// InputSchema is the tool's JSON Schema for its arguments.
	InputSchema json.RawMessage
}

// Tools is the registry the agent loop runs tool calls through. The MCP pool
// implements it; tests use a small in-memory registry.
type Tools interface {
	// List returns the tools currently available.
	List(ctx context.Context) []Tool
	// Call runs one tool with JSON arguments and returns its text result. It
	// must return promptly when ctx is cancelled.
	Call(ctx context.Context, name string, args json.RawMessage) (string, error)
}
