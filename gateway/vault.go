package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"openagent/internal/vault"
)

// The vault routes (contract §4.3 with decision A16). The notes themselves,
// links, search and the watcher live in internal/vault; resource_event
// broadcasts come from the vault's OnChange, which app wires to Broadcast.

// vaultNoteSummary is one entry of GET /api/vault/notes.
type vaultNoteSummary struct {
	Path     string   `json:"path"`
	Title    string   `json:"title"`
	Tags     []string `json:"tags"`
	Type     string   `json:"type"`
	Modified float64  `json:"modified"` // Unix seconds
	Size     int64    `json:"size"`
}

type vaultNoteList struct {
	Notes []vaultNoteSummary `json:"notes"`
}

// vaultNote is GET /api/vault/notes/{path}.
type vaultNote struct {
	Path        string         `json:"path"`
	Content     string         `json:"content"`
	Frontmatter map[string]any `json:"frontmatter"`
	Body        string         `json:"body"`
	Title       string         `json:"title"`
	Tags        []string       `json:"tags"`
	Aliases     []string       `json:"aliases"`
	Type        string         `json:"type"`
	// Links are the link targets as written (with #heading or ^block).
	Links     []string `json:"links"`
	Backlinks []string `json:"backlinks"`
	Modified  float64  `json:"modified"`
	Size      int64    `json:"size"`
}

type vaultWriteRequest struct {
	Content string `json:"content"`
}

type vaultWriteResponse struct {
	OK      bool   `json:"ok"`
	Path    string `json:"path"`
	Created bool   `json:"created"`
}

type vaultSearchResult struct {
	Path    string   `json:"path"`
	Title   string   `json:"title"`
	Tags    []string `json:"tags"`
	Snippet string   `json:"snippet"` // HTML: matches in <mark>, the rest escaped
	Score   float64  `json:"score"`   // bm25, higher is better
}

type vaultSearchResponse struct {
	Results []vaultSearchResult `json:"results"`
}

type vaultGraphNode struct {
	ID         string   `json:"id"`
	Label      string   `json:"label"`
	Tags       []string `json:"tags"`
	Type       string   `json:"type"`
	Degree     int      `json:"degree"`
	Unresolved bool     `json:"unresolved"`
}

type vaultGraphEdge struct {
	Source string `json:"source"`
	Target string `json:"target"`
}

type vaultGraphResponse struct {
	Nodes []vaultGraphNode `json:"nodes"`
	Edges []vaultGraphEdge `json:"edges"`
}

// vault returns the vault or a 503 while it is not wired.
func (s *Server) vault() (*vault.Vault, error) {
	if s.cfg.Vault == nil {
		return nil, errorf(http.StatusServiceUnavailable, "vault is not available")
	}
	return s.cfg.Vault, nil
}

// defaultVaultIndexWait is Config.VaultIndexWait's default.
const defaultVaultIndexWait = 10 * time.Second

// indexedVault is vault() for reads. Right after start the vault is still
// being indexed (a few seconds for 10,000 notes); a read waits for that,
// up to Config.VaultIndexWait, rather than answer with an empty or partial
// vault. After that it is 503 with how far the index has got, and
// Retry-After.
func (s *Server) indexedVault(w http.ResponseWriter, r *http.Request) (*vault.Vault, error) {
	v, err := s.vault()
	if err != nil {
		return nil, err
	}
	wait := s.cfg.VaultIndexWait
	if wait <= 0 {
		wait = defaultVaultIndexWait
	}
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	switch err := v.WaitReady(ctx); {
	case err == nil:
		return v, nil
	case r.Context().Err() != nil:
		return nil, r.Context().Err()
	case errors.Is(err, context.DeadlineExceeded):
		done, total := v.IndexProgress()
		w.Header().Set("Retry-After", "2")
		return nil, errorf(http.StatusServiceUnavailable, fmt.Sprintf("vault is still indexing (%d of %d notes read); try again shortly", done, total))
	default:
		return nil, errorf(http.StatusServiceUnavailable, "vault is not available: "+err.Error())
	}
}

// vaultError maps the vault's errors to statuses.
func vaultError(err error) error {
	switch {
	case errors.Is(err, vault.ErrInvalidPath), errors.Is(err, vault.ErrNotNote):
		return errorf(http.StatusBadRequest, err.Error())
	case errors.Is(err, vault.ErrNotFound):
		return errorf(http.StatusNotFound, "Not found")
	}
	return err
}

