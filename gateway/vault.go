package gateway

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

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
	v, err := s.vault()
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
	v, err := s.vault()
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
	v, err := s.vault()
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

// getVaultGraph answers GET /api/vault/graph.
func (s *Server) getVaultGraph(w http.ResponseWriter, r *http.Request) error {
	v, err := s.vault()
	if err != nil {
		return err
	}
	g := v.Graph()
	out := vaultGraphResponse{Nodes: make([]vaultGraphNode, len(g.Nodes)), Edges: make([]vaultGraphEdge, len(g.Edges))}
	for i, n := range g.Nodes {
		out.Nodes[i] = vaultGraphNode{ID: n.ID, Label: n.Label, Tags: n.Tags, Type: n.Type, Degree: n.Degree, Unresolved: n.Unresolved}
	}
	for i, e := range g.Edges {
		out.Edges[i] = vaultGraphEdge{Source: e.Source, Target: e.Target}
	}
	return writeJSON(w, http.StatusOK, out)
}
