package vault

import (
	"path"
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

// names is the note set: the lookup side used to resolve links, and the
// resolved links themselves (graph.go), kept current as notes come and go.
// It is guarded by Vault.mu.
type names struct {
	byPath  map[string]*entry   // path → entry
	byKey   map[string][]*entry // lower-cased path without .md → entries (case variants)
	byBase  map[string][]*entry // lower-cased basename without .md
	byAlias map[string][]*entry // lower-cased alias
	links   linkState
}

func newNames() names {
	return names{byPath: map[string]*entry{}, byKey: map[string][]*entry{}, byBase: map[string][]*entry{}, byAlias: map[string][]*entry{}, links: newLinkState()}
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

// add puts e in the note set. The links it can affect are resolved again
// when next needed.
func (n *names) add(e *entry) {
	n.addNames(e)
	n.links.added(e)
}

// remove takes e out of the note set.
func (n *names) remove(e *entry) {
	n.removeNames(e)
	n.links.removed(e)
}

// replace swaps old for e, a new version of the same note.
func (n *names) replace(old, e *entry) {
	n.removeNames(old)
	n.addNames(e)
	n.links.replaced(old, e)
}

func (n *names) addNames(e *entry) {
	n.byPath[e.path] = e
	n.byKey[e.key] = append(n.byKey[e.key], e)
	n.byBase[e.base] = append(n.byBase[e.base], e)
	for _, a := range e.aliases {
		k := strings.ToLower(a)
		n.byAlias[k] = append(n.byAlias[k], e)
	}
}

func (n *names) removeNames(e *entry) {
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