// notePathParam is the {path...} wildcard, percent-decoded. chi matches on
// the raw path when the URL has escapes, so "%2e%2e/" arrives encoded and
// is decoded here, before the vault checks it.
func notePathParam(r *http.Request) (string, error) {
	p := chi.URLParam(r, "*")
	if r.URL.RawPath != "" {
		dec, err := url.PathUnescape(p)
		if err != nil {
			return "", errorf(http.StatusBadRequest, "invalid note path: bad percent-encoding")
		}
		p = dec
	}
	return p, nil
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// listVaultNotes answers GET /api/vault/notes[?folder=].
func (s *Server) listVaultNotes(w http.ResponseWriter, r *http.Request) error {
	v, err := s.indexedVault(w, r)
	if err != nil {
		return err
	}
	list, err := v.List(r.URL.Query().Get("folder"))
	if err != nil {
		return vaultError(err)
	}
	out := vaultNoteList{Notes: make([]vaultNoteSummary, len(list))}
	for i, n := range list {
		out.Notes[i] = vaultNoteSummary{Path: n.Path, Title: n.Title, Tags: n.Tags, Type: n.Type, Modified: unixSeconds(n.Modified), Size: n.Size}
	}
	return writeJSON(w, http.StatusOK, out)
}

// getVaultNote answers GET /api/vault/notes/{path...}.
func (s *Server) getVaultNote(w http.ResponseWriter, r *http.Request) error {
	v, err := s.indexedVault(w, r)
	if err != nil {
		return err
	}
	p, err := notePathParam(r)
	if err != nil {
		return err
	}
	n, err := v.Read(r.Context(), p)
	if err != nil {
		return vaultError(err)
	}
	links := make([]string, len(n.Links))
	for i, l := range n.Links {
		links[i] = l.Raw
	}
	return writeJSON(w, http.StatusOK, vaultNote{
		Path: n.Path, Content: n.Content, Frontmatter: n.Frontmatter, Body: n.Body,
		Title: n.Title, Tags: n.Tags, Aliases: n.Aliases, Type: n.Type,
		Links: links, Backlinks: n.Backlinks, Modified: unixSeconds(n.Modified), Size: n.Size,
	})
}

// putVaultNote answers PUT /api/vault/notes/{path...} {"content":…}: an
// atomic create or replace of a .md note.
func (s *Server) putVaultNote(w http.ResponseWriter, r *http.Request) error {
	v, err := s.vault()
	if err != nil {
		return err
	}
	p, err := notePathParam(r)
	if err != nil {
		return err
	}
	var req vaultWriteRequest
	if err := decodeJSON(r, &req, false); err != nil {
		return err
	}
	created, err := v.Write(r.Context(), p, req.Content)
	if err != nil {
		return vaultError(err)
	}
	return writeJSON(w, http.StatusOK, vaultWriteResponse{OK: true, Path: p, Created: created})
}

// deleteVaultNote answers DELETE /api/vault/notes/{path...}.
func (s *Server) deleteVaultNote(w http.ResponseWriter, r *http.Request) error {
	v, err := s.vault()
	if err != nil {
		return err
	}
	p, err := notePathParam(r)
	if err != nil {
		return err
	}
	if err := v.Delete(r.Context(), p); err != nil {
		return vaultError(err)
	}
	return writeJSON(w, http.StatusOK, okBody{OK: true})
}

// searchVault answers GET /api/vault/search?q=&tag=&limit=.
func (s *Server) searchVault(w http.ResponseWriter, r *http.Request) error {
	v, err := s.indexedVault(w, r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	limit := 0
	if l := q.Get("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit < 1 {
			return errorf(http.StatusBadRequest, "limit must be a positive number")
		}
	}
	rs, err := v.Search(r.Context(), vault.Query{Text: q.Get("q"), Tag: q.Get("tag"), Limit: limit})
	if err != nil {
		return err
	}
	out := vaultSearchResponse{Results: make([]vaultSearchResult, len(rs))}
	for i, res := range rs {
		out.Results[i] = vaultSearchResult{Path: res.Path, Title: res.Title, Tags: res.Tags, Snippet: res.Snippet, Score: res.Score}
	}
	return writeJSON(w, http.StatusOK, out)
}

// vaultGraphHandler answers GET /api/vault/graph. A 10,000-note vault has
// ~80,000 edges (several MB of JSON), so the body is written by
// appendVaultGraph rather than by reflection (vault_internal_test.go checks
// it matches encoding/json byte for byte) and kept until the graph changes.
//
// After a change the new body is written into the previous version's buffer
// when no response is still sending it: a fresh 10 MB buffer costs more in
// page faults (about 35 ms on a small VM) than writing the JSON does.
func (s *Server) vaultGraphHandler() handlerFunc {
	type buffer struct {
		b       []byte
		version uint64
		sending int // responses writing b
	}
	var mu sync.Mutex // guards cur, spare and their fields
	var cur, spare *buffer
	return func(w http.ResponseWriter, r *http.Request) error {
		v, err := s.indexedVault(w, r)
		if err != nil {
			return err
		}
		g := v.Graph()
		mu.Lock()
		if cur == nil || cur.version != g.Version {
			size := vaultGraphSize(g)
			next := spare
			if next == nil || next.sending > 0 || cap(next.b) < size {
				next = &buffer{b: make([]byte, 0, size)}
			}
			next.b = appendVaultGraph(next.b[:0], g)
			next.version = g.Version
			cur, spare = next, cur
		}
		buf := cur
		buf.sending++
		mu.Unlock()
		defer func() {
			mu.Lock()
			buf.sending--
			mu.Unlock()
		}()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(buf.b)))
		w.WriteHeader(http.StatusOK)
		_, err = w.Write(buf.b)
		return err
	}
}

