package gateway

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"openagent/internal/mcp"
)

// mcpListBody is GET /api/mcps.
type mcpListBody struct {
	MCPs []mcp.Row `json:"mcps"`
}

// mcpBody is GET /api/mcps/{name}.
type mcpBody struct {
	MCP mcp.Row `json:"mcp"`
}

// mcpWriteBody answers a create, update, enable or disable.
type mcpWriteBody struct {
	OK  bool    `json:"ok"`
	MCP mcp.Row `json:"mcp"`
}

// mcpImportBody answers POST /api/mcps/import.
type mcpImportBody struct {
	OK   bool      `json:"ok"`
	MCPs []mcp.Row `json:"mcps"`
}

// mcpPool returns the pool, or a 503 while MCP is not wired.
func (s *Server) mcpPool() (*mcp.Pool, error) {
	if s.cfg.MCP == nil {
		return nil, errorf(http.StatusServiceUnavailable, "MCP servers are not available in this gateway")
	}
	return s.cfg.MCP, nil
}

// mcpError maps registry errors to statuses (contract §4.7 messages).
func mcpError(err error, name string) error {
	var ie *mcp.InputError
	var be *mcp.BuiltinDeleteError
	switch {
	case errors.Is(err, mcp.ErrNotFound):
		return errorf(http.StatusNotFound, "MCP '"+name+"' not found")
	case errors.As(err, &ie):
		return errorf(http.StatusBadRequest, ie.Msg)
	case errors.As(err, &be):
		return errorf(http.StatusBadRequest, be.Error())
	}
	return err
}

// decodeFields reads a JSON object body.
func decodeFields(r *http.Request) (mcp.Fields, error) {
	var raw json.RawMessage
	if err := decodeJSON(r, &raw, false); err != nil {
		return nil, err
	}
	var f mcp.Fields
	if err := json.Unmarshal(raw, &f); err != nil || f == nil {
		return nil, errorf(http.StatusBadRequest, "invalid JSON body: expected a JSON object")
	}
	return f, nil
}

func (s *Server) listMCPs(w http.ResponseWriter, r *http.Request) error {
	p, err := s.mcpPool()
	if err != nil {
		return err
	}
	rows, err := p.Rows(r.Context())
	if err != nil {
		return err
	}
	if rows == nil {
		rows = []mcp.Row{}
	}
	return writeJSON(w, http.StatusOK, mcpListBody{rows})
}

func (s *Server) getMCP(w http.ResponseWriter, r *http.Request) error {
	p, err := s.mcpPool()
	if err != nil {
		return err
	}
	name := chi.URLParam(r, "name")
	row, err := p.Get(r.Context(), name)
	if err != nil {
		return mcpError(err, name)
	}
	return writeJSON(w, http.StatusOK, mcpBody{row})
}

func (s *Server) createMCP(w http.ResponseWriter, r *http.Request) error {
	p, err := s.mcpPool()
	if err != nil {
		return err
	}
	f, err := decodeFields(r)
	if err != nil {
		return err
	}
	row, _, err := p.Create(r.Context(), f)
	if err != nil {
		return mcpError(err, "")
	}
	return writeJSON(w, http.StatusCreated, mcpWriteBody{true, row})
}

func (s *Server) updateMCP(w http.ResponseWriter, r *http.Request) error {
	p, err := s.mcpPool()
	if err != nil {
		return err
	}
	name := chi.URLParam(r, "name")
	f, err := decodeFields(r)
	if err != nil {
		return err
	}
	row, err := p.Update(r.Context(), name, f)
	if err != nil {
		return mcpError(err, name)
	}
	return writeJSON(w, http.StatusOK, mcpWriteBody{true, row})
}

func (s *Server) deleteMCP(w http.ResponseWriter, r *http.Request) error {
	p, err := s.mcpPool()
	if err != nil {
		return err
	}
	name := chi.URLParam(r, "name")
	if err := p.Delete(r.Context(), name); err != nil {
		return mcpError(err, name)
	}
	return writeJSON(w, http.StatusOK, okBody{true})
}

func (s *Server) enableMCP(w http.ResponseWriter, r *http.Request) error {
	return s.toggleMCP(w, r, true)
}
func (s *Server) disableMCP(w http.ResponseWriter, r *http.Request) error {
	return s.toggleMCP(w, r, false)
}

func (s *Server) toggleMCP(w http.ResponseWriter, r *http.Request, on bool) error {
	p, err := s.mcpPool()
	if err != nil {
		return err
	}
	name := chi.URLParam(r, "name")
	row, err := p.SetEnabled(r.Context(), name, on)
	if err != nil {
		return mcpError(err, name)
	}
	return writeJSON(w, http.StatusOK, mcpWriteBody{true, row})
}

func (s *Server) importMCPs(w http.ResponseWriter, r *http.Request) error {
	p, err := s.mcpPool()
	if err != nil {
		return err
	}
	var cfg mcp.ClaudeDesktopConfig
	if err := decodeJSON(r, &cfg, false); err != nil {
		return err
	}
	rows, err := p.Import(r.Context(), cfg)
	if err != nil {
		return mcpError(err, "")
	}
	return writeJSON(w, http.StatusOK, mcpImportBody{true, rows})
}
