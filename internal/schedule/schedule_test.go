package schedule

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"openagent/internal/agent"
	"openagent/internal/store"
)

// wait bounds every wait in these tests, so a bug fails instead of hanging.
const wait = 5 * time.Second

// fakeClock is a Clock whose time moves only when the test says so. Timers
// fire when Advance reaches their deadline, as after a system sleep.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
	made   chan time.Time // receives each new timer's deadline
}

type fakeTimer struct {
	at time.Time
	c  chan time.Time
}

func newFakeClock(t time.Time) *fakeClock {
	return &fakeClock{now: t, made: make(chan time.Time, 1000)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ft := &fakeTimer{at: c.now.Add(d), c: make(chan time.Time, 1)}
	c.made <- ft.at
	if d <= 0 {
		ft.c <- c.now
		return ft.c, func() bool { return false }
	}
	c.timers = append(c.timers, ft)
	return ft.c, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, x := range c.timers {
			if x == ft {
				c.timers = append(c.timers[:i], c.timers[i+1:]...)
				return true
			}
		}
		return false
	}
}

// Advance moves the time forward and fires the timers that came due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.timers[:0]
	for _, ft := range c.timers {
		if ft.at.After(c.now) {
			kept = append(kept, ft)
			continue
		}
		ft.c <- c.now
	}
	c.timers = kept
}

// fakeRunner stands in for the agent. It records every turn, tracks how
// many runs of one task overlap, and can hold runs until released.
type fakeRunner struct {
	db      *store.DB
	hold    chan struct{} // when non-nil, each run waits for a receive from it
	started chan agent.Turn
	err     error

	mu         sync.Mutex
	turns      []agent.Turn
	active     map[string]int // task id → runs in progress
	maxOverlap int
}

func newFakeRunner(db *store.DB) *fakeRunner {
	return &fakeRunner{db: db, started: make(chan agent.Turn, 100), active: map[string]int{}}
}

func (r *fakeRunner) Run(ctx context.Context, t agent.Turn, status func(string)) (agent.Reply, error) {
	task := strings.Split(t.SessionID, ":")[1]
	r.mu.Lock()
	r.turns = append(r.turns, t)
	r.active[task]++
	r.maxOverlap = max(r.maxOverlap, r.active[task])
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.active[task]--
		r.mu.Unlock()
	}()
	r.started <- t
	if r.hold != nil {
		select {
		case <-r.hold:
		case <-ctx.Done():
			return agent.Reply{}, ctx.Err()
		}
	}
	if r.err != nil {
		return agent.Reply{}, r.err
	}
	// Record usage the way the agent does: two model calls in this session.
	for _, cost := range []float64{0.25, 0.5} {
		if _, err := r.db.ExecContext(ctx, "INSERT INTO usage_log (id, timestamp, model, input_tokens, output_tokens, cost, session_id, year_month) VALUES (?, ?, ?, 10, 20, ?, ?, '2026-03')",
			newUUID(), 1.0, "fake:m1", cost, t.SessionID); err != nil {
			return agent.Reply{}, err
		}
	}
	return agent.Reply{Text: "Summary: " + strings.Repeat("x", 600), Model: "fake:m1"}, nil
}

func (r *fakeRunner) calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.turns)
}

func openDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "openagent.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// t0 is a Monday morning, local time.
var t0 = time.Date(2026, 3, 2, 10, 30, 0, 0, time.Local)

