package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"openagent/internal/agent"
	"openagent/internal/llm"
)

// Transcripts backs /api/sessions: the conversations the agent has stored,
// so a client that was not there (another browser, the phone) can show
// them. *agent.Agent implements it.
type Transcripts interface {
	Sessions(ctx context.Context) ([]agent.SessionInfo, error)
	Transcript(ctx context.Context, sessionID string) (entries []agent.Entry, found bool, err error)
}

type sessionSummary struct {
	ID        string  `json:"id"`
	Title     string  `json:"title"`
	Messages  int     `json:"messages"`
	CreatedAt float64 `json:"created_at"`
	UpdatedAt float64 `json:"updated_at"`
}

type sessionMessage struct {
	Role        string        `json:"role"` // user or assistant
	Text        string        `json:"text"`
	Model       string        `json:"model,omitempty"`
	CreatedAt   float64       `json:"created_at"`
	Attachments []Attachment  `json:"attachments"`
	Tools       []sessionTool `json:"tools,omitempty"`
}

// sessionTool has the fields of a tool status event (contract §2.7).
type sessionTool struct {
	Tool   string          `json:"tool"`
	Status string          `json:"status"` // done or error
	Params json.RawMessage `json:"params,omitempty"`
	Result string          `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
}

// maxSessionToolResult bounds a tool result in a transcript, as in status events.
const maxSessionToolResult = 200

func (s *Server) transcripts() (Transcripts, error) {
	if s.cfg.Transcripts == nil {
		return nil, errorf(http.StatusServiceUnavailable, "conversation history is not available")
	}
	return s.cfg.Transcripts, nil
}

// listSessions answers GET /api/sessions, the most recently active first.
func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) error {
	t, err := s.transcripts()
	if err != nil {
		return err
	}
	list, err := t.Sessions(r.Context())
	if err != nil {
		return err
	}
	out := make([]sessionSummary, len(list))
	for i, x := range list {
		out[i] = sessionSummary{ID: x.ID, Title: x.Title, Messages: x.Messages, CreatedAt: unixSeconds(x.Created), UpdatedAt: unixSeconds(x.Updated)}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

// getSession answers GET /api/sessions/{id}: the user messages, with the
// files they named as attachments, and each turn's answer with its tools.
func (s *Server) getSession(w http.ResponseWriter, r *http.Request) error {
	t, err := s.transcripts()
	if err != nil {
		return err
	}
	id, err := url.PathUnescape(chi.URLParam(r, "id"))
	if err != nil {
		return errorf(http.StatusBadRequest, "invalid session id: "+err.Error())
	}
	entries, found, err := t.Transcript(r.Context(), id)
	if err != nil {
		return err
	}
	if !found {
		return errorf(http.StatusNotFound, "no conversation with id "+id)
	}
	out := make([]sessionMessage, len(entries))
	for i, e := range entries {
		m := sessionMessage{Role: string(e.Role), Model: e.Model, CreatedAt: unixSeconds(e.Time)}
		if e.Role == llm.RoleUser {
			words, files := agent.SplitUserMessage(e.Text)
			m.Text, m.Attachments = words, make([]Attachment, len(files))
			for j, f := range files {
				m.Attachments[j] = Attachment{Type: f.Type, Path: f.Path, Filename: f.Name}
			}
		} else {
			m.Text, m.Attachments = parseMarkers(e.Text)
		}
		for _, u := range e.Tools {
			st := sessionTool{Tool: u.Name, Status: "done", Params: u.Args}
			if u.Error {
				st.Status, st.Error = "error", truncateRunes(u.Result, maxSessionToolResult)
			} else {
				st.Result = truncateRunes(u.Result, maxSessionToolResult)
			}
			m.Tools = append(m.Tools, st)
		}
		out[i] = m
	}
	return writeJSON(w, http.StatusOK, map[string]any{"id": id, "messages": out})
}

// deleteSession answers DELETE /api/sessions/{id}: the stored history is
// erased, as /clear does.
func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Agent == nil {
		return errorf(http.StatusServiceUnavailable, "conversation history is not available")
	}
	id, err := url.PathUnescape(chi.URLParam(r, "id"))
	if err != nil {
		return errorf(http.StatusBadRequest, "invalid session id: "+err.Error())
	}
	if err := s.cfg.Agent.Forget(r.Context(), id); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, okBody{OK: true})
}

// truncateRunes cuts s to n runes, marking the cut with "…".
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
