package vault

import (
	"path"
	"sort"
	"strings"
	"time"
)

// entry is what the index keeps in memory for one note (not its text).
type entry struct {
	path     string // relative, slash-separated, as on disk
	key      string // lower-cased path without .md
	base     string // lower-cased file name without .md
	title    string
	tags     []string
	aliases  []string
	typ      string
	links    []Link
	modified time.Time
	size     int64
	hash     uint64
	id       int64 // rowid in vault_notes / vault_fts
}

// names is the lookup side of the note set, used to resolve links.
// It is guarded by Vault.mu.
type names struct {
	byPath  map[string]*entry   // path → entry
	byKey   map[string][]*entry // lower-cased path without .md → entries (case variants)
	byBase  map[string][]*entry // lower-cased basename without .md
	byAlias map[string][]*entry // lower-cased alias
}

func newNames() names {
	return names{byPath: map[string]*entry{}, byKey: map[string][]*entry{}, byBase: map[string][]*entry{}, byAlias: map[string][]*entry{}}
}

func (n *names) add(e *entry) {
	n.byPath[e.path] = e
	n.byKey[e.key] = append(n.byKey[e.key], e)
	n.byBase[e.base] = append(n.byBase[e.base], e)
	for _, a := range e.aliases {
		k := strings.ToLower(a)
		n.byAlias[k] = append(n.byAlias[k], e)
	}
}

func (n *names) remove(e *entry) {
	delete(n.byPath, e.path)
	drop := func(m map[string][]*entry, k string) {
		l := m[k]
		for i, x := range l {
			if x == e {
				l = append(l[:i:i], l[i+1:]...)
				break
			}
		}
		if len(l) == 0 {
			delete(m, k)
		} else {
			m[k] = l
		}
	}
	drop(n.byKey, e.key)
	drop(n.byBase, e.base)
	for _, a := range e.aliases {
		drop(n.byAlias, strings.ToLower(a))
	}
}

// noteKey is the lookup key of a note path: lower-cased, without .md.
func noteKey(rel string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSuffix(rel, ".md"), ".MD"))
}

// linkKey normalises a link target: trimmed, lower-cased, without a leading
// "/" and a trailing ".md".
func linkKey(target string) string {
	k := strings.ToLower(strings.TrimSpace(target))
	k = strings.TrimPrefix(k, "/")
	k = strings.TrimSuffix(k, ".md")
	return k
}

// attachmentExt are extensions of files that are not notes; links to them
// (mostly image embeds) are neither edges nor unresolved notes.
var attachmentExt = map[string]bool{
	".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".svg": true, ".webp": true, ".bmp": true, ".avif": true,
	".pdf": true, ".mp3": true, ".wav": true, ".ogg": true, ".m4a": true, ".flac": true, ".webm": true, ".mp4": true,
	".mov": true, ".mkv": true, ".canvas": true, ".base": true, ".excalidraw": true, ".txt": true, ".csv": true, ".json": true,
}

// isAttachment reports whether a link target names a non-note file.
func isAttachment(target string) bool { return attachmentExt[strings.ToLower(path.Ext(target))] }

// resolve finds the note a link from source points to, the way Obsidian
// does, or nil when it is unresolved:
//
//  1. "./x" and "../x" are relative to the source's folder;
//  2. otherwise the vault-relative path, then the path relative to the
//     source's folder;
//  3. then every note whose path ends with the target (the basename, or
//     "folder/name" for a partial path): one in the source's folder wins,
//     else the shortest path, then the alphabetically first;
//  4. then notes with the target as an alias, by the same order.
//
// Matching ignores case; #heading and ^block were cut off already.
func (n *names) resolve(target, source string) *entry {
	k := linkKey(target)
	if k == "" {
		return nil
	}
	dir := path.Dir(source)
	if dir == "." {
		dir = ""
	}
	rel := func(k string) string { return strings.ToLower(path.Clean(path.Join(dir, k))) }
	if strings.HasPrefix(k, "./") || strings.HasPrefix(k, "../") {
		r := rel(k)
		if strings.HasPrefix(r, "../") || r == ".." {
			return nil
		}
		return pick(n.byKey[r], dir)
	}
	if e := pick(n.byKey[k], dir); e != nil {
		return e
	}
	if dir != "" {
		if e := pick(n.byKey[rel(k)], dir); e != nil {
			return e
		}
	}
	base := k
	if i := strings.LastIndexByte(k, '/'); i >= 0 {
		base = k[i+1:]
	}
	var cands []*entry
	for _, e := range n.byBase[base] {
		if base == k || strings.HasSuffix(e.key, "/"+k) {
			cands = append(cands, e)
		}
	}
	if e := pick(cands, dir); e != nil {
		return e
	}
	return pick(n.byAlias[k], dir)
}

// pick chooses among candidates: same folder as the source first, then the
// shortest path, then the alphabetically first path.
func pick(cands []*entry, dir string) *entry {
	var best *entry
	bestSame := false
	for _, e := range cands {
		d := path.Dir(e.path)
		if d == "." {
			d = ""
		}
		same := d == dir
		switch {
		case best == nil:
		case same != bestSame:
			if !same {
				continue
			}
		case len(e.path) != len(best.path):
			if len(e.path) > len(best.path) {
				continue
			}
		case e.path > best.path:
			continue
		}
		best, bestSame = e, same
	}
	return best
}

// linkGraph is the resolved link structure, rebuilt lazily after changes.
type linkGraph struct {
	out        map[string][]string // source path → resolved target paths (de-duplicated)
	in         map[string][]string // target path → source paths
	unresolved map[string]*unresolvedNode
	edges      []Edge // de-duplicated; unresolved targets use the node id
}

type unresolvedNode struct {
	id    string
	label string
}

// buildGraph resolves every link of every note. Callers hold v.mu (read).
func (n *names) buildGraph() *linkGraph {
	g := &linkGraph{out: map[string][]string{}, in: map[string][]string{}, unresolved: map[string]*unresolvedNode{}}
	paths := make([]string, 0, len(n.byPath))
	for p := range n.byPath {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, src := range paths {
		e := n.byPath[src]
		seen := map[string]bool{}
		for _, l := range e.links {
			if isAttachment(l.Target) {
				continue
			}
			var dst string
			if t := n.resolve(l.Target, src); t != nil {
				dst = t.path
				if dst == src {
					continue
				}
				if !seen[dst] {
					g.out[src] = append(g.out[src], dst)
					g.in[dst] = append(g.in[dst], src)
				}
			} else {
				k := linkKey(l.Target)
				u := g.unresolved[k]
				if u == nil {
					id := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(l.Target), "/"), ".md")
					u = &unresolvedNode{id: id, label: path.Base(id)}
					g.unresolved[k] = u
				}
				dst = u.id
			}
			if !seen[dst] {
				seen[dst] = true
				g.edges = append(g.edges, Edge{Source: src, Target: dst})
			}
		}
	}
	return g
}