func newTestScheduler(t *testing.T, runner Runner, clock Clock) (*Scheduler, *store.DB) {
	t.Helper()
	db := openDB(t)
	if fr, ok := runner.(*fakeRunner); ok {
		fr.db = db
	}
	s, err := New(Config{DB: db, Runner: runner, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return s, db
}

func mustCreate(t *testing.T, s *Scheduler, expr string) Task {
	t.Helper()
	task, err := s.Create(context.Background(), NewTask{Name: "digest", CronExpression: expr, Prompt: "summarise my inbox notes"})
	if err != nil {
		t.Fatalf("Create(%q): %v", expr, err)
	}
	return task
}

func TestParse(t *testing.T) {
	good := []string{"0 9 * * *", "*/15 * * * 1-5", "@daily", "@hourly", "@weekly", "@every 90m", "@once:1767225600", "@once:1767225600.25", "  @daily  "}
	for _, expr := range good {
		if _, err := Parse(expr); err != nil {
			t.Errorf("Parse(%q) = %v, want nil", expr, err)
		}
	}
	bad := []struct{ expr, detail string }{
		{"", "empty"},
		{"* * *", "expected exactly 5 fields, found 3"},
		{"0 9 * * * *", "expected exactly 5 fields, found 6"},
		{"61 * * * *", "above maximum (59)"},
		{"0 25 * * *", "above maximum (23)"},
		{"*/0 * * * *", "step of range should be a positive number"},
		{"@sometimes", "unrecognized descriptor"},
		{"0 0 30 2 *", "never fires"},
		{"@once:tomorrow", "@once needs a positive epoch"},
		{"@once:-5", "@once needs a positive epoch"},
		{"@once:NaN", "@once needs a positive epoch"},
	}
	for _, c := range bad {
		_, err := Parse(c.expr)
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("Parse(%q) = %v, want a ValidationError", c.expr, err)
			continue
		}
		prefix := "Invalid cron expression '" + strings.TrimSpace(c.expr) + "': "
		if !strings.HasPrefix(ve.Msg, prefix) || !strings.Contains(ve.Msg, c.detail) {
			t.Errorf("Parse(%q) = %q, want %q…%q", c.expr, ve.Msg, prefix, c.detail)
		}
	}
}

func TestNext(t *testing.T) {
	day := func(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, time.Local) }
	cases := []struct {
		expr     string
		from     time.Time
		want     time.Time
		wantOnce bool
	}{
		{"0 9 * * *", day(2, 8, 0), day(2, 9, 0), false},
		{"0 9 * * *", day(2, 9, 0), day(3, 9, 0), false}, // strictly after
		{"@hourly", day(2, 10, 30), day(2, 11, 0), false},
		{"@daily", day(2, 10, 30), day(3, 0, 0), false},
		{"*/15 * * * *", day(2, 10, 31), day(2, 10, 45), false},
		{"0 9 * * 1-5", day(6, 9, 0), day(9, 9, 0), false}, // Friday → Monday
		{"@once:1772445600", day(2, 10, 30), time.Unix(1772445600, 0), true},
		{"@once:1772445600", day(20, 10, 30), time.Unix(1772445600, 0), true}, // in the past: still its time
	}
	for _, c := range cases {
		e, err := Parse(c.expr)
		if err != nil {
			t.Fatalf("Parse(%q): %v", c.expr, err)
		}
		if got := e.Next(c.from); !got.Equal(c.want) {
			t.Errorf("Next(%q, %v) = %v, want %v", c.expr, c.from, got, c.want)
		}
		if _, once := e.Once(); once != c.wantOnce {
			t.Errorf("Once(%q) = %v, want %v", c.expr, once, c.wantOnce)
		}
	}
}

