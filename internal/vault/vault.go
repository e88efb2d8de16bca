// Package vault is the agent's long-term memory: an Obsidian-compatible
// folder of Markdown notes that the user may open in Obsidian at the same time.
//
// The files on disk are the truth. The package keeps, next to them:
//   - an in-memory model of every note (title, tags, aliases, type, links),
//     from which links are resolved the way Obsidian resolves them and the
//     graph and backlinks are built;
//   - a full-text index in openagent.db (SQLite FTS5, migration 0003) over
//     path, title, aliases and body, ranked with bm25;
//   - a watcher (Run) that re-indexes each note changed outside the app,
//     debounced per file, and reports every change through OnChange.
//
// # Go API (used by the gateway and by the builtin "vault" MCP server)
//
// Paths are vault-relative and slash-separated ("projects/alpha.md"). Note
// operations take .md paths only; anything else is ErrNotNote. A path that is
// empty, absolute, contains "..", a NUL byte or a backslash, is hidden
// (a segment starting with "."), or leaves the vault through a symlink is
// refused with an error matching ErrInvalidPath. A missing note is
// ErrNotFound (which also matches fs.ErrNotExist).
//
//	Read(ctx, path) (*Note, error)              the text, frontmatter, links and backlinks
//	Write(ctx, path, content) (created, error)  atomic create or replace, byte for byte
//	Append(ctx, path, text) (created, error)    adds text on a new line (creates the note)
//	Delete(ctx, path) error
//	Search(ctx, Query{Text, Tag, Limit}) ([]Result, error)
//	List(folder) ([]Summary, error)             "" lists the whole vault, sorted by path
//	Backlinks(path) ([]string, error)           paths of notes linking to path
//	Graph() Graph                               nodes and de-duplicated edges
//	WaitReady(ctx) error, IndexProgress()       the first full index, at start
//
// What is written is exactly what the caller passed: no frontmatter is added
// or rewritten, so Obsidian shows the note unchanged. Write, Append and
// Delete update the index at once and call OnChange; the watcher does the
// same for outside edits.
package vault

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"openagent/internal/store"
)

// Change actions passed to OnChange (the resource_event actions).
const (
	Created = "created"
	Updated = "updated"
	Deleted = "deleted"
	// Changed means many notes may have changed (a rescan); path is "".
	Changed = "changed"
)

// DefaultDebounce is how long a file must be quiet before an outside edit is
// re-indexed. A burst of writes to one file costs one re-index.
const DefaultDebounce = 150 * time.Millisecond

// Options configure a Vault. All fields are optional.
type Options struct {
	// OnChange is called after every change to a note, whoever made it
	// (Write/Append/Delete or an outside edit seen by Run), with action
	// Created, Updated, Deleted or Changed and the note's path. It must not
	// block. SetOnChange replaces it later.
	OnChange func(action, path string)
	// Log receives warnings (unreadable files, watcher errors).
	Log *slog.Logger
	// Debounce overrides DefaultDebounce.
	Debounce time.Duration
}

// Vault is an open vault. Its methods are safe for concurrent use.
type Vault struct {
	root     string // absolute, symlinks resolved
	realRoot string
	fsys     *os.Root
	db       *store.DB
	log      *slog.Logger
	debounce time.Duration
	seed     maphash.Seed
	onChange atomic.Pointer[func(action, path string)]
	stmts    stmts

	writeMu  sync.Mutex // serialises index writes (one note or a full scan) and file writes
	appendMu sync.Mutex // serialises Append's read-modify-write

	mu    sync.RWMutex // guards names
	names names

	reindexed atomic.Int64 // single-note re-indexes done (for tests and stats)
	ready     chan struct{}
	readyOnce sync.Once
	readyErr  error        // why the first index failed; set before ready closes
	scanDone  atomic.Int64 // notes read by the first index so far
	scanTotal atomic.Int64 // notes the first index found

	runMu   sync.Mutex // guards cancel, done and closed
	cancel  context.CancelFunc
	done    chan struct{}
	closed  bool
	closeMu sync.Once
}

