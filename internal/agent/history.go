package agent

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"openagent/internal/llm"
	"openagent/internal/store"
)

// history is the messages table: every message of every session, tool calls
// and results included.
type history struct{ db *store.DB }

// storedMsg is one row.
type storedMsg struct {
	id     int64
	turnID string
	msg    llm.Message
}

// load returns the session's messages that are still in the context window,
// oldest first. A turn that was cut off mid tool round (a call without its
// result) is completed with an error result, so every provider accepts it.
func (h history) load(ctx context.Context, sessionID string) ([]storedMsg, error) {
	rows, err := h.db.QueryContext(ctx, `SELECT id, turn_id, role, content, tool_calls, tool_call_id, tool_name, is_error
		FROM messages WHERE session_id = ? AND trimmed = 0 ORDER BY id`, sessionID)
	if err != nil {
		return nil, fmt.Errorf("load history: %w", err)
	}
	defer rows.Close()
	var out []storedMsg
	for rows.Next() {
		var (
			m                      storedMsg
			role                   string
			calls, callID, toolNam sql.NullString
			isErr                  int
		)
		if err := rows.Scan(&m.id, &m.turnID, &role, &m.msg.Text, &calls, &callID, &toolNam, &isErr); err != nil {
			return nil, fmt.Errorf("load history: %w", err)
		}
		m.msg.Role = llm.Role(role)
		m.msg.ToolCallID, m.msg.ToolName, m.msg.IsError = callID.String, toolNam.String, isErr == 1
		if calls.Valid && calls.String != "" {
			if err := json.Unmarshal([]byte(calls.String), &m.msg.ToolCalls); err != nil {
				return nil, fmt.Errorf("load history: message %d: %w", m.id, err)
			}
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load history: %w", err)
	}
	return repair(out), nil
}

// repair adds an error result for every tool call that has none, right
// after the results that exist (a turn cut off mid tool round).
func repair(in []storedMsg) []storedMsg {
	out := make([]storedMsg, 0, len(in))
	for i := 0; i < len(in); i++ {
		m := in[i]
		out = append(out, m)
		if m.msg.Role != llm.RoleAssistant || len(m.msg.ToolCalls) == 0 {
			continue
		}
		answered := map[string]bool{}
		for i+1 < len(in) && in[i+1].msg.Role == llm.RoleTool {
			i++
			answered[in[i].msg.ToolCallID] = true
			out = append(out, in[i])
		}
		for _, c := range m.msg.ToolCalls {
			if !answered[c.ID] {
				out = append(out, storedMsg{turnID: m.turnID, msg: llm.Message{Role: llm.RoleTool, ToolCallID: c.ID, ToolName: c.Name, Text: "the tool call was interrupted", IsError: true}})
			}
		}
	}
	return out
}

// append stores msgs as part of turnID.
func (h history) append(ctx context.Context, sessionID, turnID, model string, msgs []llm.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	tx, err := h.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save history: %w", err)
	}
	defer tx.Rollback()
	now := float64(time.Now().UnixNano()) / 1e9
	for _, m := range msgs {
		var calls any
		if len(m.ToolCalls) > 0 {
			b, err := json.Marshal(m.ToolCalls)
			if err != nil {
				return fmt.Errorf("save history: %w", err)
			}
			calls = string(b)
		}
		var mdl any
		if m.Role == llm.RoleAssistant {
			mdl = model
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO messages
			(session_id, turn_id, role, content, tool_calls, tool_call_id, tool_name, is_error, model, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			sessionID, turnID, string(m.Role), m.Text, calls, nullStr(m.ToolCallID), nullStr(m.ToolName), boolInt(m.IsError), mdl, now); err != nil {
			return fmt.Errorf("save history: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save history: %w", err)
	}
	return nil
}

// trim marks whole turns as out of the context window.
func (h history) trim(ctx context.Context, sessionID string, turnIDs []string) error {
	for _, t := range turnIDs {
		if _, err := h.db.ExecContext(ctx, `UPDATE messages SET trimmed = 1 WHERE session_id = ? AND turn_id = ?`, sessionID, t); err != nil {
			return fmt.Errorf("trim history: %w", err)
		}
	}
	return nil
}

// forget deletes a session's history.
func (h history) forget(ctx context.Context, sessionID string) error {
	if _, err := h.db.ExecContext(ctx, `DELETE FROM messages WHERE session_id = ?`, sessionID); err != nil {
		return fmt.Errorf("forget session: %w", err)
	}
	return nil
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
