// Package openai is the llm.Provider for OpenAI and every OpenAI-compatible
// server (OpenRouter, Groq, DeepSeek, Mistral, xAI, Cerebras, Ollama, LM
// Studio, vLLM), built on the official SDK github.com/openai/openai-go/v3.
package openai

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/shared"

	"openagent/internal/llm"
)

// DefaultBaseURL is OpenAI's own endpoint.
const DefaultBaseURL = "https://api.openai.com/v1/"

// Provider talks to one OpenAI-compatible endpoint.
type Provider struct {
	name   string
	client sdk.Client
}

var _ llm.Provider = (*Provider)(nil)

// New builds a Provider. An empty BaseURL means OpenAI itself.
func New(cfg llm.Config) *Provider {
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	// The key and base URL are always set so that OPENAI_API_KEY from the
	// environment never reaches another provider's server.
	opts := []option.RequestOption{
		option.WithAPIKey(cfg.APIKey),
		option.WithBaseURL(base),
		option.WithMaxRetries(cfg.MaxRetries),
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, option.WithHTTPClient(cfg.HTTPClient))
	}
	return &Provider{name: cfg.Name, client: sdk.NewClient(opts...)}
}

// Stream runs one chat completion with stream_options.include_usage.
func (p *Provider) Stream(ctx context.Context, req llm.Request, onText func(string)) (llm.Response, error) {
	params := sdk.ChatCompletionNewParams{
		Model:         req.Model,
		Messages:      messages(req),
		StreamOptions: sdk.ChatCompletionStreamOptionsParam{IncludeUsage: sdk.Bool(true)},
	}
	if req.MaxTokens > 0 {
		params.MaxCompletionTokens = sdk.Int(int64(req.MaxTokens))
	}
	for _, t := range req.Tools {
		var schema map[string]any
		if len(t.Schema) > 0 {
			if err := json.Unmarshal(t.Schema, &schema); err != nil {
				return llm.Response{}, fmt.Errorf("decode schema of tool %s: %w", t.Name, err)
			}
		}
		if schema == nil {
			schema = map[string]any{"type": "object", "properties": map[string]any{}}
		}
		fd := shared.FunctionDefinitionParam{Name: t.Name, Parameters: schema}
		if t.Description != "" {
			fd.Description = sdk.String(t.Description)
		}
		params.Tools = append(params.Tools, sdk.ChatCompletionFunctionTool(fd))
	}

	stream := p.client.Chat.Completions.NewStreaming(ctx, params)
	defer stream.Close()

	var (
		resp  llm.Response
		text  strings.Builder
		calls = map[int64]*llm.ToolCall{}
		args  = map[int64]*strings.Builder{}
	)
	for stream.Next() {
		chunk := stream.Current()
		if chunk.JSON.Usage.Valid() && chunk.Usage.JSON.PromptTokens.Valid() {
			resp.Usage = llm.Usage{
				InputTokens:  chunk.Usage.PromptTokens,
				OutputTokens: chunk.Usage.CompletionTokens,
				CachedTokens: chunk.Usage.PromptTokensDetails.CachedTokens,
				Reported:     true,
			}
		}
		for _, ch := range chunk.Choices {
			if ch.Index != 0 {
				continue
			}
			if c := ch.Delta.Content; c != "" {
				text.WriteString(c)
				if onText != nil {
					onText(c)
				}
			}
			for _, tc := range ch.Delta.ToolCalls {
				call := calls[tc.Index]
				if call == nil {
					call = &llm.ToolCall{}
					calls[tc.Index] = call
					args[tc.Index] = &strings.Builder{}
				}
				if tc.ID != "" {
					call.ID = tc.ID
				}
				if tc.Function.Name != "" {
					call.Name += tc.Function.Name
				}
				args[tc.Index].WriteString(tc.Function.Arguments)
			}
			if ch.FinishReason != "" {
				resp.StopReason = ch.FinishReason
			}
		}
	}
	if err := stream.Err(); err != nil {
		return llm.Response{}, classify(p.name, err)
	}
	resp.Text = text.String()
	idx := make([]int64, 0, len(calls))
	for i := range calls {
		idx = append(idx, i)
	}
	sort.Slice(idx, func(a, b int) bool { return idx[a] < idx[b] })
	for _, i := range idx {
		c := *calls[i]
		c.Args = normArgs(args[i].String())
		resp.ToolCalls = append(resp.ToolCalls, c)
	}
	return resp, nil
}

