-- Agent runtime (issue 3): conversation history and exact usage accounting.

-- One row per message of a session, tool calls and tool results included,
-- so a restart loses nothing. turn_id groups a user message with everything
-- the agent produced for it; history trimming drops whole turns.
CREATE TABLE messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id TEXT NOT NULL,
  turn_id TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'tool')),
  content TEXT NOT NULL DEFAULT '',
  tool_calls TEXT,            -- JSON [{id,name,args,signature?}] on assistant rows
  tool_call_id TEXT,          -- on tool rows: the call answered
  tool_name TEXT,             -- on tool rows
  is_error INTEGER NOT NULL DEFAULT 0,
  model TEXT,                 -- runtime id that wrote an assistant row
  trimmed INTEGER NOT NULL DEFAULT 0, -- 1 once dropped from the context window
  created_at REAL NOT NULL
);
CREATE INDEX idx_messages_session ON messages(session_id, trimmed, id);

-- usage_log gains: whether the provider reported the tokens (0) or we
-- estimated them (1), and the cached part of input_tokens.
ALTER TABLE usage_log ADD COLUMN estimated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage_log ADD COLUMN cached_tokens INTEGER NOT NULL DEFAULT 0;
CREATE INDEX idx_usage_log_session ON usage_log(session_id);
