package vault

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/fsnotify/fsnotify"

	"openagent/internal/store"
)

// stmts are the prepared statements of the index write path.
type stmts struct {
	insNote, updNote, touchNote, delNote *sql.Stmt
	insFTS, delFTS                       *sql.Stmt
	insTag, delTags                      *sql.Stmt
}

func (s *stmts) prepare(ctx context.Context, db *store.DB) error {
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&s.insNote, `INSERT INTO vault_notes(path, mtime_ns, size) VALUES (?, ?, ?)`},
		{&s.updNote, `UPDATE vault_notes SET mtime_ns = ?, size = ? WHERE id = ?`},
		{&s.touchNote, `UPDATE vault_notes SET mtime_ns = ?, size = ? WHERE path = ?`},
		{&s.delNote, `DELETE FROM vault_notes WHERE id = ?`},
		{&s.insFTS, `INSERT INTO vault_fts(rowid, path, title, aliases, body) VALUES (?, ?, ?, ?, ?)`},
		{&s.delFTS, `DELETE FROM vault_fts WHERE rowid = ?`},
		{&s.insTag, `INSERT OR IGNORE INTO vault_tags(note_id, tag) VALUES (?, ?)`},
		{&s.delTags, `DELETE FROM vault_tags WHERE note_id = ?`},
	} {
		st, err := db.PrepareContext(ctx, p.sql)
		if err != nil {
			s.close()
			return fmt.Errorf("prepare vault index: %w", err)
		}
		*p.dst = st
	}
	return nil
}

func (s *stmts) close() {
	for _, st := range []*sql.Stmt{s.insNote, s.updNote, s.touchNote, s.delNote, s.insFTS, s.delFTS, s.insTag, s.delTags} {
		if st != nil {
			st.Close()
		}
	}
}

// txStmts are the statements bound to one transaction.
type txStmts stmts

func (s *stmts) bind(ctx context.Context, tx *sql.Tx) *txStmts {
	b := func(st *sql.Stmt) *sql.Stmt { return tx.StmtContext(ctx, st) }
	return &txStmts{
		insNote: b(s.insNote), updNote: b(s.updNote), delNote: b(s.delNote),
		insFTS: b(s.insFTS), delFTS: b(s.delFTS), insTag: b(s.insTag), delTags: b(s.delTags),
	}
}

// doc is a note read and parsed, ready to be indexed.
type doc struct {
	e       *entry
	body    string
	changed bool // the FTS row must be (re)written
	err     error
}

// load reads and parses the note at clean path c through the confined root.
func (v *Vault) load(c string) (*entry, string, error) {
	info, b, err := v.readFile(c)
	if err != nil {
		return nil, "", err
	}
	e, body := v.makeEntry(c, info, b)
	return e, body, nil
}

// loadWalked reads a note the walk found as a regular file below the root.
// It skips os.Root's per-component checks, which cost several syscalls per
// file; the walk does not follow symlinks.
func (v *Vault) loadWalked(c string) (*entry, string, error) {
	f, err := os.Open(filepath.Join(v.root, filepath.FromSlash(c)))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, "", fmt.Errorf("read %q: %w", c, ErrNotFound)
		}
		return nil, "", fmt.Errorf("read %q: %w", c, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, "", fmt.Errorf("read %q: %w", c, err)
	}
	if !info.Mode().IsRegular() {
		return nil, "", fmt.Errorf("read %q: %w", c, ErrNotFound)
	}
	b := make([]byte, 0, info.Size()+512)
	for {
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, "", fmt.Errorf("read %q: %w", c, err)
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
	e, body := v.makeEntry(c, info, b)
	return e, body, nil
}

// makeEntry parses file bytes into an entry and the body to index.
func (v *Vault) makeEntry(c string, info fs.FileInfo, b []byte) (*entry, string) {
	text := decodeText(b)
	p := parseNote(stemOf(c), text)
	p.detach()
	e := newEntry(c, p.links)
	e.title, e.tags, e.aliases, e.typ = p.title, p.tags, p.aliases, p.typ
	e.modified, e.size, e.hash = info.ModTime(), info.Size(), maphash.Bytes(v.seed, b)
	return e, p.body
}

