package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func rawDB(t *testing.T) *DB {
	t.Helper()
	sdb, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sdb.Close() })
	return &DB{DB: sdb}
}

func tables(t *testing.T, db *DB) map[string]bool {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		out[n] = true
	}
	return out
}

func sqlFile(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

// TestMigrateByName: a migration added later with a lower number than one
// already applied still runs, none runs twice, and a database from before
// schema_migrations is taken over from its user_version.
func TestMigrateByName(t *testing.T) {
	ctx := context.Background()
	fsys := fstest.MapFS{
		"migrations/0001_a.sql": sqlFile(`CREATE TABLE a (x);`),
		"migrations/0003_c.sql": sqlFile(`CREATE TABLE c (x);`),
	}
	db := rawDB(t)
	if err := db.migrate(ctx, fsys); err != nil {
		t.Fatal(err)
	}
	if v, _ := db.Version(ctx); v != 3 {
		t.Errorf("user_version = %d, want 3", v)
	}
	// A branch merged later brings 0002: it runs on the next start; 0001 and
	// 0003 do not run again (CREATE TABLE would fail if they did).
	fsys["migrations/0002_b.sql"] = sqlFile(`CREATE TABLE b (x);`)
	if err := db.migrate(ctx, fsys); err != nil {
		t.Fatalf("migrate with a late 0002: %v", err)
	}
	if got := tables(t, db); !got["a"] || !got["b"] || !got["c"] {
		t.Errorf("tables = %v, want a, b and c", got)
	}
	if v, _ := db.Version(ctx); v != 3 {
		t.Errorf("user_version after 0002 = %d, want 3", v)
	}

	// A database migrated by user_version only (before schema_migrations).
	old := rawDB(t)
	if _, err := old.Exec(`CREATE TABLE a (x); CREATE TABLE b (x); PRAGMA user_version = 2;`); err != nil {
		t.Fatal(err)
	}
	if err := old.migrate(ctx, fsys); err != nil {
		t.Fatalf("migrate a pre-schema_migrations database: %v", err)
	}
	if got := tables(t, old); !got["c"] {
		t.Errorf("tables = %v, want c added", got)
	}
	var n int
	old.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n)
	if n != 3 {
		t.Errorf("schema_migrations has %d rows, want 3", n)
	}

	// A migration that fails leaves nothing half done and says which it was.
	fsys["migrations/0004_bad.sql"] = sqlFile(`CREATE TABLE d (x); CREATE TABLE a (x);`)
	if err := db.migrate(ctx, fsys); err == nil || !strings.Contains(err.Error(), "0004_bad.sql") {
		t.Fatalf("bad migration = %v, want an error naming it", err)
	}
	if tables(t, db)["d"] {
		t.Error("the failed migration's first statement was kept")
	}
}
