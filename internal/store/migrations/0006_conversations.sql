-- One row per conversation, kept by triggers on messages, so listing the
-- conversations (GET /api/sessions) reads one small table instead of
-- grouping every message ever stored.
CREATE TABLE conversations (
  session_id TEXT PRIMARY KEY,
  first_user TEXT NOT NULL DEFAULT '', -- the first user message, for the title
  messages INTEGER NOT NULL DEFAULT 0, -- user messages and answers (assistant rows without tool calls)
  created_at REAL NOT NULL,
  updated_at REAL NOT NULL
);

INSERT INTO conversations (session_id, first_user, messages, created_at, updated_at)
SELECT session_id,
  COALESCE((SELECT f.content FROM messages f WHERE f.session_id = m.session_id AND f.role = 'user' ORDER BY f.id LIMIT 1), ''),
  SUM(role = 'user' OR (role = 'assistant' AND tool_calls IS NULL)),
  MIN(created_at), MAX(created_at)
FROM messages m GROUP BY session_id;

CREATE TRIGGER messages_conversation_insert AFTER INSERT ON messages BEGIN
  INSERT INTO conversations (session_id, first_user, messages, created_at, updated_at)
  VALUES (NEW.session_id, CASE WHEN NEW.role = 'user' THEN NEW.content ELSE '' END,
    NEW.role = 'user' OR (NEW.role = 'assistant' AND NEW.tool_calls IS NULL), NEW.created_at, NEW.created_at)
  ON CONFLICT (session_id) DO UPDATE SET
    first_user = CASE WHEN first_user = '' AND NEW.role = 'user' THEN NEW.content ELSE first_user END,
    messages = messages + excluded.messages,
    updated_at = MAX(updated_at, NEW.created_at);
END;

CREATE TRIGGER messages_conversation_delete AFTER DELETE ON messages BEGIN
  UPDATE conversations SET messages = messages - (OLD.role = 'user' OR (OLD.role = 'assistant' AND OLD.tool_calls IS NULL))
    WHERE session_id = OLD.session_id;
  DELETE FROM conversations WHERE session_id = OLD.session_id
    AND NOT EXISTS (SELECT 1 FROM messages WHERE session_id = OLD.session_id);
END;
