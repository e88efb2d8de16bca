package mcp

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Kinds of rows in the mcps table (contract §4.7).
const (
	KindBuiltin = "builtin"
	KindCustom  = "custom"
	KindDefault = "default"
)

// Statuses a row shows (decision A15).
const (
	StatusConnected = "connected"
	StatusStarting  = "starting"
	StatusError     = "error"
	StatusDisabled  = "disabled"
)

// ErrNotFound means no row has that name.
var ErrNotFound = errors.New("mcp not found")

// InputError is a request the registry refuses; Msg is written for the user.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// BuiltinDeleteError refuses deleting a builtin or default row.
type BuiltinDeleteError struct{ Name, Kind string }

func (e *BuiltinDeleteError) Error() string {
	return fmt.Sprintf("Refusing to delete builtin MCP '%s' (kind='%s'). Disable it instead — builtins can be toggled but not removed.", e.Name, e.Kind)
}

// Spec is the stored configuration of one server: one row of mcps.
type Spec struct {
	Name        string
	Kind        string
	BuiltinName string   // builtin rows: which in-process server
	Command     []string // stdio: argv (Args are appended)
	Args        []string
	URL         string // streamable HTTP, or legacy SSE when the path ends in /sse
	Env         map[string]string
	Headers     map[string]string
	OAuth       bool
	Enabled     bool
	Source      string
	CreatedAt   float64
	UpdatedAt   float64
}

// Row is what REST returns for a server: the stored spec plus its live state.
type Row struct {
	Name        string            `json:"name"`
	Kind        string            `json:"kind"`
	BuiltinName *string           `json:"builtin_name"`
	Command     []string          `json:"command"`
	Args        []string          `json:"args"`
	URL         *string           `json:"url"`
	Env         map[string]string `json:"env"`
	Headers     map[string]string `json:"headers"`
	OAuth       bool              `json:"oauth"`
	Enabled     bool              `json:"enabled"`
	Source      string            `json:"source"`
	CreatedAt   float64           `json:"created_at"`
	UpdatedAt   float64           `json:"updated_at"`
	// Status is connected, starting, error or disabled.
	Status string `json:"status"`
	// Error says why the server is not connected (the last stderr lines
	// for a crashing stdio server), or is empty.
	Error string `json:"error"`
	// Tools is how many tools the server offers now.
	Tools int `json:"tools"`
	// Note explains a builtin, e.g. why shell is disabled by default.
	Note string `json:"note,omitempty"`
}

func (sp Spec) row() Row {
	r := Row{
		Name: sp.Name, Kind: sp.Kind, Command: sp.Command, Args: sp.Args,
		Env: sp.Env, Headers: sp.Headers, OAuth: sp.OAuth, Enabled: sp.Enabled,
		Source: sp.Source, CreatedAt: sp.CreatedAt, UpdatedAt: sp.UpdatedAt,
	}
	if sp.BuiltinName != "" {
		b := sp.BuiltinName
		r.BuiltinName = &b
	}
	if sp.URL != "" {
		u := sp.URL
		r.URL = &u
	}
	if r.Args == nil {
		r.Args = []string{}
	}
	if r.Env == nil {
		r.Env = map[string]string{}
	}
	if r.Headers == nil {
		r.Headers = map[string]string{}
	}
	return r
}

// argv is the full command line of a stdio server.
func (sp Spec) argv() []string {
	return append(append([]string(nil), sp.Command...), sp.Args...)
}

// validate checks that a spec can be run.
func (sp Spec) validate() error {
	switch {
	case strings.TrimSpace(sp.Name) == "":
		return &InputError{"name is required"}
	case sp.Kind != KindBuiltin && sp.Kind != KindCustom && sp.Kind != KindDefault:
		return &InputError{fmt.Sprintf("kind must be builtin, custom or default, not %q", sp.Kind)}
	case sp.Kind == KindCustom && len(sp.Command) == 0 && sp.URL == "":
		return &InputError{"either command (argv list) or url is required"}
	case len(sp.Command) > 0 && sp.Command[0] == "":
		return &InputError{"command[0] must name a program"}
	}
	if sp.URL != "" && !strings.HasPrefix(sp.URL, "http://") && !strings.HasPrefix(sp.URL, "https://") {
		return &InputError{"url must start with http:// or https://"}
	}
	return nil
}

