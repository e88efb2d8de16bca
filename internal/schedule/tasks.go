package schedule

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// ErrNotFound means no task has the given id.
var ErrNotFound = errors.New("task not found")

// ValidationError says what is wrong with a task's fields; Msg is written for
// the user (the gateway answers 400 with it).
type ValidationError struct{ Msg string }

func (e *ValidationError) Error() string { return e.Msg }

// Task is one scheduled task. It marshals to the contract's task object
// (Part B §4.8): epoch-second floats plus local *_iso strings.
type Task struct {
	ID             string
	Name           string
	CronExpression string
	Prompt         string
	Enabled        bool
	LastRun        time.Time // zero: never ran
	NextRun        time.Time // zero: not scheduled
	CreatedAt      time.Time
	UpdatedAt      time.Time

	// version is updated_at exactly as stored; the scheduler claims a due task
	// only if nobody edited it since it was read.
	version float64
}

// RunOnce reports whether the task is a one-shot (@once:<epoch>).
func (t Task) RunOnce() bool {
	return strings.HasPrefix(strings.TrimSpace(t.CronExpression), oncePrefix)
}

// taskJSON is the wire form of a Task.
type taskJSON struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	CronExpression string   `json:"cron_expression"`
	Prompt         string   `json:"prompt"`
	Enabled        bool     `json:"enabled"`
	LastRun        *float64 `json:"last_run"`
	NextRun        *float64 `json:"next_run"`
	CreatedAt      float64  `json:"created_at"`
	UpdatedAt      float64  `json:"updated_at"`
	RunOnce        bool     `json:"run_once"`
	RunAt          *float64 `json:"run_at,omitempty"`
	RunAtISO       string   `json:"run_at_iso,omitempty"`
	LastRunISO     string   `json:"last_run_iso,omitempty"`
	NextRunISO     string   `json:"next_run_iso,omitempty"`
	CreatedAtISO   string   `json:"created_at_iso"`
	UpdatedAtISO   string   `json:"updated_at_iso"`
}

// MarshalJSON writes the contract's task object.
func (t Task) MarshalJSON() ([]byte, error) {
	j := taskJSON{
		ID: t.ID, Name: t.Name, CronExpression: t.CronExpression, Prompt: t.Prompt, Enabled: t.Enabled,
		LastRun: optEpoch(t.LastRun), NextRun: optEpoch(t.NextRun),
		CreatedAt: epoch(t.CreatedAt), UpdatedAt: epoch(t.UpdatedAt),
		RunOnce:    t.RunOnce(),
		LastRunISO: iso(t.LastRun), NextRunISO: iso(t.NextRun),
		CreatedAtISO: iso(t.CreatedAt), UpdatedAtISO: iso(t.UpdatedAt),
	}
	if j.RunOnce {
		if e, err := Parse(t.CronExpression); err == nil {
			at, _ := e.Once()
			j.RunAt, j.RunAtISO = optEpoch(at), iso(at)
		}
	}
	return json.Marshal(j)
}

// isoLayout is the contract's local time without zone.
const isoLayout = "2006-01-02T15:04:05"

func iso(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format(isoLayout)
}

// epoch is t in seconds since 1970 with sub-second precision.
func epoch(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func optEpoch(t time.Time) *float64 {
	if t.IsZero() {
		return nil
	}
	f := epoch(t)
	return &f
}

// fromEpoch is the inverse of epoch; NULL is the zero time.
func fromEpoch(f sql.NullFloat64) time.Time {
	if !f.Valid {
		return time.Time{}
	}
	sec, frac := math.Modf(f.Float64)
	return time.Unix(int64(sec), int64(math.Round(frac*1e9)))
}

func nullEpoch(t time.Time) sql.NullFloat64 {
	if t.IsZero() {
		return sql.NullFloat64{}
	}
	return sql.NullFloat64{Float64: epoch(t), Valid: true}
}

// NewTask is what Create needs. Enabled defaults to true.
type NewTask struct {
	Name           string
	CronExpression string
	Prompt         string
	Enabled        *bool
}

// TaskPatch changes some fields of a task; nil fields stay as they are.
type TaskPatch struct {
	Name           *string
	CronExpression *string
	Prompt         *string
	Enabled        *bool
}

const taskColumns = "id, name, cron_expression, prompt, enabled, last_run, next_run, created_at, updated_at"

type scanner interface{ Scan(dest ...any) error }

func scanTask(row scanner) (Task, error) {
	var t Task
	var last, next sql.NullFloat64
	var created, updated float64
	if err := row.Scan(&t.ID, &t.Name, &t.CronExpression, &t.Prompt, &t.Enabled, &last, &next, &created, &updated); err != nil {
		return Task{}, err
	}
	t.LastRun, t.NextRun = fromEpoch(last), fromEpoch(next)
	t.CreatedAt = fromEpoch(sql.NullFloat64{Float64: created, Valid: true})
	t.UpdatedAt = fromEpoch(sql.NullFloat64{Float64: updated, Valid: true})
	t.version = updated
	return t, nil
}

// List returns the tasks, newest first; with enabledOnly, only enabled tasks,
// soonest first.
func (s *Scheduler) List(ctx context.Context, enabledOnly bool) ([]Task, error) {
	q := "SELECT " + taskColumns + " FROM scheduled_tasks ORDER BY created_at DESC"
	if enabledOnly {
		q = "SELECT " + taskColumns + " FROM scheduled_tasks WHERE enabled = 1 ORDER BY next_run IS NULL, next_run ASC"
	}
	rows, err := s.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	defer rows.Close()
	tasks := []Task{}
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, fmt.Errorf("list tasks: %w", err)
		}
		tasks = append(tasks, t)
	}
	return tasks, rows.Err()
}