// vaultGraphBody is the reflection-based form of the graph answer; it
// defines the wire shape (and the UI type check) that appendVaultGraph
// writes by hand.
func vaultGraphBody(g vault.Graph) vaultGraphResponse {
	out := vaultGraphResponse{Nodes: make([]vaultGraphNode, len(g.Nodes)), Edges: make([]vaultGraphEdge, len(g.Edges))}
	for i, n := range g.Nodes {
		out.Nodes[i] = vaultGraphNode{ID: n.ID, Label: n.Label, Tags: n.Tags, Type: n.Type, Degree: n.Degree, Unresolved: n.Unresolved}
	}
	for i, e := range g.Edges {
		out.Edges[i] = vaultGraphEdge{Source: e.Source, Target: e.Target}
	}
	return out
}

// vaultGraphSize is the length of appendVaultGraph's output when no string
// needs escaping, plus a little: one allocation of the right size rather
// than a buffer that grows several times. Growing a 10 MB buffer touches
// three times the memory, and fresh memory costs a page fault per 4 KiB.
func vaultGraphSize(g vault.Graph) int {
	const (
		node = len(`{"id":"","label":"","tags":[],"type":"","degree":,"unresolved":false},`)
		edge = len(`{"source":"","target":""},`)
	)
	n := len(`{"nodes":[],"edges":[]}`) + 1
	for _, x := range g.Nodes {
		n += node + len(x.ID) + len(x.Label) + len(x.Type) + 10
		for _, t := range x.Tags {
			n += len(t) + 3
		}
	}
	for _, e := range g.Edges {
		n += edge + len(e.Source) + len(e.Target)
	}
	return n + n/64
}

// appendVaultGraph appends the JSON of vaultGraphBody(g), plus the newline
// json.Encoder writes.
func appendVaultGraph(b []byte, g vault.Graph) []byte {
	b = append(b, `{"nodes":[`...)
	for i, n := range g.Nodes {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendJSONString(b, n.ID)
		b = append(b, `,"label":`...)
		b = appendJSONString(b, n.Label)
		b = append(b, `,"tags":`...)
		if n.Tags == nil {
			b = append(b, "null"...)
		} else {
			b = append(b, '[')
			for j, t := range n.Tags {
				if j > 0 {
					b = append(b, ',')
				}
				b = appendJSONString(b, t)
			}
			b = append(b, ']')
		}
		b = append(b, `,"type":`...)
		b = appendJSONString(b, n.Type)
		b = append(b, `,"degree":`...)
		b = strconv.AppendInt(b, int64(n.Degree), 10)
		b = append(b, `,"unresolved":`...)
		b = strconv.AppendBool(b, n.Unresolved)
		b = append(b, '}')
	}
	b = append(b, `],"edges":[`...)
	for i, e := range g.Edges {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"source":`...)
		b = appendJSONString(b, e.Source)
		b = append(b, `,"target":`...)
		b = appendJSONString(b, e.Target)
		b = append(b, '}')
	}
	return append(b, "]}\n"...)
}

// jsonPlain marks the bytes appendJSONString copies as they are: printable
// ASCII other than the quote, the backslash and <, >, & (which encoding/json
// escapes for HTML safety).
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendJSONString appends s as a JSON string the way encoding/json does:
// invalid UTF-8 becomes U+FFFD; <, >, &, U+2028 and U+2029 are escaped.
// Runs of plain bytes are copied at once: graph bodies are megabytes of
// mostly plain paths.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if jsonPlain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
