package store

import (
	"context"
	"io/fs"
	"reflect"
	"testing"
	"testing/fstest"
)

// conversationRows is the conversations table, and what grouping the
// messages says it should hold.
func conversationRows(t *testing.T, db *DB) (table, grouped [][]any) {
	t.Helper()
	read := func(q string) [][]any {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out [][]any
		for rows.Next() {
			var id, first string
			var n int
			var c, u float64
			if err := rows.Scan(&id, &first, &n, &c, &u); err != nil {
				t.Fatal(err)
			}
			out = append(out, []any{id, first, n, c, u})
		}
		return out
	}
	table = read(`SELECT session_id, first_user, messages, created_at, updated_at FROM conversations ORDER BY session_id`)
	grouped = read(`SELECT session_id,
		COALESCE((SELECT f.content FROM messages f WHERE f.session_id = m.session_id AND f.role = 'user' ORDER BY f.id LIMIT 1), ''),
		SUM(role = 'user' OR (role = 'assistant' AND tool_calls IS NULL)), MIN(created_at), MAX(created_at)
		FROM messages m GROUP BY session_id ORDER BY session_id`)
	return table, grouped
}

// TestConversationsTable: migration 0006 fills conversations from the
// messages already stored, and its triggers keep it equal to grouping the
// messages as rows are added and sessions are forgotten.
func TestConversationsTable(t *testing.T) {
	ctx := context.Background()
	before := fstest.MapFS{}
	all, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range all {
		if p < "migrations/0006" {
			b, _ := fs.ReadFile(migrations, p)
			before[p] = sqlFile(string(b))
		}
	}
	db := rawDB(t)
	if err := db.migrate(ctx, before); err != nil {
		t.Fatal(err)
	}
	add := func(session, role, content string, calls any, at float64) {
		t.Helper()
		if _, err := db.Exec(`INSERT INTO messages (session_id, turn_id, role, content, tool_calls, created_at) VALUES (?, 't', ?, ?, ?, ?)`,
			session, role, content, calls, at); err != nil {
			t.Fatal(err)
		}
	}
	// Stored before the migration: an ordinary turn, and one with a tool.
	add("a", "user", "hello", nil, 10)
	add("a", "assistant", "hi", nil, 11)
	add("b", "assistant", "", `[{"id":"c"}]`, 5) // a session that starts oddly: no user row first
	add("b", "tool", "result", nil, 6)
	add("b", "user", "what now?", nil, 7)
	add("b", "assistant", "this", nil, 8)
	if err := db.migrate(ctx, migrations); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		table, grouped := conversationRows(t, db)
		if !reflect.DeepEqual(table, grouped) {
			t.Errorf("%s: conversations = %v\nwant (grouped messages) %v", when, table, grouped)
		}
	}
	check("after the migration")
	if table, _ := conversationRows(t, db); len(table) != 2 || table[1][1] != "what now?" || table[1][2] != 2 {
		t.Fatalf("conversations = %v, want b titled by its first user message with 2 messages", table)
	}

	add("a", "user", "again", nil, 20)
	add("a", "assistant", "", `[{"id":"d"}]`, 21)
	add("a", "tool", "r", nil, 22)
	add("a", "assistant", "done", nil, 23)
	add("c", "user", "new one", nil, 30)
	check("after new turns")

	if _, err := db.Exec(`DELETE FROM messages WHERE session_id = 'a'`); err != nil { // what forgetting a session does
		t.Fatal(err)
	}
	check("after forgetting a")
	if _, err := db.Exec(`DELETE FROM messages WHERE session_id = 'b' AND role = 'user'`); err != nil {
		t.Fatal(err)
	}
	if table, _ := conversationRows(t, db); table[0][2] != 1 {
		t.Errorf("after deleting b's user row, conversations = %v, want its count down to 1", table)
	}
}
