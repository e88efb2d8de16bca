package gateway

import (
	"net/http"
	"time"
)

type healthBody struct {
	Status           string `json:"status"`
	Agent            string `json:"agent"`
	Version          string `json:"version"`
	ConnectedClients int    `json:"connected_clients"`
}

func (s *Server) getHealth(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, healthBody{"ok", s.name(), s.cfg.Version, s.hub.connected()})
}

// AgentInfo is GET /api/agent-info.
type AgentInfo struct {
	Name     string `json:"name"`
	AgentDir string `json:"agent_dir"`
	Port     int    `json:"port"`
	Host     string `json:"host"`
	Version  string `json:"version"`
	Protocol int    `json:"protocol"`
}

func (s *Server) getAgentInfo(w http.ResponseWriter, r *http.Request) error {
	s.baseMu.Lock()
	host := s.host
	s.baseMu.Unlock()
	return writeJSON(w, http.StatusOK, AgentInfo{s.name(), s.cfg.Dir, s.Port(), host, s.cfg.Version, 1})
}

type commandsBody struct {
	Commands []Command `json:"commands"`
}

func (s *Server) listCommands(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, commandsBody{Commands})
}

// postRestart answers first, then restarts (decision A18).
func (s *Server) postRestart(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Restart == nil {
		return errorf(http.StatusNotImplemented, "not supported: this process cannot restart itself")
	}
	s.emit("server.restart", map[string]any{"via": "rest"})
	if err := writeJSON(w, http.StatusOK, okBody{true}); err != nil {
		return err
	}
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	go func() {
		time.Sleep(restartDelay)
		s.cfg.Restart()
	}()
	return nil
}
