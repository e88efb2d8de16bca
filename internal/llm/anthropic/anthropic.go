// Package anthropic is the llm.Provider for Anthropic's Messages API, built
// on the official SDK github.com/anthropics/anthropic-sdk-go.
package anthropic

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	sdk "github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"

	"openagent/internal/llm"
)

// Provider talks to the Anthropic API (or a compatible endpoint).
type Provider struct {
	name   string
	client sdk.Client
}

var _ llm.Provider = (*Provider)(nil)

// New builds a Provider. ANTHROPIC_* environment variables are ignored: the
// settings file is the only source.
func New(cfg llm.Config) *Provider {
	opts := []option.RequestOption{
		option.WithoutEnvironmentDefaults(),
		option.WithAPIKey(cfg.APIKey),
		option.WithMaxRetries(cfg.MaxRetries),
	}
	if cfg.BaseURL != "" {
		opts = append(opts, option.WithBaseURL(cfg.BaseURL))
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, option.WithHTTPClient(cfg.HTTPClient))
	}
	return &Provider{name: cfg.Name, client: sdk.NewClient(opts...)}
}

// Stream runs one Messages call with streaming.
func (p *Provider) Stream(ctx context.Context, req llm.Request, onText func(string)) (llm.Response, error) {
	maxTokens := req.MaxTokens
	if maxTokens <= 0 {
		maxTokens = llm.DefaultMaxTokens
	}
	msgs, err := messages(req.Messages)
	if err != nil {
		return llm.Response{}, err
	}
	params := sdk.MessageNewParams{
		Model:     req.Model,
		MaxTokens: int64(maxTokens),
		Messages:  msgs,
	}
	if req.System != "" {
		params.System = []sdk.TextBlockParam{{Text: req.System}}
	}
	for _, t := range req.Tools {
		schema := sdk.ToolInputSchemaParam{}
		if len(t.Schema) > 0 {
			var m map[string]any
			if err := json.Unmarshal(t.Schema, &m); err != nil {
				return llm.Response{}, fmt.Errorf("decode schema of tool %s: %w", t.Name, err)
			}
			schema.Properties = m["properties"]
			if req, ok := m["required"].([]any); ok {
				for _, r := range req {
					if s, ok := r.(string); ok {
						schema.Required = append(schema.Required, s)
					}
				}
			}
			extra := map[string]any{}
			for k, v := range m {
				if k != "properties" && k != "required" && k != "type" {
					extra[k] = v
				}
			}
			if len(extra) > 0 {
				schema.ExtraFields = extra
			}
		}
		tp := sdk.ToolParam{Name: t.Name, InputSchema: schema}
		if t.Description != "" {
			tp.Description = sdk.String(t.Description)
		}
		params.Tools = append(params.Tools, sdk.ToolUnionParam{OfTool: &tp})
	}

	stream := p.client.Messages.NewStreaming(ctx, params)
	defer stream.Close()
	var (
		msg      sdk.Message
		reported bool
	)
	for stream.Next() {
		ev := stream.Current()
		if err := msg.Accumulate(ev); err != nil {
			return llm.Response{}, fmt.Errorf("read %s stream: %w", p.name, err)
		}
		switch ev.Type {
		case "message_start":
			reported = reported || ev.Message.JSON.Usage.Valid()
		case "message_delta":
			reported = reported || ev.JSON.Usage.Valid()
		case "content_block_delta":
			if ev.Delta.Type == "text_delta" && ev.Delta.Text != "" && onText != nil {
				onText(ev.Delta.Text)
			}
		}
	}
	if err := stream.Err(); err != nil {
		return llm.Response{}, classify(p.name, err)
	}
	resp := llm.Response{StopReason: string(msg.StopReason)}
	var text strings.Builder
	for _, b := range msg.Content {
		switch b.Type {
		case "text":
			text.WriteString(b.Text)
		case "tool_use":
			args := b.Input
			if len(args) == 0 || !json.Valid(args) {
				args = json.RawMessage("{}")
			}
			resp.ToolCalls = append(resp.ToolCalls, llm.ToolCall{ID: b.ID, Name: b.Name, Args: args})
		}
	}
	resp.Text = text.String()
	if reported {
		u := msg.Usage
		// Anthropic counts cache reads and writes apart from input_tokens.
		resp.Usage = llm.Usage{
			InputTokens:  u.InputTokens + u.CacheReadInputTokens + u.CacheCreationInputTokens,
			OutputTokens: u.OutputTokens,
			CachedTokens: u.CacheReadInputTokens,
			Reported:     true,
		}
	}
	return resp, nil
}

// Models lists the models the key can use.
func (p *Provider) Models(ctx context.Context) ([]string, error) {
	page, err := p.client.Models.List(ctx, sdk.ModelListParams{Limit: sdk.Int(1000)})
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

// messages converts the conversation; consecutive tool results become one
// user message, as the API expects.
func messages(in []llm.Message) ([]sdk.MessageParam, error) {
	var out []sdk.MessageParam
	for _, m := range in {
		switch m.Role {
		case llm.RoleUser:
			blocks := []sdk.ContentBlockParamUnion{sdk.NewTextBlock(m.Text)}
			for _, img := range m.Images {
				blocks = append(blocks, sdk.NewImageBlockBase64(img.MIME, base64.StdEncoding.EncodeToString(img.Data)))
			}
			out = append(out, sdk.NewUserMessage(blocks...))
		case llm.RoleAssistant:
			var blocks []sdk.ContentBlockParamUnion
			if m.Text != "" {
				blocks = append(blocks, sdk.NewTextBlock(m.Text))
			}
			for _, c := range m.ToolCalls {
				var input any = map[string]any{}
				if len(c.Args) > 0 {
					if err := json.Unmarshal(c.Args, &input); err != nil {
						input = map[string]any{}
					}
				}
				blocks = append(blocks, sdk.NewToolUseBlock(c.ID, input, c.Name))
			}
			if len(blocks) == 0 {
				blocks = append(blocks, sdk.NewTextBlock("(no answer)"))
			}
			out = append(out, sdk.NewAssistantMessage(blocks...))
		case llm.RoleTool:
			block := sdk.NewToolResultBlock(m.ToolCallID, m.Text, m.IsError)
			if n := len(out); n > 0 && out[n-1].Role == sdk.MessageParamRoleUser && isToolResults(out[n-1]) {
				out[n-1].Content = append(out[n-1].Content, block)
				continue
			}
			out = append(out, sdk.NewUserMessage(block))
		}
	}
	return out, nil
}

func isToolResults(m sdk.MessageParam) bool {
	for _, b := range m.Content {
		if b.OfToolResult == nil {
			return false
		}
	}
	return len(m.Content) > 0
}

func classify(name string, err error) error {
	var apiErr *sdk.Error
	if errors.As(err, &apiErr) {
		var body struct {
			Error struct {
				Type    string `json:"type"`
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.Unmarshal([]byte(apiErr.RawJSON()), &body)
		code := body.Error.Type
		if code == "" {
			code = string(apiErr.Type())
		}
		return llm.Classify(name, apiErr.StatusCode, code, body.Error.Message, err)
	}
	return llm.Classify(name, 0, "", "", err)
}
