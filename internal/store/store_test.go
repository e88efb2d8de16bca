package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"openagent/internal/store"
)

func TestOpenMigratesAndReopens(t *testing.T) {
	for _, name := range []string{"openagent.db", "odd %20 ?x #y.db"} {
		path := filepath.Join(t.TempDir(), name)
		db, err := store.Open(context.Background(), path)
		if err != nil {
			t.Fatalf("open %q: %v", name, err)
		}
		v, err := db.Version(context.Background())
		if err != nil || v < 1 {
			t.Fatalf("version = %d, %v", v, err)
		}
		var mode string
		db.QueryRow("PRAGMA journal_mode").Scan(&mode)
		if mode != "wal" {
			t.Fatalf("journal_mode = %q, want wal", mode)
		}
		var busy int
		db.QueryRow("PRAGMA busy_timeout").Scan(&busy)
		if busy != store.BusyTimeoutMillis {
			t.Fatalf("busy_timeout = %d", busy)
		}
		if _, err := db.Exec(`INSERT INTO config_state(key, value, updated_at) VALUES ('k', 'v', 1)`); err != nil {
			t.Fatal(err)
		}
		db.Close()
		db, err = store.Open(context.Background(), path)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		var val string
		if err := db.QueryRow(`SELECT value FROM config_state WHERE key='k'`).Scan(&val); err != nil || val != "v" {
			t.Fatalf("after reopen: %q %v", val, err)
		}
		if v2, _ := db.Version(context.Background()); v2 != v {
			t.Fatalf("version changed on reopen: %d → %d", v, v2)
		}
		db.Close()
	}
}
