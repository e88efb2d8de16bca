package gateway

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// Sections that take effect without a restart (contract §4.2).
var hotSections = map[string]bool{"model": true, "providers": true, "system_prompt": true, "name": true}

func (s *Server) getConfig(w http.ResponseWriter, r *http.Request) error {
	m, err := s.cfg.Settings.Masked()
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, m)
}

func (s *Server) getConfigSection(w http.ResponseWriter, r *http.Request) error {
	m, err := s.cfg.Settings.Masked()
	if err != nil {
		return err
	}
	name := chi.URLParam(r, "section")
	v, ok := m[name]
	if !ok {
		return errorf(http.StatusNotFound, "config has no section "+name)
	}
	return writeJSON(w, http.StatusOK, v)
}

type configWriteBody struct {
	OK              bool `json:"ok"`
	RestartRequired bool `json:"restart_required"`
}

// putConfig replaces the whole file; unchanged sections keep their comments.
func (s *Server) putConfig(w http.ResponseWriter, r *http.Request) error {
	var m map[string]any
	if err := decodeJSON(r, &m, false); err != nil {
		return err
	}
	if m == nil {
		return errorf(http.StatusBadRequest, "config must be a JSON object")
	}
	if err := s.cfg.Settings.Replace(m); err != nil {
		return err
	}
	s.emit("config.update", map[string]any{"section": "*"})
	s.Broadcast("config", "updated", "")
	return writeJSON(w, http.StatusOK, configWriteBody{true, true})
}

// patchConfigSection replaces one section (reference semantics, not a merge).
func (s *Server) patchConfigSection(w http.ResponseWriter, r *http.Request) error {
	name := chi.URLParam(r, "section")
	var v any
	if err := decodeJSON(r, &v, false); err != nil {
		return err
	}
	if err := s.cfg.Settings.SetSection(name, v); err != nil {
		return err
	}
	s.emit("config.update", map[string]any{"section": name})
	s.Broadcast("config", "updated", name)
	stored, err := s.cfg.Settings.Masked()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	return writeJSON(w, http.StatusOK, map[string]any{"ok": true, "restart_required": !hotSections[name], name: stored[name]})
}
