package schedule

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Run statuses.
const (
	StatusRunning   = "running"
	StatusOK        = "ok"
	StatusError     = "error"
	StatusCancelled = "cancelled"
)

const (
	// keepRuns is how many runs of one task the history keeps.
	keepRuns = 200
	// excerptRunes bounds the reply excerpt stored with a run.
	excerptRunes = 500
)

// Run is one firing of a task.
type Run struct {
	ID           string
	TaskID       string
	SessionID    string // scheduler:<task id>:<run id>
	StartedAt    time.Time
	FinishedAt   time.Time // zero while running
	Status       string    // running, ok, error or cancelled
	Model        string    // runtime id of the model that answered
	Cost         float64   // US dollars, from usage_log for the run's session
	ReplyExcerpt string
	Error        string
}

// runJSON is the wire form of a Run.
type runJSON struct {
	ID            string   `json:"id"`
	TaskID        string   `json:"task_id"`
	SessionID     string   `json:"session_id"`
	StartedAt     float64  `json:"started_at"`
	FinishedAt    *float64 `json:"finished_at"`
	StartedAtISO  string   `json:"started_at_iso"`
	FinishedAtISO string   `json:"finished_at_iso,omitempty"`
	Status        string   `json:"status"`
	Model         string   `json:"model"`
	Cost          float64  `json:"cost"`
	ReplyExcerpt  string   `json:"reply_excerpt"`
	Error         string   `json:"error,omitempty"`
}

// MarshalJSON writes epoch-second floats plus local *_iso strings, like tasks.
func (r Run) MarshalJSON() ([]byte, error) {
	return json.Marshal(runJSON{
		ID: r.ID, TaskID: r.TaskID, SessionID: r.SessionID,
		StartedAt: epoch(r.StartedAt), FinishedAt: optEpoch(r.FinishedAt),
		StartedAtISO: iso(r.StartedAt), FinishedAtISO: iso(r.FinishedAt),
		Status: r.Status, Model: r.Model, Cost: r.Cost, ReplyExcerpt: r.ReplyExcerpt, Error: r.Error,
	})
}

// Runs returns a task's runs, newest first, at most limit (0 means all kept).
func (s *Scheduler) Runs(ctx context.Context, taskID string, limit int) ([]Run, error) {
	if _, err := s.Get(ctx, taskID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > keepRuns {
		limit = keepRuns
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, task_id, session_id, started_at, finished_at, status, model, cost, reply_excerpt, error
		FROM scheduled_task_runs WHERE task_id = ? ORDER BY started_at DESC LIMIT ?`, taskID, limit)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	defer rows.Close()
	runs := []Run{}
	for rows.Next() {
		var r Run
		var started float64
		var finished sql.NullFloat64
		if err := rows.Scan(&r.ID, &r.TaskID, &r.SessionID, &started, &finished, &r.Status, &r.Model, &r.Cost, &r.ReplyExcerpt, &r.Error); err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		r.StartedAt = fromEpoch(sql.NullFloat64{Float64: started, Valid: true})
		r.FinishedAt = fromEpoch(finished)
		runs = append(runs, r)
	}
	return runs, rows.Err()
}

// excerpt is the start of a reply, cut on a rune boundary.
func excerpt(s string) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= excerptRunes {
		return s
	}
	n := 0
	for i := range s {
		if n == excerptRunes {
			return strings.TrimSpace(s[:i]) + "…"
		}
		n++
	}
	return s
}
