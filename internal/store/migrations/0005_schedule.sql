-- Run history of scheduled tasks (issue 8). One row per firing; the session
-- of a run is scheduler:<task_id>:<id>. Rows go with their task.
CREATE TABLE scheduled_task_runs (
  id TEXT PRIMARY KEY,
  task_id TEXT NOT NULL REFERENCES scheduled_tasks(id) ON DELETE CASCADE,
  session_id TEXT NOT NULL,
  started_at REAL NOT NULL,
  finished_at REAL,
  status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'error', 'cancelled')),
  model TEXT NOT NULL DEFAULT '',
  cost REAL NOT NULL DEFAULT 0,
  reply_excerpt TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX idx_scheduled_task_runs_task ON scheduled_task_runs(task_id, started_at);
-- Per-run cost is SUM(cost) over the run's session.
CREATE INDEX IF NOT EXISTS idx_usage_log_session_id ON usage_log(session_id);