func TestTaskCRUD(t *testing.T) {
	clock := newFakeClock(t0)
	s, _ := newTestScheduler(t, nil, clock)
	ctx := context.Background()
	var changes []string
	s.OnChange = func(action, id string) { changes = append(changes, action+" "+id) }

	for _, c := range []struct {
		in   NewTask
		want string
	}{
		{NewTask{CronExpression: "@daily", Prompt: "p"}, "name is required"},
		{NewTask{Name: "  ", CronExpression: "", Prompt: ""}, "name is required"},
		{NewTask{Name: "n", CronExpression: " ", Prompt: "p"}, "cron_expression is required"},
		{NewTask{Name: "n", CronExpression: "@daily", Prompt: ""}, "prompt is required"},
		{NewTask{Name: "n", CronExpression: "every day", Prompt: "p"}, "Invalid cron expression 'every day': expected exactly 5 fields, found 2"},
	} {
		if _, err := s.Create(ctx, c.in); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("Create(%+v) = %v, want %q", c.in, err, c.want)
		}
	}

	daily := mustCreate(t, s, " @daily ")
	if daily.CronExpression != "@daily" || !daily.Enabled || !daily.NextRun.Equal(time.Date(2026, 3, 3, 0, 0, 0, 0, time.Local)) {
		t.Fatalf("created %+v, want enabled @daily next midnight", daily)
	}
	clock.Advance(time.Second)
	off := false
	hourly, err := s.Create(ctx, NewTask{Name: "hourly", CronExpression: "@hourly", Prompt: "p", Enabled: &off})
	if err != nil || hourly.Enabled || !hourly.NextRun.IsZero() {
		t.Fatalf("create disabled = %+v, %v; want disabled with no next run", hourly, err)
	}
	clock.Advance(time.Second)
	soon := mustCreate(t, s, "45 10 * * *")

	list, _ := s.List(ctx, false)
	if got := ids(list); got != ids([]Task{soon, hourly, daily}) {
		t.Errorf("List = %s, want newest first", got)
	}
	list, _ = s.List(ctx, true)
	if got := ids(list); got != ids([]Task{soon, daily}) {
		t.Errorf("List(enabled only) = %s, want soonest first", got)
	}

	if _, err := s.Update(ctx, daily.ID, TaskPatch{}); err == nil || !strings.HasPrefix(err.Error(), "No fields to update.") {
		t.Errorf("Update(no fields) = %v", err)
	}
	empty := " "
	if _, err := s.Update(ctx, daily.ID, TaskPatch{Prompt: &empty}); err == nil || err.Error() != "prompt cannot be empty" {
		t.Errorf("Update(empty prompt) = %v", err)
	}
	bad := "0 0 * *"
	if _, err := s.Update(ctx, daily.ID, TaskPatch{CronExpression: &bad}); err == nil || !strings.Contains(err.Error(), "Invalid cron expression '0 0 * *'") {
		t.Errorf("Update(bad cron) = %v", err)
	}
	if _, err := s.Update(ctx, "nope", TaskPatch{Enabled: &off}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Update(missing) = %v, want ErrNotFound", err)
	}

	got, err := s.Update(ctx, daily.ID, TaskPatch{Enabled: &off})
	if err != nil || got.Enabled || !got.NextRun.IsZero() {
		t.Errorf("disable = %+v, %v; want no next run", got, err)
	}
	on := true
	got, err = s.Update(ctx, hourly.ID, TaskPatch{Enabled: &on})
	if err != nil || !got.Enabled || !got.NextRun.Equal(time.Date(2026, 3, 2, 11, 0, 0, 0, time.Local)) {
		t.Errorf("enable = %+v, %v; want next run 11:00", got, err)
	}
	expr, name := "0 12 * * *", " Noon "
	got, err = s.Update(ctx, hourly.ID, TaskPatch{CronExpression: &expr, Name: &name})
	if err != nil || got.Name != "Noon" || !got.NextRun.Equal(time.Date(2026, 3, 2, 12, 0, 0, 0, time.Local)) {
		t.Errorf("change cron = %+v, %v; want Noon at 12:00", got, err)
	}
	if stored, _ := s.Get(ctx, hourly.ID); stored.Name != "Noon" || stored.CronExpression != expr || !stored.NextRun.Equal(got.NextRun) {
		t.Errorf("Get after update = %+v", stored)
	}

	if err := s.Delete(ctx, soon.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, soon.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(deleted) = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, soon.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Delete twice = %v, want ErrNotFound", err)
	}
	want := []string{"created " + daily.ID, "created " + hourly.ID, "created " + soon.ID,
		"updated " + daily.ID, "updated " + hourly.ID, "updated " + hourly.ID, "deleted " + soon.ID}
	if strings.Join(changes, ",") != strings.Join(want, ",") {
		t.Errorf("OnChange calls = %v, want %v", changes, want)
	}
}