// writeDoc stores one note's row, FTS document and tags in tx. old is the
// previous id (0 when new).
func (v *Vault) writeDoc(ctx context.Context, ts *txStmts, e *entry, body string, old int64) error {
	mtime := e.modified.UnixNano()
	if old != 0 {
		if _, err := ts.delFTS.ExecContext(ctx, old); err != nil {
			return err
		}
		if _, err := ts.delTags.ExecContext(ctx, old); err != nil {
			return err
		}
		if _, err := ts.updNote.ExecContext(ctx, mtime, e.size, old); err != nil {
			return err
		}
		e.id = old
	} else {
		res, err := ts.insNote.ExecContext(ctx, e.path, mtime, e.size)
		if err != nil {
			return err
		}
		if e.id, err = res.LastInsertId(); err != nil {
			return err
		}
	}
	if _, err := ts.insFTS.ExecContext(ctx, e.id, e.path, e.title, strings.Join(e.aliases, "\n"), body); err != nil {
		return err
	}
	for _, t := range e.tags {
		if _, err := ts.insTag.ExecContext(ctx, e.id, t); err != nil {
			return err
		}
	}
	return nil
}

// deleteDoc removes a note's rows in tx.
func (v *Vault) deleteDoc(ctx context.Context, ts *txStmts, id int64) error {
	if _, err := ts.delFTS.ExecContext(ctx, id); err != nil {
		return err
	}
	if _, err := ts.delTags.ExecContext(ctx, id); err != nil {
		return err
	}
	_, err := ts.delNote.ExecContext(ctx, id)
	return err
}

// syncNote brings the index in line with the file at clean path c: a
// regular .md file is (re)indexed when its bytes changed, anything else is
// removed from the index. It returns Created, Updated, Deleted or "" (no
// change). Callers hold writeMu.
func (v *Vault) syncNote(ctx context.Context, c string) (string, error) {
	v.mu.RLock()
	old := v.names.byPath[c]
	v.mu.RUnlock()

	info, err := v.fsys.Lstat(c)
	if err != nil || !info.Mode().IsRegular() || !isNotePath(c) {
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			if rootErr(c, err) == err {
				return "", fmt.Errorf("stat %q: %w", c, err)
			}
		}
		if old == nil {
			return "", nil
		}
		if _, err := v.removeNotes(ctx, c); err != nil {
			return "", err
		}
		return Deleted, nil
	}
	e, body, err := v.load(c)
	if errors.Is(err, ErrNotFound) { // gone between Lstat and read
		return v.syncNote(ctx, c)
	}
	if err != nil {
		return "", err
	}
	if old != nil && old.hash == e.hash {
		if !old.modified.Equal(e.modified) {
			v.mu.Lock()
			old.modified, old.size = e.modified, e.size
			v.mu.Unlock()
			if _, err := v.stmts.touchNote.ExecContext(ctx, e.modified.UnixNano(), e.size, c); err != nil {
				return "", fmt.Errorf("index %q: %w", c, err)
			}
		}
		return "", nil
	}
	v.reindexed.Add(1)
	var oldID int64
	if old != nil {
		oldID = old.id
	}
	tx, err := v.db.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("index %q: %w", c, err)
	}
	if oldID == 0 { // a row may exist from an earlier run
		if err := tx.QueryRowContext(ctx, `SELECT id FROM vault_notes WHERE path = ?`, c).Scan(&oldID); err != nil && !errors.Is(err, sql.ErrNoRows) {
			tx.Rollback()
			return "", fmt.Errorf("index %q: %w", c, err)
		}
	}
	if err := v.writeDoc(ctx, v.stmts.bind(ctx, tx), e, body, oldID); err != nil {
		tx.Rollback()
		return "", fmt.Errorf("index %q: %w", c, err)
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("index %q: %w", c, err)
	}
	v.mu.Lock()
	if old != nil {
		v.names.replace(old, e)
	} else {
		v.names.add(e)
	}
	v.mu.Unlock()
	if old == nil {
		return Created, nil
	}
	return Updated, nil
}

