// Package mcp runs the agent's MCP servers: external ones over stdio,
// streamable HTTP or legacy SSE, and built-in ones in process. The Pool keeps
// each enabled server connected (restarting crashed ones with backoff),
// offers their tools to the agent as "<server>__<tool>", and applies every
// registry change (the mcps table) at once.
package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"openagent/internal/agent"
	"openagent/internal/store"
)

const (
	// probeWait is how long a REST write waits for the new server's probe
	// before answering with status "starting"; the probe goes on behind.
	probeWait = 10 * time.Second
	// MaxResultBytes is the size budget of one tool result given to the model.
	MaxResultBytes = 32 << 10
)

// Builtin is an in-process MCP server that is seeded as a builtin row.
type Builtin struct {
	// Name is the row name and builtin_name.
	Name string
	// Enabled is the state the row is seeded with.
	Enabled bool
	// Note is shown on the row, e.g. why it is disabled by default.
	Note string
	// Server builds a fresh server; each connection gets its own.
	Server func() *sdk.Server
}

// Options configure a Pool.
type Options struct {
	// DB holds the mcps table. Required.
	DB *store.DB
	// Dir is the agent directory, the working directory of stdio servers. Required.
	Dir string
	// Builtins are seeded at boot and run in process. Optional.
	Builtins []Builtin
	// Log is the human log. Optional.
	Log *slog.Logger
	// Version is sent as the client version. Optional.
	Version string
}

// Pool is the set of MCP servers the agent uses. It implements agent.Tools.
type Pool struct {
	reg      registry
	dir      string
	version  string
	log      *slog.Logger
	builtins map[string]Builtin

	// OnChange is called after every change of a server (REST writes with
	// created/updated/deleted, status and tool changes with updated). Set it
	// before Start. Optional.
	OnChange func(action, name string)

	writeMu sync.Mutex // serialises registry writes

	mu      sync.Mutex // guards the fields below
	entries map[string]*entry
	started bool
	closed  bool
	probes  sync.WaitGroup
}

// entry is the live side of one row.
type entry struct {
	gen      int     // bumped by every write; a probe of an older gen is dropped
	live     *server // the running supervisor, nil when disabled
	probing  *server // a new configuration being probed
	probeErr string  // the new configuration failed its probe; live runs the old one
}

var _ agent.Tools = (*Pool)(nil)

// New opens the registry and seeds the builtin rows. Nothing connects
// before Start.
func New(ctx context.Context, opts Options) (*Pool, error) {
	if opts.DB == nil || opts.Dir == "" {
		return nil, errors.New("mcp: DB and Dir are required")
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	p := &Pool{
		reg:      registry{opts.DB.DB},
		dir:      opts.Dir,
		version:  opts.Version,
		log:      opts.Log.With("component", "mcp"),
		builtins: map[string]Builtin{},
		entries:  map[string]*entry{},
	}
	t := now()
	for _, b := range opts.Builtins {
		p.builtins[b.Name] = b
		sp := Spec{Name: b.Name, Kind: KindBuiltin, BuiltinName: b.Name, Enabled: b.Enabled, Source: "builtin", CreatedAt: t, UpdatedAt: t}
		if err := p.reg.seed(ctx, sp); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Start connects every enabled server in the background.
func (p *Pool) Start(ctx context.Context) error {
	specs, err := p.reg.list(ctx)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started || p.closed {
		return nil
	}
	p.started = true
	for _, sp := range specs {
		if !sp.Enabled {
			continue
		}
		sv, sctx := p.newServer(sp)
		p.entry(sp.Name).live = sv
		sv.start(sctx, nil, 0, nil)
	}
	return nil
}

// Close stops every server (killing stdio process groups) and waits.
func (p *Pool) Close() {
	p.mu.Lock()
	p.closed = true
	var all []*server
	for _, e := range p.entries {
		for _, sv := range []*server{e.live, e.probing} {
			if sv != nil {
				all = append(all, sv)
			}
		}
	}
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, sv := range all {
		wg.Go(sv.stop)
	}
	wg.Wait()
	p.probes.Wait()
}

func (p *Pool) entry(name string) *entry {
	e := p.entries[name]
	if e == nil {
		e = &entry{}
		p.entries[name] = e
	}
	return e
}

func (p *Pool) changed(action, name string) {
	if p.OnChange != nil {
		p.OnChange(action, name)
	}
}

// MaxToolName is the longest tool name the model APIs accept (OpenAI's
// and Anthropic's function names are at most 64 characters).
const MaxToolName = 64

// ToolName is the name a server's tool is offered under: "<server>__<tool>",
// with characters model APIs refuse replaced by "_". A name longer than
// MaxToolName keeps its start and ends in "_" and 8 hex digits of a hash of
// the original names, so it stays stable and two long names sharing a
// start stay apart.
func ToolName(server, tool string) string {
	n := sanitize(server) + "__" + sanitize(tool)
	if len(n) <= MaxToolName {
		return n
	}
	h := fnv.New32a()
	h.Write([]byte(server + "\x00" + tool))
	return fmt.Sprintf("%s_%08x", n[:MaxToolName-9], h.Sum32())
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			return r
		}
		return '_'
	}, s)
}

