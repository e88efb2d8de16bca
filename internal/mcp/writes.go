package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Fields is a JSON object body of a registry write, keyed by field name.
type Fields map[string]json.RawMessage

func (f Fields) has(key string) bool { _, ok := f[key]; return ok }

// decode reads f[key] into dst when present; it reports whether it was.
func (f Fields) decode(key string, dst any) (bool, error) {
	raw, ok := f[key]
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return true, &InputError{fmt.Sprintf("invalid JSON body: field %s: %v", key, strings.TrimPrefix(err.Error(), "json: "))}
	}
	return true, nil
}

// argvValue decodes a command: an argv list, a single string, or null.
type argvValue []string

func (a *argvValue) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*a = nil
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = nil
		if s != "" {
			*a = []string{s}
		}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("must be an argv list of strings")
	}
	*a = l
	return nil
}

// merge applies the spec fields present in f onto sp.
func (f Fields) merge(sp *Spec) error {
	var (
		cmd     argvValue
		url     *string
		builtin *string
	)
	if ok, err := f.decode("command", &cmd); err != nil {
		return err
	} else if ok {
		sp.Command = cmd
	}
	if ok, err := f.decode("url", &url); err != nil {
		return err
	} else if ok {
		sp.URL = ""
		if url != nil {
			sp.URL = strings.TrimSpace(*url)
		}
	}
	if ok, err := f.decode("builtin_name", &builtin); err != nil {
		return err
	} else if ok {
		sp.BuiltinName = ""
		if builtin != nil {
			sp.BuiltinName = *builtin
		}
	}
	for key, dst := range map[string]any{
		"kind": &sp.Kind, "args": &sp.Args, "env": &sp.Env, "headers": &sp.Headers,
		"oauth": &sp.OAuth, "enabled": &sp.Enabled, "source": &sp.Source,
	} {
		if _, err := f.decode(key, dst); err != nil {
			return err
		}
	}
	return nil
}

// readOnly are row fields a PUT may send back unchanged; they are ignored.
var readOnly = map[string]bool{"name": true, "created_at": true, "updated_at": true, "status": true, "error": true, "tools": true, "note": true}

// specFields are the fields a PUT may change (contract §4.7).
var specFields = map[string]bool{"kind": true, "builtin_name": true, "command": true, "args": true, "url": true, "env": true, "headers": true, "oauth": true, "enabled": true, "source": true}

// Create upserts a custom server from a POST /api/mcps body and applies it
// at once. An existing row of that name, even a builtin, is overwritten
// (contract §4.7). created reports whether the row is new.
func (p *Pool) Create(ctx context.Context, f Fields) (row Row, created bool, err error) {
	var name string
	if _, err := f.decode("name", &name); err != nil {
		return Row{}, false, err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return Row{}, false, &InputError{"name is required"}
	}
	if f.has("builtin_name") || f.has("builtin") {
		var b string
		if _, err := f.decode("builtin_name", &b); err != nil || b == "" {
			f.decode("builtin", &b)
		}
		if b == "" {
			b = "<builtin>"
		}
		return Row{}, false, &InputError{fmt.Sprintf("Builtin MCPs cannot be added at runtime — they are defined in openagent.mcp.builtins.BUILTIN_MCP_SPECS and auto-seeded on boot. Use POST /api/mcps/%s/enable to turn the existing row on, or PUT /api/mcps/%s to change its env.", b, name)}
	}
	t := now()
	sp := Spec{Name: name, Kind: KindCustom, Enabled: true, Source: "api", CreatedAt: t, UpdatedAt: t}
	for _, key := range []string{"kind", "source"} {
		delete(f, key) // always custom, from the api
	}
	if err := f.merge(&sp); err != nil {
		return Row{}, false, err
	}
	if len(sp.Command) == 0 && sp.URL == "" {
		return Row{}, false, &InputError{"either command (argv list) or url is required"}
	}
	if err := sp.validate(); err != nil {
		return Row{}, false, err
	}

	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	old, err := p.reg.get(ctx, name)
	switch {
	case err == nil:
		sp.CreatedAt = old.CreatedAt
		keepMasked(sp.Env, old.Env)
		keepMasked(sp.Headers, old.Headers)
	case err != ErrNotFound:
		return Row{}, false, err
	}
	created = err == ErrNotFound
	if err := p.reg.put(ctx, sp); err != nil {
		return Row{}, false, err
	}
	p.reload(sp)
	if created {
		p.changed("created", name)
	} else {
		p.changed("updated", name)
	}
	row, err = p.Get(ctx, name)
	return row, created, err
}

