// Package schedule runs scheduled tasks: each task has a 5-field cron
// expression, a descriptor (@daily…) or a one-shot @once:<epoch>, and each
// firing is one agent turn in its own session, scheduler:<task id>:<run id>,
// recorded in the run history.
//
// Timing: one timer to the next due time. Missed firings (the machine slept,
// or the agent was not running) are coalesced: a task that is overdue runs
// once, and its next firing is computed from now. A task never runs twice at
// the same time; a firing that comes due while the previous run is still
// going waits for it and then runs once.
package schedule

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"openagent/internal/agent"
	"openagent/internal/eventlog"
	"openagent/internal/store"
)

// Runner runs one agent turn; *agent.Agent implements it.
type Runner interface {
	Run(ctx context.Context, t agent.Turn, status func(string)) (agent.Reply, error)
}

const (
	// maxTimerWait caps one timer. Go timers run on the monotonic clock, which
	// stands still while the system sleeps, so a long timer would fire late
	// after a wake; waking at least this often re-reads the wall clock.
	maxTimerWait = time.Minute
	// runTimeout bounds one run.
	runTimeout = time.Hour
	// maxParallelRuns bounds runs of different tasks at the same time.
	maxParallelRuns = 2
	// finishTimeout bounds recording a run's end after shutdown began.
	finishTimeout = 5 * time.Second
)

// Config holds the scheduler's dependencies.
type Config struct {
	// DB is openagent.db. Required.
	DB *store.DB
	// Runner runs the turns. Optional: without it every run is recorded as an
	// error saying no model is configured.
	Runner Runner
	// Clock is the time source. Optional: the system clock.
	Clock Clock
	// Log is the human log. Optional.
	Log *slog.Logger
	// Events is logs/events.jsonl. Optional.
	Events *eventlog.Log
}

// Scheduler stores tasks and runs them when due. Build it with New, start it
// with Run; the CRUD methods work whether or not Run is going.
type Scheduler struct {
	db     *store.DB
	runner Runner
	clock  Clock
	log    *slog.Logger
	events *eventlog.Log

	// OnChange is called after every change to a task (action created,
	// updated or deleted), for resource_event broadcasts. Set it before Run
	// and before serving requests. Optional.
	OnChange func(action, id string)

	kick chan struct{} // wakes Run early after a change or a finished run
	sem  chan struct{} // bounds parallel runs

	mu      sync.Mutex
	running map[string]context.CancelFunc // guarded by mu: task id → cancel of its run
	wg      sync.WaitGroup                // runs in flight
}

// New builds a Scheduler; nothing runs until Run.
func New(cfg Config) (*Scheduler, error) {
	if cfg.DB == nil {
		return nil, errors.New("schedule: DB is required")
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Scheduler{
		db: cfg.DB, runner: cfg.Runner, clock: cfg.Clock, events: cfg.Events,
		log:     cfg.Log.With("component", "scheduler"),
		kick:    make(chan struct{}, 1),
		sem:     make(chan struct{}, maxParallelRuns),
		running: map[string]context.CancelFunc{},
	}, nil
}

// Run fires due tasks until ctx ends, then cancels the runs in progress and
// waits for them to be recorded.
func (s *Scheduler) Run(ctx context.Context) error {
	if err := s.recoverState(ctx); err != nil {
		return err
	}
	defer s.wg.Wait()
	for {
		next, err := s.dispatch(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "dispatch tasks", "err", err)
		}
		wait := maxTimerWait
		if !next.IsZero() {
			wait = min(wait, max(next.Sub(s.now()), 0))
		}
		c, stop := s.clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			stop()
			return nil
		case <-c:
		case <-s.kick:
			stop()
		}
	}
}

// now is the wall-clock time without its monotonic reading, so that it
// compares with stored times the same way across a system sleep.
func (s *Scheduler) now() time.Time { return s.clock.Now().Round(0) }

// wake makes Run look at the tasks again.
func (s *Scheduler) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *Scheduler) changed(action, id string) {
	s.wake()
	if s.OnChange != nil {
		s.OnChange(action, id)
	}
}

