package agent

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"openagent/internal/llm"
)

// The stored conversations, for clients that were not there when they
// happened (another browser, the phone): every message of every session is
// kept in the messages table, trimmed ones included.

// SessionInfo summarises one stored conversation.
type SessionInfo struct {
	ID string
	// Title is the first user message (its own words, without the attached
	// files' preamble), cut to titleRunes.
	Title string
	// Messages counts the user messages and the answers.
	Messages         int
	Created, Updated time.Time
}

// Entry is one message of a transcript: what the user sent, or the answer
// that ended a turn with the tools the turn ran.
type Entry struct {
	Role  llm.Role // RoleUser or RoleAssistant
	Text  string
	Model string
	Time  time.Time
	Tools []ToolUse
}

// ToolUse is one tool call of a turn and how it ended.
type ToolUse struct {
	Name   string
	Args   json.RawMessage
	Result string
	Error  bool
}

const titleRunes = 60

// Sessions lists the stored conversations, the most recently active first.
func (a *Agent) Sessions(ctx context.Context) ([]SessionInfo, error) {
	// The conversations table is kept by triggers on messages (migration 0006).
	rows, err := a.cfg.DB.QueryContext(ctx, `SELECT session_id, created_at, updated_at, messages, first_user
		FROM conversations ORDER BY updated_at DESC, session_id`)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	out := []SessionInfo{}
	for rows.Next() {
		var (
			s                SessionInfo
			created, updated float64
			first            string
		)
		if err := rows.Scan(&s.ID, &created, &updated, &s.Messages, &first); err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		s.Created, s.Updated = unixTime(created), unixTime(updated)
		words, files := SplitUserMessage(first)
		if strings.TrimSpace(words) == "" && len(files) > 0 {
			words = files[0].Name
		}
		s.Title = truncate(strings.Join(strings.Fields(words), " "), titleRunes)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return out, nil
}

// Transcript is a session's conversation as its clients showed it: user
// messages, and each turn's final answer with the tools it ran. found is
// false for a session with no stored messages.
func (a *Agent) Transcript(ctx context.Context, sessionID string) (entries []Entry, found bool, err error) {
	rows, err := a.cfg.DB.QueryContext(ctx, `SELECT role, content, tool_calls, tool_call_id, is_error, COALESCE(model, ''), created_at
		FROM messages WHERE session_id = ? ORDER BY id`, sessionID)
	if err != nil {
		return nil, false, fmt.Errorf("read session: %w", err)
	}
	defer rows.Close()
	entries = []Entry{}
	var tools []ToolUse
	byCall := map[string]int{} // tool call id → index in tools
	for rows.Next() {
		var (
			role, text     string
			calls, callID  sql.NullString
			isErr          int
			model          string
			created        float64
			assistantCalls []llm.ToolCall
		)
		if err := rows.Scan(&role, &text, &calls, &callID, &isErr, &model, &created); err != nil {
			return nil, false, fmt.Errorf("read session: %w", err)
		}
		found = true
		switch llm.Role(role) {
		case llm.RoleUser:
			tools, byCall = nil, map[string]int{}
			entries = append(entries, Entry{Role: llm.RoleUser, Text: text, Time: unixTime(created)})
		case llm.RoleAssistant:
			if calls.Valid && calls.String != "" {
				if err := json.Unmarshal([]byte(calls.String), &assistantCalls); err != nil {
					return nil, false, fmt.Errorf("read session: %w", err)
				}
			}
			if len(assistantCalls) == 0 {
				entries = append(entries, Entry{Role: llm.RoleAssistant, Text: text, Model: model, Time: unixTime(created), Tools: tools})
				tools, byCall = nil, map[string]int{}
				continue
			}
			for _, c := range assistantCalls {
				byCall[c.ID] = len(tools)
				tools = append(tools, ToolUse{Name: c.Name, Args: c.Args})
			}
		case llm.RoleTool:
			if i, ok := byCall[callID.String]; ok {
				tools[i].Result, tools[i].Error = text, isErr == 1
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("read session: %w", err)
	}
	return entries, found, nil
}

// File is an upload named in a user message.
type File struct{ Type, Name, Path string }

// fileLine is one line of the inline attachment convention.
var fileLine = regexp.MustCompile(`^- (\w+): (.*?) — (?:server|local) path: (.+?)\s*$`)

// SplitUserMessage undoes the inline attachment convention: a user message
// with files starts with "The user attached …", one line per file and a
// hint, then a blank line and the user's text ("User message: <text>" from
// the web UI, the bare text from the bridges). It returns what the user
// typed and the files; any other text comes back as it is.
func SplitUserMessage(text string) (words string, files []File) {
	head, rest, _ := strings.Cut(text, "\n\n")
	if !strings.HasPrefix(head, "The user attached ") {
		return text, nil
	}
	for _, l := range strings.Split(head, "\n") {
		if m := fileLine.FindStringSubmatch(l); m != nil {
			files = append(files, File{Type: m[1], Name: m[2], Path: m[3]})
		}
	}
	if len(files) == 0 {
		return text, nil
	}
	return strings.TrimPrefix(rest, "User message: "), files
}

func unixTime(sec float64) time.Time {
	return time.Unix(0, int64(sec*1e9))
}
