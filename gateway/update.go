package gateway

import (
	"context"
	"errors"
	"net/http"
	"time"

	"openagent/internal/update"
)

// updateReply is POST /api/update's answer (contract §4.10): either
// {"updated":false,"version"} or {"updated":true,"old","new"}.
type updateReply struct {
	Updated bool   `json:"updated"`
	Version string `json:"version,omitempty"`
	Old     string `json:"old,omitempty"`
	New     string `json:"new,omitempty"`
	// Restarting is true when the gateway restarts into the new version now.
	Restarting bool `json:"restarting,omitempty"`
}

// updateStatuser is implemented by *update.Updater; it backs GET /api/update.
type updateStatuser interface {
	Status() update.Status
}

// postUpdate checks the release feed and, when it offers a newer version,
// installs it, answers, and then restarts (decision A18). The work runs on
// the server's context, not the request's, so a client that goes away does
// not leave a half-installed update; other requests are never held up.
func (s *Server) postUpdate(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Updater == nil {
		return errorf(http.StatusServiceUnavailable, "not supported yet: this build has no updater")
	}
	ctx, cancel := context.WithTimeout(s.base(), commandTimeout)
	defer cancel()
	updated, old, nv, err := s.cfg.Updater.Update(ctx)
	switch {
	case errors.Is(err, update.ErrInProgress):
		return errorf(http.StatusConflict, "An update is already in progress; try again when it has finished")
	case errors.Is(err, update.ErrNoFeed):
		return errorf(http.StatusBadRequest, err.Error())
	case err != nil:
		// The feed or the download failed: say why, the user can act on it.
		return errorf(http.StatusBadGateway, "Update failed: "+err.Error())
	}
	if !updated {
		return writeJSON(w, http.StatusOK, updateReply{Version: old})
	}
	restart := s.cfg.Restart != nil
	s.emit("server.restart", map[string]any{"via": "update", "old": old, "new": nv})
	if err := writeJSON(w, http.StatusOK, updateReply{Updated: true, Old: old, New: nv, Restarting: restart}); err != nil {
		return err
	}
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	if restart {
		go func() {
			time.Sleep(restartDelay) // let the reply reach the client first
			s.cfg.Restart()
		}()
	}
	return nil
}

// getUpdateStatus reports the last check: the running and latest versions,
// whether an update is available or installed and waiting for a restart.
func (s *Server) getUpdateStatus(w http.ResponseWriter, r *http.Request) error {
	st, ok := s.cfg.Updater.(updateStatuser)
	if !ok {
		return errorf(http.StatusServiceUnavailable, "not supported yet: this build has no updater")
	}
	return writeJSON(w, http.StatusOK, st.Status())
}
