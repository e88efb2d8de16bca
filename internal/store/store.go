// Package store opens openagent.db (SQLite through modernc.org/sqlite) and
// applies the numbered, embedded migrations.
//
// Applied migrations are recorded by name in schema_migrations, so one added
// later with a lower number than some already applied (two branches
// merged) still runs. user_version follows the highest number applied.
package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strconv"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// BusyTimeoutMillis is how long a writer waits for a lock before SQLITE_BUSY.
const BusyTimeoutMillis = 10000

// DB is the agent's database. It embeds *sql.DB; each domain package keeps
// the SQL for its own tables.
type DB struct {
	*sql.DB
	path string
}

// Open opens (creating if needed) the database at path with WAL, a busy
// timeout and foreign keys, and migrates it to the latest version.
func Open(ctx context.Context, path string) (*DB, error) {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeoutMillis))
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_txlock", "immediate")
	// The path is part of a URI: escape the characters that would end or break it.
	esc := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path)
	sdb, err := sql.Open("sqlite", "file:"+esc+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open database %q: %w", path, err)
	}
	db := &DB{DB: sdb, path: path}
	if err := db.migrate(ctx, migrations); err != nil {
		sdb.Close()
		return nil, err
	}
	return db, nil
}

// Path is the database file.
func (db *DB) Path() string { return db.path }

// Version is the schema version (PRAGMA user_version).
func (db *DB) Version(ctx context.Context) (int, error) {
	var v int
	err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

type migration struct {
	version int
	name    string
}

func list(fsys fs.FS) ([]migration, error) {
	ents, err := fs.ReadDir(fsys, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range ents {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %q: name must start with a number and _", e.Name())
		}
		out = append(out, migration{v, e.Name()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("migrations %q and %q share a number", out[i-1].name, out[i].name)
		}
	}
	return out, nil
}

// migrate applies, in number order, every migration of fsys (a folder
// "migrations") that schema_migrations does not list, each in its own
// transaction.
func (db *DB) migrate(ctx context.Context, fsys fs.FS) error {
	ms, err := list(fsys)
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name TEXT PRIMARY KEY,
		applied_at INTEGER NOT NULL DEFAULT (unixepoch())
	)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	applied := map[string]bool{}
	rows, err := db.QueryContext(ctx, `SELECT name FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		applied[n] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	cur, err := db.Version(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if len(applied) == 0 && cur > 0 {
		// A database from before schema_migrations: user_version says
		// which migrations it has.
		for _, m := range ms {
			if m.version <= cur {
				if _, err := db.ExecContext(ctx, `INSERT INTO schema_migrations(name) VALUES (?)`, m.name); err != nil {
					return fmt.Errorf("record migration %s: %w", m.name, err)
				}
				applied[m.name] = true
			}
		}
	}
	for _, m := range ms {
		if applied[m.name] {
			continue
		}
		body, err := fs.ReadFile(fsys, "migrations/"+m.name)
		if err != nil {
			return err
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("apply migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations(name) VALUES (?)`, m.name); err != nil {
			tx.Rollback()
			return fmt.Errorf("record migration %s: %w", m.name, err)
		}
		cur = max(cur, m.version)
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", cur)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("apply migration %s: %w", m.name, err)
		}
	}
	return nil
}