// Open opens the vault at root (created when missing) with its index in db.
// It does not read the notes: call Index, or Run, which indexes and then
// watches.
func Open(ctx context.Context, root string, db *store.DB, opts Options) (*Vault, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("create vault %q: %w", root, err)
	}
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, fmt.Errorf("open vault %q: %w", root, err)
	}
	real, err = filepath.Abs(real)
	if err != nil {
		return nil, fmt.Errorf("open vault %q: %w", root, err)
	}
	fsys, err := os.OpenRoot(real)
	if err != nil {
		return nil, fmt.Errorf("open vault %q: %w", root, err)
	}
	v := &Vault{
		root: real, realRoot: real, fsys: fsys, db: db,
		log:      opts.Log,
		debounce: opts.Debounce,
		seed:     maphash.MakeSeed(),
		names:    newNames(),
		ready:    make(chan struct{}),
	}
	if v.log == nil {
		v.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	v.log = v.log.With("component", "vault")
	if v.debounce <= 0 {
		v.debounce = DefaultDebounce
	}
	if opts.OnChange != nil {
		v.SetOnChange(opts.OnChange)
	}
	if err := v.stmts.prepare(ctx, db); err != nil {
		fsys.Close()
		return nil, err
	}
	return v, nil
}

// Root is the vault folder (absolute, symlinks resolved).
func (v *Vault) Root() string { return v.root }

// SetOnChange sets the change callback (see Options.OnChange).
func (v *Vault) SetOnChange(fn func(action, path string)) { v.onChange.Store(&fn) }

// Ready is closed once the first full index is done, or Run gave up on it
// (WaitReady tells which).
func (v *Vault) Ready() <-chan struct{} { return v.ready }

// WaitReady waits for the first full index (Index, or Run's start). It
// returns nil once notes, links and search cover the whole vault, the
// error Run stopped with when that index failed, or ctx's error.
func (v *Vault) WaitReady(ctx context.Context) error {
	select {
	case <-v.ready:
		return v.readyErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// IndexProgress reports how far the first full index has got: notes read
// and notes found (0, 0 before the folders are walked).
func (v *Vault) IndexProgress() (done, total int) {
	return int(v.scanDone.Load()), int(v.scanTotal.Load())
}

var errClosedEarly = errors.New("vault closed before its first index finished")

func (v *Vault) isReady() bool {
	select {
	case <-v.ready:
		return true
	default:
		return false
	}
}

// markReady closes Ready, once, with err as WaitReady's answer.
func (v *Vault) markReady(err error) {
	v.readyOnce.Do(func() {
		v.readyErr = err
		close(v.ready)
	})
}

func (v *Vault) emit(action, rel string) {
	if fn := v.onChange.Load(); fn != nil && *fn != nil {
		(*fn)(action, rel)
	}
}

// Close stops Run (waiting for it) and releases the vault. The database is
// the caller's and stays open.
func (v *Vault) Close() error {
	v.runMu.Lock()
	cancel, done := v.cancel, v.done
	v.closed = true
	v.runMu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	v.markReady(errClosedEarly)
	var err error
	v.closeMu.Do(func() {
		v.writeMu.Lock()
		defer v.writeMu.Unlock()
		v.stmts.close()
		err = v.fsys.Close()
	})
	return err
}

// Note is one note as read from disk.
type Note struct {
	Path string
	// Content is the whole file (UTF-8; invalid bytes read as U+FFFD).
	Content string
	// Frontmatter is the parsed YAML frontmatter ({} when absent or invalid).
	Frontmatter map[string]any
	// Body is the text after the frontmatter, trimmed.
	Body    string
	Title   string
	Tags    []string // frontmatter tags merged with inline #tags; never nil
	Aliases []string // never nil
	Type    string
	Links   []Link
	// Backlinks are the paths of notes that link here, sorted.
	Backlinks []string
	Modified  time.Time
	Size      int64
}

// Summary describes a note in lists.
type Summary struct {
	Path     string
	Title    string
	Tags     []string // never nil
	Type     string
	Modified time.Time
	Size     int64
}

// Read returns the note at rel with its backlinks.
func (v *Vault) Read(ctx context.Context, rel string) (*Note, error) {
	c, err := v.notePath(rel)
	if err != nil {
		return nil, err
	}
	info, b, err := v.readFile(c)
	if err != nil {
		return nil, err
	}
	text := decodeText(b)
	p := parseNote(stemOf(c), text)
	body := p.body
	if p.hasFront {
		body = strings.TrimSpace(body)
	}
	n := &Note{
		Path: c, Content: text, Frontmatter: p.frontmatter, Body: body,
		Title: p.title, Tags: p.tags, Aliases: p.aliases, Type: p.typ, Links: p.links,
		Modified: info.ModTime(), Size: info.Size(),
	}
	if n.Links == nil {
		n.Links = []Link{}
	}
	n.Backlinks = v.backlinks(c)
	return n, nil
}

// readFile reads a regular file through the confined root.
func (v *Vault) readFile(c string) (fs.FileInfo, []byte, error) {
	info, err := v.fsys.Stat(c)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("read %q: %w", c, ErrNotFound)
		}
		return nil, nil, rootErr(c, fmt.Errorf("read %q: %w", c, err))
	}
	if !info.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("read %q: %w", c, ErrNotFound)
	}
	b, err := v.fsys.ReadFile(c)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("read %q: %w", c, ErrNotFound)
		}
		return nil, nil, rootErr(c, fmt.Errorf("read %q: %w", c, err))
	}
	return info, b, nil
}

