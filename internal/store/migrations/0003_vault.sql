-- The vault's search index (internal/vault owns these tables). Notes live on
-- disk; this is a cache rebuilt from the files, so it is safe to drop.
CREATE TABLE vault_notes (
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE,
  mtime_ns INTEGER NOT NULL,
  size INTEGER NOT NULL
);

CREATE TABLE vault_tags (
  note_id INTEGER NOT NULL REFERENCES vault_notes(id) ON DELETE CASCADE,
  tag TEXT NOT NULL COLLATE NOCASE,
  PRIMARY KEY (note_id, tag)
) WITHOUT ROWID;
CREATE INDEX vault_tags_tag ON vault_tags(tag);

-- rowid = vault_notes.id. Columns are ranked by bm25 with these weights:
-- path 3, title 10, aliases 6, body 1.
CREATE VIRTUAL TABLE vault_fts USING fts5(
  path, title, aliases, body,
  tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO vault_fts(vault_fts, rank) VALUES ('rank', 'bm25(3.0, 10.0, 6.0, 1.0)');
