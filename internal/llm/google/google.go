// Package google is the llm.Provider for the Gemini API, built on the
// official SDK google.golang.org/genai.
package google

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"google.golang.org/genai"

	"openagent/internal/llm"
)

// Provider talks to the Gemini API.
type Provider struct {
	name   string
	client *genai.Client
}

var _ llm.Provider = (*Provider)(nil)

// New builds a Provider for the Gemini API backend.
func New(ctx context.Context, cfg llm.Config) (*Provider, error) {
	cc := &genai.ClientConfig{APIKey: cfg.APIKey, Backend: genai.BackendGeminiAPI, HTTPClient: cfg.HTTPClient}
	if cfg.BaseURL != "" {
		cc.HTTPOptions.BaseURL = cfg.BaseURL
	}
	if cfg.MaxRetries > 0 {
		n := int32(cfg.MaxRetries + 1)
		cc.HTTPOptions.RetryOptions = &genai.HTTPRetryOptions{Attempts: &n}
	}
	c, err := genai.NewClient(ctx, cc)
	if err != nil {
		return nil, fmt.Errorf("create %s client: %w", cfg.Name, err)
	}
	return &Provider{name: cfg.Name, client: c}, nil
}

// Stream runs one streamGenerateContent call.
func (p *Provider) Stream(ctx context.Context, req llm.Request, onText func(string)) (llm.Response, error) {
	conf := &genai.GenerateContentConfig{}
	if req.MaxTokens > 0 {
		conf.MaxOutputTokens = int32(req.MaxTokens)
	}
	if req.System != "" {
		conf.SystemInstruction = genai.NewContentFromText(req.System, genai.RoleUser)
	}
	if len(req.Tools) > 0 {
		t := &genai.Tool{}
		for _, spec := range req.Tools {
			fd := &genai.FunctionDeclaration{Name: spec.Name, Description: spec.Description}
			if len(spec.Schema) > 0 {
				var schema map[string]any
				if err := json.Unmarshal(spec.Schema, &schema); err != nil {
					return llm.Response{}, fmt.Errorf("decode schema of tool %s: %w", spec.Name, err)
				}
				delete(schema, "$schema") // a meta-schema reference is not part of the tool's schema
				fd.ParametersJsonSchema = schema
			}
			t.FunctionDeclarations = append(t.FunctionDeclarations, fd)
		}
		conf.Tools = []*genai.Tool{t}
	}

	var (
		resp llm.Response
		text strings.Builder
	)
	for chunk, err := range p.client.Models.GenerateContentStream(ctx, req.Model, contents(req.Messages), conf) {
		if err != nil {
			return llm.Response{}, classify(p.name, err)
		}
		if u := chunk.UsageMetadata; u != nil {
			resp.Usage = llm.Usage{
				InputTokens:  int64(u.PromptTokenCount) + int64(u.ToolUsePromptTokenCount),
				OutputTokens: int64(u.CandidatesTokenCount) + int64(u.ThoughtsTokenCount),
				CachedTokens: int64(u.CachedContentTokenCount),
				Reported:     true,
			}
		}
		if len(chunk.Candidates) == 0 || chunk.Candidates[0].Content == nil {
			continue
		}
		cand := chunk.Candidates[0]
		if cand.FinishReason != "" {
			resp.StopReason = string(cand.FinishReason)
		}
		for _, part := range cand.Content.Parts {
			switch {
			case part.FunctionCall != nil:
				args, _ := json.Marshal(part.FunctionCall.Args)
				if part.FunctionCall.Args == nil {
					args = []byte("{}")
				}
				id := part.FunctionCall.ID
				if id == "" {
					id = fmt.Sprintf("%s%d", localIDPrefix, len(resp.ToolCalls)+1)
				}
				resp.ToolCalls = append(resp.ToolCalls, llm.ToolCall{ID: id, Name: part.FunctionCall.Name, Args: args, Signature: part.ThoughtSignature})
			case part.Text != "" && !part.Thought:
				text.WriteString(part.Text)
				if onText != nil {
					onText(part.Text)
				}
			}
		}
	}
	resp.Text = text.String()
	return resp, nil
}

// Models lists the models that can generate content.
func (p *Provider) Models(ctx context.Context) ([]string, error) {
	page, err := p.client.Models.List(ctx, &genai.ListModelsConfig{PageSize: 1000})
	if err != nil {
		return nil, classify(p.name, err)
	}
	var out []string
	for _, m := range page.Items {
		out = append(out, strings.TrimPrefix(m.Name, "models/"))
	}
	sort.Strings(out)
	return out, nil
}

// contents converts the conversation; consecutive tool results become one
// user turn of function responses.
func contents(in []llm.Message) []*genai.Content {
	var out []*genai.Content
	for _, m := range in {
		switch m.Role {
		case llm.RoleUser:
			parts := []*genai.Part{genai.NewPartFromText(m.Text)}
			for _, img := range m.Images {
				parts = append(parts, genai.NewPartFromBytes(img.Data, img.MIME))
			}
			out = append(out, genai.NewContentFromParts(parts, genai.RoleUser))
		case llm.RoleAssistant:
			var parts []*genai.Part
			if m.Text != "" {
				parts = append(parts, genai.NewPartFromText(m.Text))
			}
			for _, c := range m.ToolCalls {
				var args map[string]any
				_ = json.Unmarshal(c.Args, &args)
				part := genai.NewPartFromFunctionCall(c.Name, args)
				part.FunctionCall.ID = apiID(c.ID)
				part.ThoughtSignature = c.Signature
				parts = append(parts, part)
			}
			if len(parts) == 0 {
				parts = append(parts, genai.NewPartFromText("(no answer)"))
			}
			out = append(out, genai.NewContentFromParts(parts, genai.RoleModel))
		case llm.RoleTool:
			key := "result"
			if m.IsError {
				key = "error"
			}
			part := genai.NewPartFromFunctionResponse(m.ToolName, map[string]any{key: m.Text})
			part.FunctionResponse.ID = apiID(m.ToolCallID)
			if n := len(out); n > 0 && out[n-1].Role == genai.RoleUser && allResponses(out[n-1]) {
				out[n-1].Parts = append(out[n-1].Parts, part)
				continue
			}
			out = append(out, genai.NewContentFromParts([]*genai.Part{part}, genai.RoleUser))
		}
	}
	return out
}

// localIDPrefix marks call ids made up here because Gemini sent none; they
// are not sent back.
const localIDPrefix = "gemini-call-"

func apiID(id string) string {
	if strings.HasPrefix(id, localIDPrefix) {
		return ""
	}
	return id
}

func allResponses(c *genai.Content) bool {
	for _, p := range c.Parts {
		if p.FunctionResponse == nil {
			return false
		}
	}
	return len(c.Parts) > 0
}

func classify(name string, err error) error {
	var apiErr genai.APIError
	if errors.As(err, &apiErr) {
		return llm.Classify(name, apiErr.Code, apiErr.Status+" "+reasons(apiErr), apiErr.Message, err)
	}
	var apiErrP *genai.APIError
	if errors.As(err, &apiErrP) {
		return llm.Classify(name, apiErrP.Code, apiErrP.Status+" "+reasons(*apiErrP), apiErrP.Message, err)
	}
	return llm.Classify(name, 0, "", "", err)
}

// reasons pulls ErrorInfo reasons (such as API_KEY_INVALID) out of the details.
func reasons(e genai.APIError) string {
	var rs []string
	for _, d := range e.Details {
		if r, ok := d["reason"].(string); ok {
			rs = append(rs, r)
		}
	}
	return strings.Join(rs, " ")
}