func (s *Scheduler) emit(event string, fields map[string]any) { s.events.Emit(event, fields) }

// recoverState tidies up after the previous process: runs it left "running"
// were interrupted, and one-shots that already ran are done.
func (s *Scheduler) recoverState(ctx context.Context) error {
	now := epoch(s.now())
	if _, err := s.db.ExecContext(ctx, "UPDATE scheduled_task_runs SET status = 'error', finished_at = ?, error = ? WHERE status = 'running'",
		now, "interrupted: OpenAgent stopped during this run"); err != nil {
		return fmt.Errorf("recover runs: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, "UPDATE scheduled_tasks SET enabled = 0, next_run = NULL WHERE enabled = 1 AND last_run IS NOT NULL AND cron_expression LIKE '@once:%'"); err != nil {
		return fmt.Errorf("recover one-shot tasks: %w", err)
	}
	return nil
}

// dispatch starts every due task that is not already running and returns the
// next due time among the others (zero when there is none).
func (s *Scheduler) dispatch(ctx context.Context) (next time.Time, err error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+taskColumns+" FROM scheduled_tasks WHERE enabled = 1 AND next_run IS NOT NULL ORDER BY next_run")
	if err != nil {
		return time.Time{}, fmt.Errorf("read due tasks: %w", err)
	}
	var tasks []Task
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			rows.Close()
			return time.Time{}, fmt.Errorf("read due tasks: %w", err)
		}
		tasks = append(tasks, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return time.Time{}, fmt.Errorf("read due tasks: %w", err)
	}
	now := s.now()
	for _, t := range tasks {
		if s.isRunning(t.ID) {
			continue // it gets its turn when the run ends (coalesced)
		}
		if t.NextRun.After(now) {
			return t.NextRun, nil
		}
		if err := s.start(ctx, t, now); err != nil {
			s.log.ErrorContext(ctx, "start task", "task_id", t.ID, "err", err)
		}
	}
	return time.Time{}, nil
}

func (s *Scheduler) isRunning(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.running[id]
	return ok
}