// now is a REAL timestamp in seconds, as the reference stores them.
func now() float64 {
	return math.Round(float64(time.Now().UnixMicro())/1e3) / 1e3
}

// registry holds the SQL of the mcps table.
type registry struct{ db *sql.DB }

const specColumns = `name, kind, builtin_name, command, args_json, url, env_json, headers_json, oauth, enabled, source, created_at, updated_at`

func scanSpec(sc interface{ Scan(...any) error }) (Spec, error) {
	var (
		sp                             Spec
		builtin, command, url, source  sql.NullString
		argsJSON, envJSON, headersJSON sql.NullString
		oauth, enabled                 sql.NullInt64
		createdAt, updatedAt           sql.NullFloat64
	)
	if err := sc.Scan(&sp.Name, &sp.Kind, &builtin, &command, &argsJSON, &url, &envJSON, &headersJSON, &oauth, &enabled, &source, &createdAt, &updatedAt); err != nil {
		return Spec{}, err
	}
	sp.BuiltinName, sp.URL, sp.Source = builtin.String, url.String, source.String
	sp.OAuth = oauth.Int64 != 0
	sp.Enabled = !enabled.Valid || enabled.Int64 != 0
	sp.CreatedAt, sp.UpdatedAt = createdAt.Float64, updatedAt.Float64
	for _, f := range []struct {
		s   sql.NullString
		dst any
	}{{command, &sp.Command}, {argsJSON, &sp.Args}, {envJSON, &sp.Env}, {headersJSON, &sp.Headers}} {
		if f.s.Valid && f.s.String != "" && f.s.String != "null" {
			if err := json.Unmarshal([]byte(f.s.String), f.dst); err != nil {
				return Spec{}, fmt.Errorf("decode mcps row %q: %w", sp.Name, err)
			}
		}
	}
	return sp, nil
}

func (rg registry) list(ctx context.Context) ([]Spec, error) {
	rows, err := rg.db.QueryContext(ctx, `SELECT `+specColumns+` FROM mcps ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list mcps: %w", err)
	}
	defer rows.Close()
	var out []Spec
	for rows.Next() {
		sp, err := scanSpec(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sp)
	}
	return out, rows.Err()
}

func (rg registry) get(ctx context.Context, name string) (Spec, error) {
	sp, err := scanSpec(rg.db.QueryRowContext(ctx, `SELECT `+specColumns+` FROM mcps WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return Spec{}, ErrNotFound
	}
	if err != nil {
		return Spec{}, fmt.Errorf("get mcp %q: %w", name, err)
	}
	return sp, nil
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// put writes sp, replacing any row of that name.
func (rg registry) put(ctx context.Context, sp Spec) error {
	var command, builtin, url any
	if sp.Command != nil {
		command = jsonText(sp.Command)
	}
	if sp.BuiltinName != "" {
		builtin = sp.BuiltinName
	}
	if sp.URL != "" {
		url = sp.URL
	}
	args, env, headers := sp.Args, sp.Env, sp.Headers
	if args == nil {
		args = []string{}
	}
	if env == nil {
		env = map[string]string{}
	}
	if headers == nil {
		headers = map[string]string{}
	}
	_, err := rg.db.ExecContext(ctx, `INSERT OR REPLACE INTO mcps (`+specColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		sp.Name, sp.Kind, builtin, command, jsonText(args), url, jsonText(env), jsonText(headers),
		boolInt(sp.OAuth), boolInt(sp.Enabled), sp.Source, sp.CreatedAt, sp.UpdatedAt)
	if err != nil {
		return fmt.Errorf("save mcp %q: %w", sp.Name, err)
	}
	return nil
}

// seed inserts sp unless a row of that name exists.
func (rg registry) seed(ctx context.Context, sp Spec) error {
	var n int
	if err := rg.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM mcps WHERE name = ?`, sp.Name).Scan(&n); err != nil {
		return fmt.Errorf("seed mcp %q: %w", sp.Name, err)
	}
	if n > 0 {
		return nil
	}
	return rg.put(ctx, sp)
}

func (rg registry) delete(ctx context.Context, name string) error {
	_, err := rg.db.ExecContext(ctx, `DELETE FROM mcps WHERE name = ?`, name)
	if err != nil {
		return fmt.Errorf("delete mcp %q: %w", name, err)
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