// connected returns the running servers with a live session, by name.
func (p *Pool) connected() []*server {
	p.mu.Lock()
	defer p.mu.Unlock()
	names := make([]string, 0, len(p.entries))
	for n, e := range p.entries {
		if e.live != nil {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	out := make([]*server, 0, len(names))
	for _, n := range names {
		out = append(out, p.entries[n].live)
	}
	return out
}

// List returns the tools of every connected server.
func (p *Pool) List(ctx context.Context) []agent.Tool {
	var out []agent.Tool
	for _, sv := range p.connected() {
		sv.mu.Lock()
		for _, t := range sv.tools {
			out = append(out, agent.Tool{Name: t.exposed, Description: t.desc, InputSchema: t.schema})
		}
		sv.mu.Unlock()
	}
	return out
}

// Call runs the tool offered as name. A tool that reports an error returns
// it as the error. Results above MaxResultBytes are cut, with a note. A
// cancelled ctx abandons the call (the server is sent notifications/cancelled).
func (p *Pool) Call(ctx context.Context, name string, args json.RawMessage) (string, error) {
	var (
		sv   *server
		tool string
	)
	for _, s := range p.connected() {
		s.mu.Lock()
		for _, t := range s.tools {
			if t.exposed == name {
				sv, tool = s, t.name
			}
		}
		s.mu.Unlock()
		if sv != nil {
			break
		}
	}
	if sv == nil {
		return "", fmt.Errorf("unknown tool %q", name)
	}
	sv.mu.Lock()
	c := sv.c
	sv.mu.Unlock()
	if c == nil {
		return "", fmt.Errorf("MCP server %q is not connected", sv.spec.Name)
	}
	params := &sdk.CallToolParams{Name: tool}
	if a := strings.TrimSpace(string(args)); a != "" && a != "null" {
		params.Arguments = json.RawMessage(a)
	}
	res, err := c.sess.CallTool(ctx, params)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("call %s: %w", name, err)
	}
	text := truncate(resultText(res), MaxResultBytes)
	if res.IsError {
		if text == "" {
			text = "the tool reported an error"
		}
		return "", errors.New(text)
	}
	return text, nil
}

// resultText flattens a tool result into text for the model.
func resultText(res *sdk.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		switch c := c.(type) {
		case *sdk.TextContent:
			parts = append(parts, c.Text)
		case *sdk.ImageContent:
			parts = append(parts, fmt.Sprintf("[image %s, %d bytes]", c.MIMEType, len(c.Data)))
		case *sdk.AudioContent:
			parts = append(parts, fmt.Sprintf("[audio %s, %d bytes]", c.MIMEType, len(c.Data)))
		case *sdk.ResourceLink:
			parts = append(parts, fmt.Sprintf("[resource %s: %s]", c.Name, c.URI))
		case *sdk.EmbeddedResource:
			if c.Resource != nil {
				if c.Resource.Text != "" {
					parts = append(parts, c.Resource.Text)
				} else {
					parts = append(parts, fmt.Sprintf("[resource %s, %s, %d bytes]", c.Resource.URI, c.Resource.MIMEType, len(c.Resource.Blob)))
				}
			}
		}
	}
	if len(parts) == 0 && res.StructuredContent != nil {
		return jsonText(res.StructuredContent)
	}
	return strings.Join(parts, "\n")
}