// start claims a due task, schedules its next firing from now (so missed
// firings collapse into this one) and runs it in the background.
func (s *Scheduler) start(ctx context.Context, t Task, now time.Time) error {
	expr, err := Parse(t.CronExpression)
	if err != nil {
		// Stored by an older version or edited in the database: stop firing it.
		s.log.WarnContext(ctx, "invalid stored expression; disabling task", "task_id", t.ID, "err", err)
		_, derr := s.db.ExecContext(ctx, "UPDATE scheduled_tasks SET enabled = 0, next_run = NULL WHERE id = ?", t.ID)
		s.changed("updated", t.ID)
		return derr
	}
	enabled, next := true, time.Time{}
	if _, once := expr.Once(); once {
		enabled = false
	} else {
		next = expr.Next(now)
	}
	res, err := s.db.ExecContext(ctx, "UPDATE scheduled_tasks SET last_run = ?, next_run = ?, enabled = ? WHERE id = ? AND updated_at = ? AND enabled = 1",
		epoch(now), nullEpoch(next), enabled, t.ID, t.version)
	if err != nil {
		return fmt.Errorf("claim task: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // edited or deleted meanwhile; the next pass sees the new row
	}
	run := Run{ID: newRunID(), TaskID: t.ID, StartedAt: now, Status: StatusRunning}
	run.SessionID = "scheduler:" + t.ID + ":" + run.ID
	if _, err := s.db.ExecContext(ctx, "INSERT INTO scheduled_task_runs (id, task_id, session_id, started_at, status) VALUES (?, ?, ?, ?, ?)",
		run.ID, run.TaskID, run.SessionID, epoch(run.StartedAt), run.Status); err != nil {
		return fmt.Errorf("record run: %w", err)
	}
	rctx, cancel := context.WithTimeout(ctx, runTimeout)
	s.mu.Lock()
	s.running[t.ID] = cancel
	s.mu.Unlock()
	s.wg.Add(1)
	go s.execute(rctx, cancel, t, run)
	return nil
}

// execute runs one firing as an agent turn and records how it went.
func (s *Scheduler) execute(ctx context.Context, cancel context.CancelFunc, t Task, run Run) {
	defer s.wg.Done()
	defer func() {
		cancel()
		s.mu.Lock()
		delete(s.running, t.ID)
		s.mu.Unlock()
		// last_run changed; a task deleted during its run was announced already.
		gctx, gcancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
		defer gcancel()
		if _, err := s.Get(gctx, t.ID); errors.Is(err, ErrNotFound) {
			s.wake()
			return
		}
		s.changed("updated", t.ID)
	}()
	s.emit("task.run", map[string]any{"task_id": t.ID, "run_id": run.ID, "name": t.Name})
	s.log.InfoContext(ctx, "task run", "task_id", t.ID, "run_id", run.ID)

	var reply agent.Reply
	err := agent.ErrNoModel
	select {
	case s.sem <- struct{}{}:
		if s.runner != nil {
			turn := agent.Turn{ClientID: "scheduler", SessionID: run.SessionID, Channel: "scheduler", Text: t.Prompt}
			reply, err = s.runner.Run(ctx, turn, func(string) {})
		}
		<-s.sem
	case <-ctx.Done():
		err = ctx.Err()
	}

	run.FinishedAt = s.now()
	run.Model, run.ReplyExcerpt = reply.Model, excerpt(reply.Text)
	switch {
	case err == nil:
		run.Status = StatusOK
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		run.Status, run.Error = StatusCancelled, cancelReason(ctx)
	default:
		run.Status, run.Error = StatusError, err.Error()
	}
	// Record even when shutdown cancelled ctx.
	fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer fcancel()
	if err := s.finish(fctx, &run); err != nil {
		s.log.ErrorContext(fctx, "record run", "task_id", t.ID, "run_id", run.ID, "err", err)
	}
	fields := map[string]any{"task_id": t.ID, "run_id": run.ID, "status": run.Status,
		"ms": run.FinishedAt.Sub(run.StartedAt).Milliseconds(), "model": run.Model, "cost": run.Cost}
	if run.Status == StatusOK {
		s.emit("task.done", fields)
		s.log.InfoContext(fctx, "task done", "task_id", t.ID, "run_id", run.ID, "model", run.Model)
	} else {
		fields["error"] = run.Error
		s.emit("task.error", fields)
		s.log.WarnContext(fctx, "task failed", "task_id", t.ID, "run_id", run.ID, "status", run.Status, "err", run.Error)
	}
}

func cancelReason(ctx context.Context) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("stopped: the run took longer than %s", runTimeout)
	}
	return "stopped: the task was deleted or OpenAgent shut down"
}

// finish records the end of a run, with the cost of its session.
func (s *Scheduler) finish(ctx context.Context, run *Run) error {
	var cost sql.NullFloat64
	if err := s.db.QueryRowContext(ctx, "SELECT SUM(cost) FROM usage_log WHERE session_id = ?", run.SessionID).Scan(&cost); err != nil {
		return fmt.Errorf("sum run cost: %w", err)
	}
	run.Cost = cost.Float64
	_, err := s.db.ExecContext(ctx, "UPDATE scheduled_task_runs SET finished_at = ?, status = ?, model = ?, cost = ?, reply_excerpt = ?, error = ? WHERE id = ?",
		epoch(run.FinishedAt), run.Status, run.Model, run.Cost, run.ReplyExcerpt, run.Error, run.ID)
	if err != nil {
		return fmt.Errorf("record run end: %w", err)
	}
	_, err = s.db.ExecContext(ctx, `DELETE FROM scheduled_task_runs WHERE task_id = ? AND id NOT IN
		(SELECT id FROM scheduled_task_runs WHERE task_id = ? ORDER BY started_at DESC LIMIT ?)`, run.TaskID, run.TaskID, keepRuns)
	if err != nil {
		return fmt.Errorf("prune runs: %w", err)
	}
	return nil
}

func newRunID() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