// Write creates or replaces the note at rel with content, atomically (a
// temporary file in the same folder, then a rename). Missing folders are
// created. It reports whether the note is new.
func (v *Vault) Write(ctx context.Context, rel, content string) (created bool, err error) {
	c, err := v.notePath(rel)
	if err != nil {
		return false, err
	}
	v.writeMu.Lock()
	created, err = v.writeLocked(ctx, c, content)
	v.writeMu.Unlock()
	if err != nil {
		return false, err
	}
	if created {
		v.emit(Created, c)
	} else {
		v.emit(Updated, c)
	}
	return created, nil
}

func (v *Vault) writeLocked(ctx context.Context, c, content string) (created bool, err error) {
	mode := fs.FileMode(0o644)
	switch info, err := v.fsys.Lstat(c); {
	case err == nil && info.IsDir():
		return false, fmt.Errorf("write %q: %w (it is a folder)", c, ErrNotNote)
	case err == nil:
		if info.Mode().IsRegular() {
			mode = info.Mode().Perm()
		}
	case errors.Is(err, fs.ErrNotExist):
		created = true
	default:
		return false, rootErr(c, fmt.Errorf("write %q: %w", c, err))
	}
	if dir := path.Dir(c); dir != "." {
		if err := v.fsys.MkdirAll(dir, 0o755); err != nil {
			return false, rootErr(c, fmt.Errorf("write %q: %w", c, err))
		}
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	tmp := path.Join(path.Dir(c), "."+path.Base(c)+"."+hex.EncodeToString(rnd[:])+".tmp")
	f, err := v.fsys.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return false, rootErr(c, fmt.Errorf("write %q: %w", c, err))
	}
	_, werr := io.WriteString(f, content)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = v.fsys.Rename(tmp, c)
	}
	if werr != nil {
		v.fsys.Remove(tmp)
		return false, rootErr(c, fmt.Errorf("write %q: %w", c, werr))
	}
	if _, err := v.syncNote(ctx, c); err != nil {
		return created, fmt.Errorf("index %q: %w", c, err)
	}
	return created, nil
}

// Append adds text to the end of the note at rel, on a new line, creating
// the note when it does not exist. It reports whether the note is new.
func (v *Vault) Append(ctx context.Context, rel, text string) (created bool, err error) {
	c, err := v.notePath(rel)
	if err != nil {
		return false, err
	}
	v.appendMu.Lock()
	defer v.appendMu.Unlock()
	_, old, err := v.readFile(c)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return false, err
	}
	content := string(old)
	if content != "" && !strings.HasSuffix(content, "\n") {
		content += "\n"
	}
	return v.Write(ctx, c, content+text)
}

