package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"openagent/internal/vault"
)

// Vault is the vault builtin: the agent's long-term memory (an
// Obsidian-compatible folder of Markdown notes), through internal/vault.
func Vault(v *vault.Vault) Builtin {
	return Builtin{Name: "vault", Enabled: true, Server: func() *sdk.Server { return vaultServer(v) }}
}

type vaultSearchIn struct {
	Query string `json:"query" jsonschema:"words to look for in note titles, paths and text"`
	Tag   string `json:"tag,omitempty" jsonschema:"only notes with this tag (or a tag nested below it)"`
	Limit int    `json:"limit,omitempty" jsonschema:"at most this many results (default 20)"`
}

type vaultPathIn struct {
	Path string `json:"path" jsonschema:"the note's path in the vault, e.g. projects/alpha.md"`
}

type vaultWriteIn struct {
	Path    string `json:"path" jsonschema:"the note's path in the vault, ending in .md"`
	Content string `json:"content" jsonschema:"the whole Markdown text of the note (frontmatter included, if any)"`
}

type vaultAppendIn struct {
	Path string `json:"path" jsonschema:"the note's path in the vault, ending in .md"`
	Text string `json:"text" jsonschema:"Markdown to add on a new line at the end"`
}

type vaultListIn struct {
	Folder string `json:"folder,omitempty" jsonschema:"a folder of the vault; empty for all notes"`
}

// vaultHit is one search result as the model sees it.
type vaultHit struct {
	Path    string   `json:"path"`
	Title   string   `json:"title"`
	Tags    []string `json:"tags"`
	Snippet string   `json:"snippet"`
}

type vaultItem struct {
	Path     string   `json:"path"`
	Title    string   `json:"title"`
	Tags     []string `json:"tags"`
	Modified string   `json:"modified"`
}

func jsonResult(v any) (*sdk.CallToolResult, any, error) {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return nil, nil, err
	}
	return textResult(string(b)), nil, nil
}

// plainSnippet drops the <mark> tags of a search snippet.
func plainSnippet(s string) string {
	return strings.NewReplacer("<mark>", "", "</mark>", "", "&lt;", "<", "&gt;", ">", "&amp;", "&", "&#34;", `"`, "&#39;", "'").Replace(s)
}

func vaultServer(v *vault.Vault) *sdk.Server {
	s := sdk.NewServer(&sdk.Implementation{Name: "vault"}, nil)
	sdk.AddTool(s, &sdk.Tool{Name: "search", Description: "Search the notes of the vault (the agent's long-term memory), best matches first."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in vaultSearchIn) (*sdk.CallToolResult, any, error) {
			if err := v.WaitReady(ctx); err != nil { // the first index, at start
				return nil, nil, err
			}
			res, err := v.Search(ctx, vault.Query{Text: in.Query, Tag: in.Tag, Limit: in.Limit})
			if err != nil {
				return nil, nil, err
			}
			hits := make([]vaultHit, 0, len(res))
			for _, r := range res {
				hits = append(hits, vaultHit{Path: r.Path, Title: r.Title, Tags: r.Tags, Snippet: plainSnippet(r.Snippet)})
			}
			if len(hits) == 0 {
				return textResult("no notes match"), nil, nil
			}
			return jsonResult(hits)
		})
	sdk.AddTool(s, &sdk.Tool{Name: "read", Description: "Read a note of the vault, with the notes that link to it."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in vaultPathIn) (*sdk.CallToolResult, any, error) {
			if err := v.WaitReady(ctx); err != nil { // the first index, at start
				return nil, nil, err
			}
			n, err := v.Read(ctx, in.Path)
			if err != nil {
				return nil, nil, err
			}
			out := n.Content
			if len(n.Backlinks) > 0 {
				out += "\n\n---\nLinked from: " + strings.Join(n.Backlinks, ", ")
			}
			return textResult(out), nil, nil
		})
	sdk.AddTool(s, &sdk.Tool{Name: "write", Description: "Create or replace a note of the vault with the given Markdown."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in vaultWriteIn) (*sdk.CallToolResult, any, error) {
			created, err := v.Write(ctx, in.Path, in.Content)
			if err != nil {
				return nil, nil, err
			}
			if created {
				return textResult("created " + in.Path), nil, nil
			}
			return textResult("updated " + in.Path), nil, nil
		})
	sdk.AddTool(s, &sdk.Tool{Name: "append", Description: "Add Markdown at the end of a note of the vault (creating it if needed)."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in vaultAppendIn) (*sdk.CallToolResult, any, error) {
			created, err := v.Append(ctx, in.Path, in.Text)
			if err != nil {
				return nil, nil, err
			}
			if created {
				return textResult("created " + in.Path), nil, nil
			}
			return textResult("appended to " + in.Path), nil, nil
		})
	sdk.AddTool(s, &sdk.Tool{Name: "list", Description: "List the notes of the vault, or of one folder, by path."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in vaultListIn) (*sdk.CallToolResult, any, error) {
			if err := v.WaitReady(ctx); err != nil { // the first index, at start
				return nil, nil, err
			}
			notes, err := v.List(in.Folder)
			if err != nil {
				return nil, nil, err
			}
			items := make([]vaultItem, 0, len(notes))
			for _, n := range notes {
				items = append(items, vaultItem{Path: n.Path, Title: n.Title, Tags: n.Tags, Modified: n.Modified.UTC().Format("2006-01-02T15:04:05Z")})
			}
			if len(items) == 0 {
				return textResult("no notes"), nil, nil
			}
			return jsonResult(items)
		})
	sdk.AddTool(s, &sdk.Tool{Name: "backlinks", Description: "List the notes that link to a note of the vault."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in vaultPathIn) (*sdk.CallToolResult, any, error) {
			if err := v.WaitReady(ctx); err != nil { // the first index, at start
				return nil, nil, err
			}
			links, err := v.Backlinks(in.Path)
			if err != nil {
				return nil, nil, err
			}
			if len(links) == 0 {
				return textResult(fmt.Sprintf("no notes link to %s", in.Path)), nil, nil
			}
			return textResult(strings.Join(links, "\n")), nil, nil
		})
	return s
}