// truncate cuts s to at most max bytes (on a UTF-8 boundary) and says so.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && cut < len(s) && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + fmt.Sprintf("\n\n[result truncated: showing the first %d of %d bytes]", cut, len(s))
}

// Rows returns every row with its live state, sorted by name.
func (p *Pool) Rows(ctx context.Context) ([]Row, error) {
	specs, err := p.reg.list(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Row, 0, len(specs))
	for _, sp := range specs {
		out = append(out, p.rowOf(sp))
	}
	return out, nil
}

// Get returns one row, or ErrNotFound.
func (p *Pool) Get(ctx context.Context, name string) (Row, error) {
	sp, err := p.reg.get(ctx, name)
	if err != nil {
		return Row{}, err
	}
	return p.rowOf(sp), nil
}

func (p *Pool) rowOf(sp Spec) Row {
	r := sp.row()
	r.Env, r.Headers = maskValues(r.Env), maskValues(r.Headers)
	if sp.Kind != KindCustom {
		r.Note = p.builtins[sp.BuiltinName].Note
	}
	if !sp.Enabled {
		r.Status = StatusDisabled
		return r
	}
	r.Status = StatusStarting
	p.mu.Lock()
	e := p.entries[sp.Name]
	var live *server
	var probeErr string
	if e != nil {
		live, probeErr = e.live, e.probeErr
	}
	p.mu.Unlock()
	if live != nil {
		r.Status, r.Error, r.Tools = live.snapshot()
	}
	if probeErr != "" {
		r.Status, r.Error = StatusError, probeErr
	}
	return r
}

// reload applies sp to the running pool: a disabled server stops; an enabled
// one is probed (initialize + tools/list) and swapped in when the probe
// passes. A failed probe keeps the server that was running, if any, and
// shows the error on the row. reload waits at most probeWait.
func (p *Pool) reload(sp Spec) {
	p.mu.Lock()
	if !p.started || p.closed {
		p.mu.Unlock()
		return // Start connects what is enabled
	}
	e := p.entry(sp.Name)
	e.gen++
	gen := e.gen
	e.probeErr = ""
	if e.probing != nil {
		e.probing.cancel()
		e.probing = nil
	}
	if !sp.Enabled {
		old := e.live
		e.live = nil
		p.mu.Unlock()
		if old != nil {
			old.stop()
		}
		return
	}
	sv, sctx := p.newServer(sp)
	e.probing = sv
	p.probes.Add(1)
	p.mu.Unlock()

	done := make(chan struct{})
	go func() {
		defer p.probes.Done()
		defer close(done)
		p.probe(sv, sctx, gen)
	}()
	select {
	case <-done:
	case <-time.After(probeWait):
	}
}

func (p *Pool) probe(sv *server, ctx context.Context, gen int) {
	c, err := sv.connect(ctx)
	name := sv.spec.Name
	p.mu.Lock()
	e := p.entries[name]
	if e == nil || e.gen != gen || p.closed {
		p.mu.Unlock()
		if c != nil {
			c.close()
		}
		sv.cancel()
		return // a newer write (or Close) took over
	}
	e.probing = nil
	if err != nil && e.live != nil {
		e.probeErr = "the new configuration failed (the previous one keeps running): " + err.Error()
		p.mu.Unlock()
		sv.cancel()
		p.log.Warn("mcp probe failed", "mcp", name, "err", err)
		p.changed("updated", name)
		return
	}
	old := e.live
	e.live = sv
	p.mu.Unlock()
	if err != nil {
		p.log.Warn("mcp probe failed", "mcp", name, "err", err)
		sv.start(ctx, nil, crashLimit, err)
		return
	}
	sv.start(ctx, c, 0, nil)
	if old != nil {
		old.stop()
	}
}

// forget stops and drops a deleted server.
func (p *Pool) forget(name string) {
	p.mu.Lock()
	e := p.entries[name]
	delete(p.entries, name)
	p.mu.Unlock()
	if e == nil {
		return
	}
	if e.probing != nil {
		e.probing.cancel()
	}
	if e.live != nil {
		e.live.stop()
	}
}

// builtinNames lists the builtins compiled in, sorted.
func (p *Pool) builtinNames() []string {
	names := make([]string, 0, len(p.builtins))
	for n := range p.builtins {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