func ids(ts []Task) string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Name+"/"+t.ID[:8])
	}
	return strings.Join(out, " ")
}

// settle waits for every run started so far to be recorded.
func settle(s *Scheduler) { s.wg.Wait() }

func TestMissedRunsAfterSleepRunOnce(t *testing.T) {
	clock := newFakeClock(t0)
	runner := newFakeRunner(nil)
	s, _ := newTestScheduler(t, runner, clock)
	ctx := context.Background()
	task := mustCreate(t, s, "@hourly") // next: 11:00

	if next, _ := s.dispatch(ctx); !next.Equal(t0.Add(30*time.Minute)) || runner.calls() != 0 {
		t.Fatalf("before sleep: next %v, %d runs; want 11:00 and none", next, runner.calls())
	}
	// The laptop sleeps for ten hours: ten hourly firings are missed.
	clock.Advance(10 * time.Hour) // 20:30
	s.dispatch(ctx)
	settle(s)
	next, err := s.dispatch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	settle(s)
	if runner.calls() != 1 {
		t.Fatalf("after waking: %d runs, want exactly 1", runner.calls())
	}
	wantNext := time.Date(2026, 3, 2, 21, 0, 0, 0, time.Local)
	if !next.Equal(wantNext) {
		t.Errorf("next due = %v, want %v (from now, not the missed slots)", next, wantNext)
	}
	got, _ := s.Get(ctx, task.ID)
	if !got.LastRun.Equal(t0.Add(10*time.Hour)) || !got.NextRun.Equal(wantNext) || !got.Enabled {
		t.Errorf("task after run = last %v next %v enabled %v", got.LastRun, got.NextRun, got.Enabled)
	}
	// The next slot fires normally.
	clock.Advance(30 * time.Minute)
	s.dispatch(ctx)
	settle(s)
	if runner.calls() != 2 {
		t.Errorf("at 21:00: %d runs, want 2", runner.calls())
	}
}

func TestRunsNeverOverlap(t *testing.T) {
	clock := newFakeClock(t0)
	runner := newFakeRunner(nil)
	runner.hold = make(chan struct{})
	s, _ := newTestScheduler(t, runner, clock)
	ctx := context.Background()
	mustCreate(t, s, "*/5 * * * *") // next 10:35

	clock.Advance(5 * time.Minute)
	s.dispatch(ctx)
	first := recvTurn(t, runner.started)
	// The run takes 20 minutes: four more slots come due meanwhile.
	for range 4 {
		clock.Advance(5 * time.Minute)
		s.dispatch(ctx)
	}
	if n := runner.calls(); n != 1 {
		t.Fatalf("while the first run is going: %d runs, want 1", n)
	}
	runner.hold <- struct{}{}
	settle(s)
	s.dispatch(ctx) // the coalesced firing
	second := recvTurn(t, runner.started)
	runner.hold <- struct{}{}
	settle(s)
	s.dispatch(ctx)
	settle(s)
	if n := runner.calls(); n != 2 {
		t.Errorf("after the long run: %d runs, want 2 (one coalesced firing)", n)
	}
	if runner.maxOverlap != 1 {
		t.Errorf("max overlapping runs of one task = %d, want 1", runner.maxOverlap)
	}
	if first.SessionID == second.SessionID || !strings.HasPrefix(first.SessionID, "scheduler:") {
		t.Errorf("sessions %q and %q: want distinct scheduler:<task>:<run>", first.SessionID, second.SessionID)
	}
}

func recvTurn(t *testing.T, c chan agent.Turn) agent.Turn {
	t.Helper()
	select {
	case turn := <-c:
		return turn
	case <-time.After(wait):
		t.Fatal("no run started")
	}
	return agent.Turn{}
}

