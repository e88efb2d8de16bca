package vault

import (
	"path"
	"slices"
	"sort"
	"strings"
	"time"
)

// entry is what the index keeps in memory for one note (not its text).
type entry struct {
	path     string // relative, slash-separated, as on disk
	key      string // lower-cased path without .md
	base     string // lower-cased file name without .md
	dir      string // folder of path, "" at the root
	title    string
	tags     []string
	aliases  []string
	typ      string
	links    []Link
	linkKeys []string // linkKey of each link's target; "" for attachments
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

// newEntry fills the derived fields of an entry for path rel.
func newEntry(rel string, links []Link) *entry {
	e := &entry{path: rel, key: noteKey(rel), base: strings.ToLower(stemOf(rel)), dir: folderOf(rel), links: links}
	e.linkKeys = make([]string, len(links))
	for i, l := range links {
		if !isAttachment(l.Target) {
			e.linkKeys[i] = linkKey(l.Target)
		}
	}
	return e
}

// folderOf is path.Dir with "" for the vault root.
func folderOf(rel string) string {
	if d := path.Dir(rel); d != "." {
		return d
	}
	return ""
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
	return n.resolveKey(linkKey(target), folderOf(source))
}

// resolveKey is resolve with the link key and the source's folder computed.
func (n *names) resolveKey(k, dir string) *entry {
	if k == "" {
		return nil
	}
	if strings.HasPrefix(k, "./") || strings.HasPrefix(k, "../") {
		r := strings.ToLower(path.Join(dir, k))
		if strings.HasPrefix(r, "../") || r == ".." {
			return nil
		}
		return pick(n.byKey[r], dir)
	}
	if l := n.byKey[k]; l != nil {
		return pick(l, dir)
	}
	slash := strings.LastIndexByte(k, '/')
	if slash >= 0 && dir != "" {
		// A bare name relative to the source's folder is found by the
		// same-folder preference below; only partial paths need this.
		if e := pick(n.byKey[strings.ToLower(dir)+"/"+k], dir); e != nil {
			return e
		}
	}
	cands := n.byBase[k[slash+1:]]
	if slash >= 0 {
		var keep []*entry
		for _, e := range cands {
			if strings.HasSuffix(e.key, "/"+k) {
				keep = append(keep, e)
			}
		}
		cands = keep
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
		same := e.dir == dir
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
	in         map[string][]string // target path → source paths
	unresolved map[string]*unresolvedNode
	edges      []Edge // de-duplicated; unresolved targets use the node id
	version    uint64 // set by withGraph
	nodes      []Node // set by withGraph, sorted by ID
}

type unresolvedNode struct {
	id    string
	label string
}

// buildGraph resolves every link of every note. Callers hold v.mu.
func (n *names) buildGraph() *linkGraph {
	paths := make([]string, 0, len(n.byPath))
	links := 0
	for p, e := range n.byPath {
		paths = append(paths, p)
		links += len(e.links)
	}
	g := &linkGraph{in: make(map[string][]string, len(n.byPath)), unresolved: map[string]*unresolvedNode{}, edges: make([]Edge, 0, links)}
	sort.Strings(paths)
	var seen []string // targets of the current source (few; a slice beats a map)
	for _, src := range paths {
		e := n.byPath[src]
		if len(e.linkKeys) != len(e.links) {
			*e = *newEntryLike(e)
		}
		seen = seen[:0]
		for i, k := range e.linkKeys {
			if k == "" {
				continue
			}
			var dst string
			resolved := false
			if t := n.resolveKey(k, e.dir); t != nil {
				if t == e {
					continue
				}
				dst, resolved = t.path, true
			} else {
				u := g.unresolved[k]
				if u == nil {
					id := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(e.links[i].Target), "/"), ".md")
					u = &unresolvedNode{id: id, label: path.Base(id)}
					g.unresolved[k] = u
				}
				dst = u.id
			}
			if slices.Contains(seen, dst) {
				continue
			}
			seen = append(seen, dst)
			g.edges = append(g.edges, Edge{Source: src, Target: dst})
			if resolved {
				g.in[dst] = append(g.in[dst], src)
			}
		}
	}
	return g
}

// newEntryLike returns e with its derived fields filled in.
func newEntryLike(e *entry) *entry {
	d := newEntry(e.path, e.links)
	c := *e
	c.key, c.base, c.dir, c.linkKeys = d.key, d.base, d.dir, d.linkKeys
	return &c
}