// removeNotes drops the note at c and every note below c/ (a removed
// folder) from the index, returning their paths. Callers hold writeMu.
func (v *Vault) removeNotes(ctx context.Context, c string) ([]string, error) {
	v.mu.RLock()
	var gone []*entry
	if e := v.names.byPath[c]; e != nil {
		gone = append(gone, e)
	}
	prefix := c + "/"
	for p, e := range v.names.byPath {
		if strings.HasPrefix(p, prefix) {
			gone = append(gone, e)
		}
	}
	v.mu.RUnlock()
	if len(gone) == 0 {
		return nil, nil
	}
	tx, err := v.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("unindex %q: %w", c, err)
	}
	ts := v.stmts.bind(ctx, tx)
	for _, e := range gone {
		if err := v.deleteDoc(ctx, ts, e.id); err != nil {
			tx.Rollback()
			return nil, fmt.Errorf("unindex %q: %w", e.path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("unindex %q: %w", c, err)
	}
	paths := make([]string, len(gone))
	v.mu.Lock()
	for i, e := range gone {
		v.names.remove(e)
		paths[i] = e.path
	}
	v.mu.Unlock()
	return paths, nil
}

// Index reads every note and brings the full-text index in line with the
// vault in one transaction: new and changed files (by mtime and size) are
// indexed, unchanged ones keep their rows, rows of vanished files are
// dropped. It replaces the in-memory model, and closes Ready when done.
func (v *Vault) Index(ctx context.Context) error {
	return v.index(ctx, nil)
}

// buildCacheKiB is the page cache of the full-build connection.
const buildCacheKiB = 32 << 10

type dbRow struct {
	id    int64
	mtime int64
	size  int64
}

// index is Index; with w it also watches every folder it walks.
func (v *Vault) index(ctx context.Context, w *fsnotify.Watcher) error {
	v.writeMu.Lock()
	defer v.writeMu.Unlock()

	var files []string
	err := filepath.WalkDir(v.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == v.root {
				return err
			}
			v.log.Warn("walk vault", "path", p, "err", err)
			return nil
		}
		if p != v.root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if w != nil {
				if err := w.Add(p); err != nil {
					v.log.Warn("watch folder", "path", p, "err", err)
				}
			}
			return nil
		}
		if d.Type().IsRegular() && isNotePath(d.Name()) {
			rel, err := filepath.Rel(v.root, p)
			if err == nil {
				files = append(files, filepath.ToSlash(rel))
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("walk vault %q: %w", v.root, err)
	}
	first := !v.isReady()
	if first {
		v.scanDone.Store(0)
		v.scanTotal.Store(int64(len(files)))
	}

	rows := map[string]dbRow{}
	rs, err := v.db.QueryContext(ctx, `SELECT id, path, mtime_ns, size FROM vault_notes`)
	if err != nil {
		return fmt.Errorf("read vault index: %w", err)
	}
	for rs.Next() {
		var r dbRow
		var p string
		if err := rs.Scan(&r.id, &p, &r.mtime, &r.size); err != nil {
			rs.Close()
			return fmt.Errorf("read vault index: %w", err)
		}
		rows[p] = r
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return fmt.Errorf("read vault index: %w", err)
	}

	// Read and parse in parallel; one writer owns the transaction.
	jobs := make(chan string)
	docs := make(chan doc, 64)
	var wg sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range jobs {
				e, body, err := v.loadWalked(c)
				d := doc{e: e, body: body, err: err}
				if err == nil {
					r, ok := rows[c]
					d.changed = !ok || r.mtime != e.modified.UnixNano() || r.size != e.size
					if ok {
						e.id = r.id
					}
				}
				docs <- d
			}
		}()
	}
	go func() {
		defer close(jobs)
		for _, c := range files {
			select {
			case jobs <- c:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(docs) }()

	// One connection for the whole build, with a page cache big enough that
	// the transaction does not spill pages to the WAL and read them back.
	conn, err := v.db.Conn(ctx)
	if err != nil {
		for range docs {
		}
		return fmt.Errorf("index vault: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = -%d", buildCacheKiB)); err == nil {
		defer conn.ExecContext(context.Background(), "PRAGMA cache_size = -2000") // SQLite's default
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		for range docs {
		}
		return fmt.Errorf("index vault: %w", err)
	}
	ts := v.stmts.bind(ctx, tx)
	fresh := newNames()
	var werr error
	for d := range docs {
		if first {
			v.scanDone.Add(1)
		}
		if werr != nil {
			continue // drain
		}
		if d.err != nil {
			if !errors.Is(d.err, ErrNotFound) {
				v.log.Warn("read note", "err", d.err)
			}
			continue
		}
		if d.changed {
			if err := v.writeDoc(ctx, ts, d.e, d.body, d.e.id); err != nil {
				werr = fmt.Errorf("index %q: %w", d.e.path, err)
				continue
			}
		}
		fresh.add(d.e)
	}
	if werr == nil {
		werr = ctx.Err()
	}
	if werr == nil {
		for p, r := range rows {
			if _, ok := fresh.byPath[p]; !ok {
				if err := v.deleteDoc(ctx, ts, r.id); err != nil {
					werr = fmt.Errorf("unindex %q: %w", p, err)
					break
				}
			}
		}
	}
	if werr != nil {
		tx.Rollback()
		return werr
	}
	// Resolve every link and build the graph while the transaction commits,
	// so the first backlinks or graph request after the index is not the
	// one that pays for it. fresh is not shared until the swap below.
	linked := make(chan struct{})
	go func() {
		defer close(linked)
		fresh.refresh(true)
	}()
	err = tx.Commit()
	<-linked
	if err != nil {
		return fmt.Errorf("index vault: %w", err)
	}
	v.mu.Lock()
	fresh.links.version = v.names.links.version + 1 // graph versions keep counting up
	v.names = fresh
	v.mu.Unlock()
	v.markReady(nil)
	return nil
}

// Query is a search.
type Query struct {
	// Text is matched as words, all of which must occur; "gam*" matches
	// words starting with gam. Empty Text with a Tag lists the notes with
	// that tag; empty both finds nothing.
	Text string
	// Tag keeps notes with this tag or a tag nested below it ("a" keeps
	// "a/b"). Optional; a leading # is ignored.
	Tag string
	// Limit caps the results (default 20, at most 200).
	Limit int
}

// Result is one search hit, best first.
type Result struct {
	Path  string
	Title string
	Tags  []string
	// Snippet is an HTML fragment: the best-matching passage with matched
	// words in <mark>…</mark>; everything else is escaped.
	Snippet string
	// Score is the bm25 relevance (higher is better); 0 for tag-only lists.
	Score float64
}

// Search limits.
const (
	DefaultSearchLimit = 20
	MaxSearchLimit     = 200
	snippetTokens      = 16
)

// Search runs a ranked full-text search over path, title, aliases and body.
//
// It runs in two steps. The first scores every match with bm25 and keeps the
// best limit rowids; bm25() is written as an expression rather than "ORDER
// BY rank" because then SQLite keeps only the top rows while it scans,
// where FTS5's rank ordering sorts every match (a word found in every note
// sorts 10,000 rows). The second reads path and snippet for those rows
// only. The weights must match the rank set in migration 0003.
func (v *Vault) Search(ctx context.Context, q Query) ([]Result, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultSearchLimit
	}
	limit = min(limit, MaxSearchLimit)
	tag := strings.TrimPrefix(strings.TrimSpace(q.Tag), "#")
	match := ftsQuery(q.Text)
	if match == "" {
		if tag == "" {
			return []Result{}, nil
		}
		return v.tagged(tag, limit), nil
	}
	ranked := `SELECT rowid, bm25(vault_fts, 3.0, 10.0, 6.0, 1.0) AS score FROM vault_fts WHERE vault_fts MATCH ?`
	args := []any{match}
	if tag != "" {
		ranked += ` AND vault_fts.rowid IN (SELECT note_id FROM vault_tags WHERE tag = ? OR tag LIKE ? ESCAPE '\')`
		args = append(args, tag, likeEscape(tag)+"/%")
	}
	ranked += ` ORDER BY score LIMIT ?`
	args = append(args, limit)
	rs, err := v.db.QueryContext(ctx, ranked, args...)
	if err != nil {
		return nil, fmt.Errorf("search vault: %w", err)
	}
	defer rs.Close()
	var ids []any
	score := map[int64]float64{}
	for rs.Next() {
		var id int64
		var s float64
		if err := rs.Scan(&id, &s); err != nil {
			return nil, fmt.Errorf("search vault: %w", err)
		}
		ids = append(ids, id)
		score[id] = -s
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("search vault: %w", err)
	}
	rs.Close()
	out := []Result{}
	if len(ids) == 0 {
		return out, nil
	}
	rs, err = v.db.QueryContext(ctx, `SELECT rowid, path, snippet(vault_fts, -1, char(1), char(2), '…', `+fmt.Sprint(snippetTokens)+`)
		FROM vault_fts WHERE vault_fts MATCH ? AND rowid IN (?`+strings.Repeat(",?", len(ids)-1)+`)`, append([]any{match}, ids...)...)
	if err != nil {
		return nil, fmt.Errorf("search vault: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var id int64
		var r Result
		var snip string
		if err := rs.Scan(&id, &r.Path, &snip); err != nil {
			return nil, fmt.Errorf("search vault: %w", err)
		}
		r.Score = score[id]
		r.Snippet = markSnippet(snip)
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("search vault: %w", err)
	}
	// Best first; equal scores by path, so the order is stable.
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].Path < out[j].Path
	})
	v.mu.RLock()
	for i := range out {
		if e := v.names.byPath[out[i].Path]; e != nil {
			out[i].Title, out[i].Tags = e.title, e.tags
		} else {
			out[i].Title, out[i].Tags = stemOf(out[i].Path), []string{}
		}
	}
	v.mu.RUnlock()
	return out, nil
}