// Models lists the endpoint's models (GET /models).
func (p *Provider) Models(ctx context.Context) ([]string, error) {
	page, err := p.client.Models.List(ctx)
	if err != nil {
		return nil, classify(p.name, err)
	}
	var out []string
	for _, m := range page.Data {
		out = append(out, m.ID)
	}
	sort.Strings(out)
	return out, nil
}

func messages(req llm.Request) []sdk.ChatCompletionMessageParamUnion {
	var out []sdk.ChatCompletionMessageParamUnion
	if req.System != "" {
		out = append(out, sdk.SystemMessage(req.System))
	}
	for _, m := range req.Messages {
		switch m.Role {
		case llm.RoleUser:
			if len(m.Images) == 0 {
				out = append(out, sdk.UserMessage(m.Text))
				continue
			}
			parts := []sdk.ChatCompletionContentPartUnionParam{sdk.TextContentPart(m.Text)}
			for _, img := range m.Images {
				parts = append(parts, sdk.ImageContentPart(sdk.ChatCompletionContentPartImageImageURLParam{
					URL: "data:" + img.MIME + ";base64," + base64.StdEncoding.EncodeToString(img.Data),
				}))
			}
			out = append(out, sdk.UserMessage(parts))
		case llm.RoleTool:
			out = append(out, sdk.ToolMessage(m.Text, m.ToolCallID))
		case llm.RoleAssistant:
			a := sdk.ChatCompletionAssistantMessageParam{}
			if m.Text != "" || len(m.ToolCalls) == 0 {
				a.Content.OfString = sdk.String(m.Text)
			}
			for _, c := range m.ToolCalls {
				a.ToolCalls = append(a.ToolCalls, sdk.ChatCompletionMessageToolCallUnionParam{
					OfFunction: &sdk.ChatCompletionMessageFunctionToolCallParam{
						ID: c.ID,
						Function: sdk.ChatCompletionMessageFunctionToolCallFunctionParam{
							Name:      c.Name,
							Arguments: string(normArgs(string(c.Args))),
						},
					},
				})
			}
			out = append(out, sdk.ChatCompletionMessageParamUnion{OfAssistant: &a})
		}
	}
	return out
}

// normArgs turns streamed argument text into a JSON object ({} when empty).
func normArgs(s string) json.RawMessage {
	s = strings.TrimSpace(s)
	if s == "" || !json.Valid([]byte(s)) {
		return json.RawMessage("{}")
	}
	return json.RawMessage(s)
}

func classify(name string, err error) error {
	var apiErr *sdk.Error
	if errors.As(err, &apiErr) {
		code := apiErr.Code
		if code == "" {
			code = apiErr.Type
		}
		msg := apiErr.Message
		if msg == "" {
			msg = strings.TrimSpace(apiErr.RawJSON())
		}
		return llm.Classify(name, apiErr.StatusCode, code, msg, err)
	}
	var se *ssestream.StreamError
	if errors.As(err, &se) {
		var body struct {
			Error struct {
				Message string `json:"message"`
				Type    string `json:"type"`
				Code    any    `json:"code"`
			} `json:"error"`
		}
		_ = json.Unmarshal(se.Event.Data, &body)
		code := body.Error.Type
		if c, ok := body.Error.Code.(string); ok && c != "" {
			code += " " + c
		}
		return llm.Classify(name, 0, code, body.Error.Message, err)
	}
	return llm.Classify(name, 0, "", "", err)
}
