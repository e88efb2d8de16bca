-- The reference schema (contract Part B §5).
CREATE TABLE scheduled_tasks (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  cron_expression TEXT NOT NULL,
  prompt TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1,
  last_run REAL,
  next_run REAL,
  created_at REAL NOT NULL,
  updated_at REAL NOT NULL
);
CREATE INDEX idx_scheduled_tasks_enabled ON scheduled_tasks(enabled);
CREATE INDEX idx_scheduled_tasks_next_run ON scheduled_tasks(next_run);

CREATE TABLE usage_log (
  id TEXT PRIMARY KEY,
  timestamp REAL NOT NULL,
  model TEXT NOT NULL,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  cost REAL NOT NULL,
  session_id TEXT,
  year_month TEXT NOT NULL
);
CREATE INDEX idx_usage_log_year_month ON usage_log(year_month);
CREATE INDEX idx_usage_log_timestamp ON usage_log(timestamp);

CREATE TABLE sdk_sessions (
  session_id TEXT PRIMARY KEY,
  sdk_session_id TEXT NOT NULL,
  provider TEXT,
  updated_at REAL NOT NULL
);

CREATE TABLE mcps (
  name TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('builtin', 'custom', 'default')),
  builtin_name TEXT,
  command TEXT,
  args_json TEXT DEFAULT '[]',
  url TEXT,
  env_json TEXT DEFAULT '{}',
  headers_json TEXT DEFAULT '{}',
  oauth INTEGER DEFAULT 0,
  enabled INTEGER DEFAULT 1,
  source TEXT DEFAULT 'user',
  created_at REAL,
  updated_at REAL
);

CREATE TABLE models (
  runtime_id TEXT PRIMARY KEY,
  provider TEXT,
  framework TEXT,
  model_id TEXT,
  display_name TEXT,
  input_cost_per_million REAL,
  output_cost_per_million REAL,
  tier_hint TEXT,
  enabled INTEGER DEFAULT 1,
  metadata_json TEXT DEFAULT '{}',
  created_at REAL,
  updated_at REAL
);

CREATE TABLE config_state (
  key TEXT PRIMARY KEY,
  value TEXT,
  updated_at REAL
);

CREATE TABLE session_bindings (
  session_id TEXT PRIMARY KEY,
  provider TEXT,
  bound_at REAL
);
