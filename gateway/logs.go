package gateway

import (
	"net/http"
	"strconv"
)

// maxLogLines bounds GET /api/logs?lines=.
const maxLogLines = 10000

// getLogs returns the last lines events (a bare array, oldest first) whose
// event starts with ?event= (contract §4.9).
func (s *Server) getLogs(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Events == nil {
		return writeJSON(w, http.StatusOK, []any{})
	}
	n := 100
	if v := r.URL.Query().Get("lines"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			return errorf(http.StatusBadRequest, "lines must be a positive whole number")
		}
		n = min(n, maxLogLines)
	}
	entries, err := s.cfg.Events.Tail(n, r.URL.Query().Get("event"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, entries)
}

func (s *Server) deleteLogs(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Events != nil {
		if err := s.cfg.Events.Truncate(); err != nil {
			return err
		}
	}
	return writeJSON(w, http.StatusOK, okBody{true})
}