// Update merges the fields of a PUT /api/mcps/{name} body into the row and
// applies it at once.
func (p *Pool) Update(ctx context.Context, name string, f Fields) (Row, error) {
	for key := range f {
		if !specFields[key] && !readOnly[key] {
			return Row{}, &InputError{fmt.Sprintf("unknown field %q", key)}
		}
	}
	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	sp, err := p.reg.get(ctx, name)
	if err != nil {
		return Row{}, err
	}
	oldEnv, oldHeaders := sp.Env, sp.Headers
	// A map in the body replaces the stored one (json would merge into it).
	if f.has("env") {
		sp.Env = nil
	}
	if f.has("headers") {
		sp.Headers = nil
	}
	if err := f.merge(&sp); err != nil {
		return Row{}, err
	}
	keepMasked(sp.Env, oldEnv)
	keepMasked(sp.Headers, oldHeaders)
	if err := sp.validate(); err != nil {
		return Row{}, err
	}
	sp.UpdatedAt = now()
	if err := p.reg.put(ctx, sp); err != nil {
		return Row{}, err
	}
	p.reload(sp)
	p.changed("updated", name)
	return p.Get(ctx, name)
}

// SetEnabled enables or disables a server and applies it at once.
func (p *Pool) SetEnabled(ctx context.Context, name string, on bool) (Row, error) {
	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	sp, err := p.reg.get(ctx, name)
	if err != nil {
		return Row{}, err
	}
	sp.Enabled = on
	sp.UpdatedAt = now()
	if err := p.reg.put(ctx, sp); err != nil {
		return Row{}, err
	}
	p.reload(sp)
	p.changed("updated", name)
	return p.Get(ctx, name)
}

// Delete removes a custom server and stops it. Builtin and default rows get
// a *BuiltinDeleteError.
func (p *Pool) Delete(ctx context.Context, name string) error {
	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	sp, err := p.reg.get(ctx, name)
	if err != nil {
		return err
	}
	if sp.Kind != KindCustom {
		return &BuiltinDeleteError{Name: name, Kind: sp.Kind}
	}
	if err := p.reg.delete(ctx, name); err != nil {
		return err
	}
	p.forget(name)
	p.changed("deleted", name)
	return nil
}

// ClaudeDesktopConfig is Claude Desktop's claude_desktop_config.json; only
// mcpServers is read.
type ClaudeDesktopConfig struct {
	MCPServers map[string]ClaudeDesktopServer `json:"mcpServers"`
}

// ClaudeDesktopServer is one entry of mcpServers: a stdio command, or a url.
type ClaudeDesktopServer struct {
	Command  argvValue         `json:"command"`
	Args     []string          `json:"args"`
	Env      map[string]string `json:"env"`
	URL      string            `json:"url"`
	Headers  map[string]string `json:"headers"`
	Type     string            `json:"type"`
	Disabled bool              `json:"disabled"`
}

// Import adds (or overwrites) the servers of a Claude Desktop config as
// custom rows with source "claude_desktop", and applies them at once. It
// checks every entry before writing any.
func (p *Pool) Import(ctx context.Context, cfg ClaudeDesktopConfig) ([]Row, error) {
	if len(cfg.MCPServers) == 0 {
		return nil, &InputError{"mcpServers is missing or empty: send the contents of claude_desktop_config.json"}
	}
	names := make([]string, 0, len(cfg.MCPServers))
	for n := range cfg.MCPServers {
		names = append(names, n)
	}
	sort.Strings(names)
	t := now()
	specs := make([]Spec, 0, len(names))
	for _, n := range names {
		s := cfg.MCPServers[n]
		sp := Spec{
			Name: strings.TrimSpace(n), Kind: KindCustom, Command: s.Command, Args: s.Args, URL: s.URL,
			Env: s.Env, Headers: s.Headers, Enabled: !s.Disabled, Source: "claude_desktop", CreatedAt: t, UpdatedAt: t,
		}
		if err := sp.validate(); err != nil {
			return nil, &InputError{fmt.Sprintf("mcpServers.%s: %v", n, err)}
		}
		specs = append(specs, sp)
	}

	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	actions := make([]string, len(specs))
	for i := range specs {
		actions[i] = "created"
		if old, err := p.reg.get(ctx, specs[i].Name); err == nil {
			specs[i].CreatedAt = old.CreatedAt
			actions[i] = "updated"
		} else if err != ErrNotFound {
			return nil, err
		}
		if err := p.reg.put(ctx, specs[i]); err != nil {
			return nil, err
		}
	}
	var wg sync.WaitGroup
	for _, sp := range specs {
		wg.Go(func() { p.reload(sp) })
	}
	wg.Wait()
	rows := make([]Row, 0, len(specs))
	for i, sp := range specs {
		p.changed(actions[i], sp.Name)
		r, err := p.Get(ctx, sp.Name)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	return rows, nil
}
