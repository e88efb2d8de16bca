package vault

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Run indexes the vault, then keeps the index in line with outside edits
// (Obsidian, an editor, git) until ctx ends or Close is called. Each changed
// path is re-indexed once it has been quiet for the debounce interval, and
// reported through OnChange. It returns nil on a clean stop.
func (v *Vault) Run(ctx context.Context) error {
	v.runMu.Lock()
	if v.closed {
		v.runMu.Unlock()
		return nil
	}
	if v.done != nil {
		v.runMu.Unlock()
		return errors.New("vault: Run called twice")
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	v.cancel, v.done = cancel, done
	v.runMu.Unlock()
	defer close(done)
	defer cancel()

	w, err := fsnotify.NewWatcher()
	if err != nil {
		err = fmt.Errorf("watch vault: %w", err)
		v.markReady(err)
		return err
	}
	defer w.Close()
	// Watches go up during the walk, so nothing changed meanwhile is missed:
	// such events only queue a (cheap) re-check.
	if err := v.index(ctx, w); err != nil {
		if ctx.Err() != nil {
			v.markReady(errClosedEarly)
			return nil
		}
		v.markReady(err)
		return err
	}
	// The first index leaves the notes' text and parse trees behind (about
	// 40 MB for 10,000 notes). Collect them now and hand the memory back:
	// an always-on app should not keep it, and the next large allocation
	// (the first graph answer) should not pay for collecting it.
	debug.FreeOSMemory()
	v.watch(ctx, w)
	return nil
}

// pending is a debounce timer for one path; gen tells a stale firing apart.
type pending struct {
	t   *time.Timer
	gen uint64
}

type firing struct {
	rel string
	gen uint64
}

func (v *Vault) watch(ctx context.Context, w *fsnotify.Watcher) {
	waiting := map[string]pending{}
	fired := make(chan firing)
	var gen uint64
	defer func() {
		for _, p := range waiting {
			p.t.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if ev.Op == fsnotify.Chmod {
				continue
			}
			rel, ok := v.relOf(ev.Name)
			if !ok {
				continue
			}
			if p, ok := waiting[rel]; ok {
				p.t.Stop()
			}
			gen++
			f := firing{rel, gen}
			waiting[rel] = pending{t: time.AfterFunc(v.debounce, func() {
				select {
				case fired <- f:
				case <-ctx.Done():
				}
			}), gen: gen}
		case f := <-fired:
			if p, ok := waiting[f.rel]; !ok || p.gen != f.gen {
				continue // superseded by a later event
			}
			delete(waiting, f.rel)
			v.syncPath(ctx, w, f.rel)
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				v.log.Warn("watcher overflow, rescanning the vault")
				if err := v.index(ctx, w); err != nil {
					v.log.Error("rescan vault", "err", err)
				}
				v.emit(Changed, "")
				continue
			}
			v.log.Warn("watch vault", "err", err)
		}
	}
}

// relOf turns a watcher path into a clean vault path; hidden paths (our
// temporary files, .obsidian, .git, .trash) and the root itself are skipped.
func (v *Vault) relOf(name string) (string, bool) {
	rel, err := filepath.Rel(v.root, name)
	if err != nil {
		return "", false
	}
	rel = filepath.ToSlash(rel)
	if rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", false
	}
	for _, seg := range strings.Split(rel, "/") {
		if strings.HasPrefix(seg, ".") {
			return "", false
		}
	}
	return rel, true
}

// syncPath re-checks one path after outside changes: a note is re-indexed
// or dropped; a folder that appeared is watched and its notes indexed; a
// folder that vanished takes its notes with it.
func (v *Vault) syncPath(ctx context.Context, w *fsnotify.Watcher, rel string) {
	info, err := v.fsys.Lstat(rel)
	if err == nil && info.IsDir() {
		v.addTree(ctx, w, rel)
		return
	}
	var events [][2]string
	v.writeMu.Lock()
	if err == nil && info.Mode().IsRegular() && isNotePath(rel) {
		action, err := v.syncNote(ctx, rel)
		if err != nil {
			v.log.Warn("index note", "path", rel, "err", err)
		} else if action != "" {
			events = append(events, [2]string{action, rel})
		}
	} else {
		gone, err := v.removeNotes(ctx, rel)
		if err != nil {
			v.log.Warn("unindex note", "path", rel, "err", err)
		}
		for _, p := range gone {
			events = append(events, [2]string{Deleted, p})
		}
	}
	v.writeMu.Unlock()
	for _, e := range events {
		v.emit(e[0], e[1])
	}
}

// addTree watches a folder that appeared (created, or moved in) and indexes
// the notes it already holds: events inside it may predate the watch.
func (v *Vault) addTree(ctx context.Context, w *fsnotify.Watcher, rel string) {
	var notes []string
	dir := filepath.Join(v.root, filepath.FromSlash(rel))
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if p != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if err := w.Add(p); err != nil {
				v.log.Warn("watch folder", "path", p, "err", err)
			}
			return nil
		}
		if d.Type().IsRegular() && isNotePath(d.Name()) {
			if r, err := filepath.Rel(v.root, p); err == nil {
				notes = append(notes, filepath.ToSlash(r))
			}
		}
		return nil
	})
	var events [][2]string
	v.writeMu.Lock()
	for _, c := range notes {
		action, err := v.syncNote(ctx, path.Clean(c))
		if err != nil {
			v.log.Warn("index note", "path", c, "err", err)
			continue
		}
		if action != "" {
			events = append(events, [2]string{action, c})
		}
	}
	v.writeMu.Unlock()
	for _, e := range events {
		v.emit(e[0], e[1])
	}
}