// Delete removes the note at rel.
func (v *Vault) Delete(ctx context.Context, rel string) error {
	c, err := v.notePath(rel)
	if err != nil {
		return err
	}
	v.writeMu.Lock()
	err = v.deleteLocked(ctx, c)
	v.writeMu.Unlock()
	if err != nil {
		return err
	}
	v.emit(Deleted, c)
	return nil
}

func (v *Vault) deleteLocked(ctx context.Context, c string) error {
	info, err := v.fsys.Lstat(c)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("delete %q: %w", c, ErrNotFound)
	case err != nil:
		return rootErr(c, fmt.Errorf("delete %q: %w", c, err))
	case info.IsDir():
		return fmt.Errorf("delete %q: %w (it is a folder)", c, ErrNotNote)
	}
	if err := v.fsys.Remove(c); err != nil {
		return rootErr(c, fmt.Errorf("delete %q: %w", c, err))
	}
	if _, err := v.removeNotes(ctx, c); err != nil {
		return fmt.Errorf("unindex %q: %w", c, err)
	}
	return nil
}

// List returns the notes under folder ("" for all), sorted by path.
func (v *Vault) List(folder string) ([]Summary, error) {
	prefix := ""
	if folder != "" && folder != "." && folder != "/" {
		c, err := cleanRel(strings.TrimSuffix(folder, "/"))
		if err != nil {
			return nil, err
		}
		prefix = c + "/"
	}
	v.mu.RLock()
	out := make([]Summary, 0, len(v.names.byPath))
	for p, e := range v.names.byPath {
		if strings.HasPrefix(p, prefix) {
			out = append(out, e.summary())
		}
	}
	v.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func (e *entry) summary() Summary {
	return Summary{Path: e.path, Title: e.title, Tags: e.tags, Type: e.typ, Modified: e.modified, Size: e.size}
}

// Backlinks returns the paths of notes linking to the note at rel, sorted.
func (v *Vault) Backlinks(rel string) ([]string, error) {
	c, err := v.notePath(rel)
	if err != nil {
		return nil, err
	}
	v.mu.RLock()
	_, ok := v.names.byPath[c]
	v.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("backlinks of %q: %w", c, ErrNotFound)
	}
	return v.backlinks(c), nil
}

func (v *Vault) backlinks(c string) []string {
	var out []string
	v.withLinks(false, func(l *linkState) { out = append([]string{}, l.in[c]...) })
	sort.Strings(out)
	return out
}

// withLinks calls fn with the links resolved (and with withNodes, the
// graph's nodes and edges built) while holding v.mu, so fn sees the same
// note set the links were resolved on. Only what changed since the last
// call is resolved again.
func (v *Vault) withLinks(withNodes bool, fn func(l *linkState)) {
	v.mu.RLock()
	if v.names.links.fresh(withNodes) {
		fn(&v.names.links)
		v.mu.RUnlock()
		return
	}
	v.mu.RUnlock()
	v.mu.Lock()
	defer v.mu.Unlock()
	v.names.refresh(withNodes)
	fn(&v.names.links)
}

// Node is a graph node: a note, or an unresolved link target.
type Node struct {
	// ID is the note's path, or for an unresolved target the target as
	// written (without .md, #heading or ^block).
	ID         string
	Label      string // title, or the last segment of an unresolved target
	Tags       []string
	Type       string
	Degree     int  // distinct edges in and out
	Unresolved bool // the target does not exist yet
}

// Edge is a link from Source to Target (node IDs), de-duplicated.
type Edge struct {
	Source string
	Target string
}

// Graph is the vault's link graph.
type Graph struct {
	Nodes []Node
	Edges []Edge
	// Version changes whenever the graph may have changed; callers can
	// cache what they derive from it (the gateway caches its JSON).
	Version uint64
}

// Graph returns every note and unresolved target as a node, sorted by ID,
// and the de-duplicated links between them. The result is shared until the
// next change: callers must not modify it.
func (v *Vault) Graph() Graph {
	var out Graph
	v.withLinks(true, func(l *linkState) { out = Graph{Nodes: l.nodes, Edges: l.edges, Version: l.version} })
	return out
}

func stemOf(rel string) string {
	b := path.Base(rel)
	return b[:len(b)-len(path.Ext(b))]
}