// tagged lists notes carrying tag (or a tag nested below it), by path.
func (v *Vault) tagged(tag string, limit int) []Result {
	lt := strings.ToLower(tag)
	out := []Result{}
	v.mu.RLock()
	for _, e := range v.names.byPath {
		for _, t := range e.tags {
			t = strings.ToLower(t)
			if t == lt || strings.HasPrefix(t, lt+"/") {
				out = append(out, Result{Path: e.path, Title: e.title, Tags: e.tags})
				break
			}
		}
	}
	v.mu.RUnlock()
	sortResults(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

func sortResults(rs []Result) {
	sort.Slice(rs, func(i, j int) bool { return rs[i].Path < rs[j].Path })
}

// ftsQuery turns what a user typed into a safe FTS5 query: every word is a
// quoted phrase (so FTS5 operators and punctuation are literal) and all must
// match. A word ending in * (at least 2 characters before it) also matches
// as a prefix. Prefixes are not implied: expanding one over the term list is
// what makes a full-text search slow.
func ftsQuery(text string) string {
	var parts []string
	for _, w := range strings.Fields(text) {
		prefix := false
		if t := strings.TrimRight(w, "*"); t != w && len([]rune(t)) >= 2 {
			w, prefix = t, true
		}
		if !strings.ContainsFunc(w, isWordRune) {
			continue
		}
		q := `"` + strings.ReplaceAll(w, `"`, `""`) + `"`
		if prefix {
			q += "*"
		}
		parts = append(parts, q)
	}
	return strings.Join(parts, " ")
}

func isWordRune(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 127
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// markSnippet escapes a snippet for HTML and turns the \x01…\x02 markers
// into <mark>…</mark>.
func markSnippet(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 16)
	for _, r := range s {
		switch r {
		case 1:
			b.WriteString("<mark>")
		case 2:
			b.WriteString("</mark>")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&#34;")
		case '\'':
			b.WriteString("&#39;")
		case '\n', '\r', '\t':
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