func TestRunHistory(t *testing.T) {
	clock := newFakeClock(t0)
	runner := newFakeRunner(nil)
	s, _ := newTestScheduler(t, runner, clock)
	ctx := context.Background()
	task := mustCreate(t, s, "@hourly")

	clock.Advance(30 * time.Minute)
	s.dispatch(ctx)
	settle(s)
	runner.err = errors.New("provider said no")
	clock.Advance(time.Hour)
	s.dispatch(ctx)
	settle(s)

	runs, err := s.Runs(ctx, task.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 {
		t.Fatalf("Runs = %d, want 2", len(runs))
	}
	failed, ok := runs[0], runs[1] // newest first
	if ok.Status != StatusOK || ok.Model != "fake:m1" || ok.Cost != 0.75 || ok.Error != "" {
		t.Errorf("ok run = %+v, want ok, fake:m1, cost 0.75", ok)
	}
	if !ok.StartedAt.Equal(t0.Add(30*time.Minute)) || ok.FinishedAt.IsZero() {
		t.Errorf("ok run times = %v → %v", ok.StartedAt, ok.FinishedAt)
	}
	if n := len([]rune(ok.ReplyExcerpt)); n != excerptRunes+1 || !strings.HasPrefix(ok.ReplyExcerpt, "Summary: xxx") {
		t.Errorf("excerpt has %d runes: %q…", n, ok.ReplyExcerpt[:20])
	}
	if ok.SessionID != "scheduler:"+task.ID+":"+ok.ID {
		t.Errorf("session = %q, want scheduler:<task>:<run>", ok.SessionID)
	}
	if failed.Status != StatusError || failed.Error != "provider said no" || failed.Cost != 0 {
		t.Errorf("failed run = %+v", failed)
	}
	if _, err := s.Runs(ctx, "nope", 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("Runs(missing) = %v, want ErrNotFound", err)
	}
}

func TestRunWithoutAgentRecordsNoModel(t *testing.T) {
	clock := newFakeClock(t0)
	s, _ := newTestScheduler(t, nil, clock)
	ctx := context.Background()
	task := mustCreate(t, s, "@hourly")
	clock.Advance(time.Hour)
	s.dispatch(ctx)
	settle(s)
	runs, _ := s.Runs(ctx, task.ID, 0)
	if len(runs) != 1 || runs[0].Status != StatusError || runs[0].Error != agent.ErrNoModel.Error() {
		t.Fatalf("runs = %+v, want one error run with %q", runs, agent.ErrNoModel)
	}
}

func TestOneShot(t *testing.T) {
	clock := newFakeClock(t0)
	runner := newFakeRunner(nil)
	s, _ := newTestScheduler(t, runner, clock)
	ctx := context.Background()
	at := t0.Add(90 * time.Second)
	task := mustCreate(t, s, "@once:"+strconv.FormatInt(at.Unix(), 10))
	if !task.RunOnce() || !task.NextRun.Equal(at) {
		t.Fatalf("one-shot = %+v, want run_once at %v", task, at)
	}
	clock.Advance(2 * time.Minute)
	s.dispatch(ctx)
	settle(s)
	s.dispatch(ctx)
	settle(s)
	got, _ := s.Get(ctx, task.ID)
	if runner.calls() != 1 || got.Enabled || !got.NextRun.IsZero() {
		t.Errorf("after firing: %d runs, enabled %v, next %v; want 1 run, disabled, none", runner.calls(), got.Enabled, got.NextRun)
	}
}

// TestRunLoop drives Run itself: it waits with a timer for the next due
// time (capped), fires on time, reschedules after a change, and on shutdown
// cancels the run in progress and records it.
func TestRunLoop(t *testing.T) {
	clock := newFakeClock(t0)
	runner := newFakeRunner(nil)
	runner.hold = make(chan struct{})
	s, _ := newTestScheduler(t, runner, clock)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	if at := recvTimer(t, clock); !at.Equal(t0.Add(maxTimerWait)) {
		t.Fatalf("idle timer at %v, want the cap %v", at, t0.Add(maxTimerWait))
	}
	task := mustCreate(t, s, "@once:"+strconv.FormatInt(t0.Add(40*time.Second).Unix(), 10))
	if at := recvTimer(t, clock); !at.Equal(t0.Add(40 * time.Second)) {
		t.Fatalf("after create: timer at %v, want the due time %v", at, t0.Add(40*time.Second))
	}
	clock.Advance(40 * time.Second)
	turn := recvTurn(t, runner.started)
	if turn.Text != "summarise my inbox notes" || turn.Channel != "scheduler" || turn.ClientID != "scheduler" {
		t.Errorf("turn = %+v", turn)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(wait):
		t.Fatal("Run did not return after cancel")
	}
	runs, _ := s.Runs(context.Background(), task.ID, 0)
	if len(runs) != 1 || runs[0].Status != StatusCancelled {
		t.Fatalf("runs after shutdown = %+v, want one cancelled run", runs)
	}
}

func recvTimer(t *testing.T, c *fakeClock) time.Time {
	t.Helper()
	select {
	case at := <-c.made:
		return at
	case <-time.After(wait):
		t.Fatal("no timer set")
	}
	return time.Time{}
}

// TestRecoverState: a run the previous process left "running" is marked
// interrupted, and a one-shot that already ran is not fired again; an
// overdue cron task fires once at start.
func TestRecoverState(t *testing.T) {
	clock := newFakeClock(t0)
	runner := newFakeRunner(nil)
	s, db := newTestScheduler(t, runner, clock)
	ctx := context.Background()
	once := mustCreate(t, s, "@once:"+strconv.FormatInt(t0.Add(-time.Hour).Unix(), 10))
	daily := mustCreate(t, s, "@daily")
	if _, err := db.Exec("UPDATE scheduled_tasks SET last_run = ?, next_run = ? WHERE id = ?", epoch(t0.Add(-time.Hour)), epoch(t0.Add(-time.Hour)), once.ID); err != nil {
		t.Fatal(err)
	}
	// The agent was down over midnight.
	if _, err := db.Exec("UPDATE scheduled_tasks SET next_run = ? WHERE id = ?", epoch(t0.Add(-10*time.Hour)), daily.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO scheduled_task_runs (id, task_id, session_id, started_at, status) VALUES ('r1', ?, 's', ?, 'running')", daily.ID, epoch(t0.Add(-time.Hour))); err != nil {
		t.Fatal(err)
	}
	if err := s.recoverState(ctx); err != nil {
		t.Fatal(err)
	}
	s.dispatch(ctx)
	settle(s)
	if got, _ := s.Get(ctx, once.ID); got.Enabled {
		t.Errorf("one-shot that already ran is still enabled")
	}
	runs, _ := s.Runs(ctx, daily.ID, 0)
	if len(runs) != 2 || runs[1].Status != StatusError || !strings.Contains(runs[1].Error, "interrupted") || runs[0].Status != StatusOK {
		t.Errorf("runs = %+v, want the interrupted one marked error and one catch-up run", runs)
	}
	if runner.calls() != 1 {
		t.Errorf("%d runs, want 1 (the overdue daily task, once)", runner.calls())
	}
}

// TestDeleteCancelsRun: deleting a task stops its run, and nothing is
// announced about it afterwards.
func TestDeleteCancelsRun(t *testing.T) {
	clock := newFakeClock(t0)
	runner := newFakeRunner(nil)
	runner.hold = make(chan struct{})
	s, _ := newTestScheduler(t, runner, clock)
	ctx := context.Background()
	var mu sync.Mutex
	var changes []string
	s.OnChange = func(action, id string) {
		mu.Lock()
		changes = append(changes, action)
		mu.Unlock()
	}
	task := mustCreate(t, s, "@hourly")
	clock.Advance(time.Hour)
	s.dispatch(ctx)
	recvTurn(t, runner.started)
	if err := s.Delete(ctx, task.ID); err != nil {
		t.Fatal(err)
	}
	settle(s) // returns only because the run was cancelled
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(changes, ","); got != "created,deleted" {
		t.Errorf("OnChange actions = %s, want created,deleted", got)
	}
}