// Get returns one task or ErrNotFound.
func (s *Scheduler) Get(ctx context.Context, id string) (Task, error) {
	t, err := scanTask(s.db.QueryRowContext(ctx, "SELECT "+taskColumns+" FROM scheduled_tasks WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Task{}, ErrNotFound
	}
	if err != nil {
		return Task{}, fmt.Errorf("get task: %w", err)
	}
	return t, nil
}

// Create validates and stores a new task, scheduled from now.
func (s *Scheduler) Create(ctx context.Context, in NewTask) (Task, error) {
	t := Task{
		Name:           strings.TrimSpace(in.Name),
		CronExpression: strings.TrimSpace(in.CronExpression),
		Prompt:         strings.TrimSpace(in.Prompt),
		Enabled:        in.Enabled == nil || *in.Enabled,
	}
	switch {
	case t.Name == "":
		return Task{}, &ValidationError{"name is required"}
	case t.CronExpression == "":
		return Task{}, &ValidationError{"cron_expression is required"}
	case t.Prompt == "":
		return Task{}, &ValidationError{"prompt is required"}
	}
	expr, err := Parse(t.CronExpression)
	if err != nil {
		return Task{}, err
	}
	now := s.now()
	t.ID = newUUID()
	t.CreatedAt, t.UpdatedAt = now, now
	if t.Enabled {
		t.NextRun = expr.Next(now)
	}
	_, err = s.db.ExecContext(ctx, "INSERT INTO scheduled_tasks ("+taskColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		t.ID, t.Name, t.CronExpression, t.Prompt, t.Enabled, nullEpoch(t.LastRun), nullEpoch(t.NextRun), epoch(t.CreatedAt), epoch(t.UpdatedAt))
	if err != nil {
		return Task{}, fmt.Errorf("create task: %w", err)
	}
	s.emit("scheduled_task.create", map[string]any{"id": t.ID, "name": t.Name, "cron_expression": t.CronExpression})
	s.changed("created", t.ID)
	return t, nil
}

// Update applies a patch. Re-enabling or changing the expression reschedules
// the task from now.
func (s *Scheduler) Update(ctx context.Context, id string, p TaskPatch) (Task, error) {
	if p.Name == nil && p.CronExpression == nil && p.Prompt == nil && p.Enabled == nil {
		return Task{}, &ValidationError{"No fields to update. Pass name, cron_expression, prompt, or enabled."}
	}
	t, err := s.Get(ctx, id)
	if err != nil {
		return Task{}, err
	}
	trimmed := func(field string, v *string, dst *string) error {
		if v == nil {
			return nil
		}
		if *dst = strings.TrimSpace(*v); *dst == "" {
			return &ValidationError{field + " cannot be empty"}
		}
		return nil
	}
	if err := trimmed("name", p.Name, &t.Name); err != nil {
		return Task{}, err
	}
	if err := trimmed("prompt", p.Prompt, &t.Prompt); err != nil {
		return Task{}, err
	}
	oldExpr := t.CronExpression
	if err := trimmed("cron_expression", p.CronExpression, &t.CronExpression); err != nil {
		return Task{}, err
	}
	expr, err := Parse(t.CronExpression)
	if err != nil {
		return Task{}, err
	}
	now := s.now()
	reschedule := p.CronExpression != nil && t.CronExpression != oldExpr
	if p.Enabled != nil {
		reschedule = reschedule || *p.Enabled
		t.Enabled = *p.Enabled
	}
	switch {
	case !t.Enabled:
		t.NextRun = time.Time{}
	case reschedule || t.NextRun.IsZero():
		t.NextRun = expr.Next(now)
	}
	t.UpdatedAt = now
	res, err := s.db.ExecContext(ctx, "UPDATE scheduled_tasks SET name = ?, cron_expression = ?, prompt = ?, enabled = ?, next_run = ?, updated_at = ? WHERE id = ?",
		t.Name, t.CronExpression, t.Prompt, t.Enabled, nullEpoch(t.NextRun), epoch(t.UpdatedAt), id)
	if err != nil {
		return Task{}, fmt.Errorf("update task: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Task{}, ErrNotFound
	}
	s.emit("scheduled_task.update", map[string]any{"id": id})
	s.changed("updated", id)
	return t, nil
}

// Delete removes a task and its run history, cancelling a run in progress.
func (s *Scheduler) Delete(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, "DELETE FROM scheduled_tasks WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("delete task: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	s.mu.Lock()
	if cancel := s.running[id]; cancel != nil {
		cancel()
	}
	s.mu.Unlock()
	s.emit("scheduled_task.delete", map[string]any{"id": id})
	s.changed("deleted", id)
	return nil
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
