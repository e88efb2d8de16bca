package vault

import (
	"path"
	"slices"
	"strings"
)

// linkState is the resolved link structure of the note set: every note's
// outgoing links, the backlinks, the unresolved targets, and the graph built
// from them. It is kept current note by note. A change marks dirty only the
// notes whose links it can affect, those are resolved again when the links
// are next needed, and the graph's nodes and edges are rebuilt from the
// stored results without resolving anything else.
//
// Which notes a change can affect follows from resolveKey: a link can only
// resolve to a note whose base name, or the last segment of one of whose
// aliases, equals the last segment of the link's target. bySeg indexes the
// notes by those segments, so a note that appears, disappears or changes its
// aliases marks exactly the notes holding a link that could now resolve
// differently. An edit that keeps the aliases marks only the note itself.
type linkState struct {
	out        map[string][]target        // source path → distinct targets, in link order (no self links)
	in         map[string][]string        // note path → sources with a resolved link to it
	unresolved map[string]*unresolvedNode // link key → the node standing for it
	bySeg      map[string][]string        // last segment of a link target → sources with such a link
	dirty      map[string]struct{}        // sources to resolve again
	allDirty   bool                       // every source is to be resolved (a new note set)
	sorted     []string                   // note paths in order, when sortedOK
	sortedOK   bool                       // false while bulk-loading: sorted is built when needed
	stale      bool                       // nodes and edges must be rebuilt
	version    uint64                     // counts rebuilds of nodes and edges
	nodes      []Node                     // by ID
	edges      []Edge                     // by source, then link order
}

// target is where one link of a source points.
type target struct {
	path    string // the note linked to; "" when unresolved
	key     string // the link key, when unresolved
	written string // the unresolved target as the source first wrote it
}

// unresolvedNode is a link target that does not exist yet. It is named the
// way the first source in path order spells it.
type unresolvedNode struct {
	refs  map[string]string // source path → the target as it wrote it
	owner string            // the source whose spelling names the node
	id    string
	label string
}

func newLinkState() linkState {
	return linkState{
		out: map[string][]target{}, in: map[string][]string{}, unresolved: map[string]*unresolvedNode{},
		bySeg: map[string][]string{}, dirty: map[string]struct{}{}, allDirty: true, stale: true,
	}
}

// segOf is the last segment of link key k written in folder dir: the only
// base name (or alias segment) a note can have for k to resolve to it.
func segOf(k, dir string) string {
	if strings.HasPrefix(k, "./") || strings.HasPrefix(k, "../") {
		k = strings.ToLower(path.Join(dir, k))
	}
	return k[strings.LastIndexByte(k, '/')+1:]
}

// segsOf lists the distinct segments of e's links.
func segsOf(e *entry) []string {
	var out []string
	for _, k := range e.linkKeys {
		if k == "" {
			continue
		}
		if s := segOf(k, e.dir); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// segsTo lists the segments a link must end with to reach e: its base name
// and the last segment of each alias.
func segsTo(e *entry) []string {
	out := []string{e.base}
	for _, a := range e.aliases {
		a = strings.ToLower(a)
		if s := a[strings.LastIndexByte(a, '/')+1:]; !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// added records a note that joined the note set.
func (l *linkState) added(e *entry) {
	if l.sortedOK {
		if i, found := slices.BinarySearch(l.sorted, e.path); !found {
			l.sorted = slices.Insert(l.sorted, i, e.path)
		}
	}
	for _, s := range segsOf(e) {
		l.bySeg[s] = append(l.bySeg[s], e.path)
	}
	l.affect(e)
	if !l.allDirty {
		l.dirty[e.path] = struct{}{}
	}
}

// removed records a note that left the note set.
func (l *linkState) removed(e *entry) {
	if l.sortedOK {
		if i, found := slices.BinarySearch(l.sorted, e.path); found {
			l.sorted = slices.Delete(l.sorted, i, i+1)
		}
	}
	l.unregister(e)
	l.setOut(e.path, nil)
	delete(l.dirty, e.path)
	for _, src := range l.in[e.path] {
		l.dirty[src] = struct{}{}
	}
	l.affect(e)
}

// replaced records a new version of a note at the same path.
func (l *linkState) replaced(old, e *entry) {
	if !slices.EqualFunc(old.aliases, e.aliases, strings.EqualFold) {
		l.removed(old)
		l.added(e)
		return
	}
	// Same path and aliases: every other note resolves as before.
	l.unregister(old)
	for _, s := range segsOf(e) {
		l.bySeg[s] = append(l.bySeg[s], e.path)
	}
	l.dirty[e.path] = struct{}{}
	l.stale = true
}

// unregister drops e's links from bySeg.
func (l *linkState) unregister(e *entry) {
	for _, s := range segsOf(e) {
		srcs := l.bySeg[s]
		if i := slices.Index(srcs, e.path); i >= 0 {
			srcs[i] = srcs[len(srcs)-1]
			srcs = srcs[:len(srcs)-1]
		}
		if len(srcs) == 0 {
			delete(l.bySeg, s)
		} else {
			l.bySeg[s] = srcs
		}
	}
}

// affect marks dirty every source with a link that could resolve to e.
func (l *linkState) affect(e *entry) {
	l.stale = true
	if l.allDirty {
		return
	}
	for _, s := range segsTo(e) {
		for _, src := range l.bySeg[s] {
			l.dirty[src] = struct{}{}
		}
	}
}

// resolveDirty resolves the links of every dirty source again.
func (n *names) resolveDirty() {
	l := &n.links
	if l.allDirty {
		for src, e := range n.byPath {
			l.setOut(src, n.targets(e))
		}
		l.allDirty = false
	}
	for src := range l.dirty {
		if e := n.byPath[src]; e != nil {
			l.setOut(src, n.targets(e))
		} else {
			l.setOut(src, nil)
		}
	}
	clear(l.dirty)
}

// targets resolves e's links: distinct targets in link order, without links
// to e itself or to attachments.
func (n *names) targets(e *entry) []target {
	var out []target
	for i, k := range e.linkKeys {
		if k == "" {
			continue
		}
		var t target
		if r := n.resolveKey(k, e.dir); r == e {
			continue
		} else if r != nil {
			t.path = r.path
		} else {
			t.key = k
		}
		if slices.ContainsFunc(out, func(o target) bool { return o.path == t.path && o.key == t.key }) {
			continue
		}
		if t.key != "" {
			t.written = e.links[i].Target
		}
		out = append(out, t)
	}
	return out
}

// setOut replaces the targets of src, keeping in and unresolved in step.
func (l *linkState) setOut(src string, ts []target) {
	old := l.out[src]
	if slices.Equal(old, ts) {
		return
	}
	for _, t := range old {
		l.unlink(src, t)
	}
	for _, t := range ts {
		l.link(src, t)
	}
	if len(ts) == 0 {
		delete(l.out, src)
	} else {
		l.out[src] = ts
	}
	l.stale = true
}

func (l *linkState) link(src string, t target) {
	if t.path != "" {
		l.in[t.path] = append(l.in[t.path], src)
		return
	}
	u := l.unresolved[t.key]
	if u == nil {
		u = &unresolvedNode{refs: map[string]string{}}
		l.unresolved[t.key] = u
	}
	u.refs[src] = t.written
	if u.owner == "" || src < u.owner {
		u.name(src, t.written)
	}
}

func (l *linkState) unlink(src string, t target) {
	if t.path != "" {
		srcs := l.in[t.path]
		if i := slices.Index(srcs, src); i >= 0 {
			srcs[i] = srcs[len(srcs)-1]
			srcs = srcs[:len(srcs)-1]
		}
		if len(srcs) == 0 {
			delete(l.in, t.path)
		} else {
			l.in[t.path] = srcs
		}
		return
	}
	u := l.unresolved[t.key]
	if u == nil {
		return
	}
	delete(u.refs, src)
	switch {
	case len(u.refs) == 0:
		delete(l.unresolved, t.key)
	case u.owner == src:
		u.owner = ""
		for s, w := range u.refs {
			if u.owner == "" || s < u.owner {
				u.name(s, w)
			}
		}
	}
}

// name names u after the spelling of source src: the target without a
// leading "/" and a trailing ".md".
func (u *unresolvedNode) name(src, written string) {
	u.owner = src
	u.id = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(written), "/"), ".md")
	u.label = path.Base(u.id)
}

// build rebuilds the graph's nodes (by ID) and edges (by source, then link
// order) from the resolved links. It resolves nothing.
func (n *names) build() {
	l := &n.links
	if !l.sortedOK {
		l.sorted = make([]string, 0, len(n.byPath))
		for p := range n.byPath {
			l.sorted = append(l.sorted, p)
		}
		slices.Sort(l.sorted)
		l.sortedOK = true
	}
	ids := make([]string, 0, len(l.unresolved))
	byID := make(map[string]*unresolvedNode, len(l.unresolved))
	for _, u := range l.unresolved {
		if byID[u.id] == nil { // two spellings may trim to one ID ("x.MD", "x.md.md" are rare)
			ids = append(ids, u.id)
		}
		byID[u.id] = u
	}
	slices.Sort(ids)

	nodes := make([]Node, 0, len(l.sorted)+len(ids))
	note := func(p string) {
		e := n.byPath[p]
		nodes = append(nodes, Node{ID: p, Label: e.title, Tags: e.tags, Type: e.typ, Degree: len(l.out[p]) + len(l.in[p])})
	}
	i := 0
	for _, id := range ids {
		for ; i < len(l.sorted) && l.sorted[i] < id; i++ {
			note(l.sorted[i])
		}
		nodes = append(nodes, Node{ID: id, Label: byID[id].label, Tags: []string{}, Degree: len(byID[id].refs), Unresolved: true})
	}
	for ; i < len(l.sorted); i++ {
		note(l.sorted[i])
	}

	edges := make([]Edge, 0, len(l.edges)+16)
	for _, src := range l.sorted {
		for _, t := range l.out[src] {
			dst := t.path
			if dst == "" {
				dst = l.unresolved[t.key].id
			}
			edges = append(edges, Edge{Source: src, Target: dst})
		}
	}
	l.nodes, l.edges = nodes, edges
	l.version++
	l.stale = false
}

// fresh reports whether the links need no work: resolved, and with
// withNodes, the nodes and edges built too.
func (l *linkState) fresh(withNodes bool) bool {
	return !l.allDirty && len(l.dirty) == 0 && (!withNodes || !l.stale)
}

// refresh does what fresh says is missing.
func (n *names) refresh(withNodes bool) {
	n.resolveDirty()
	if withNodes && n.links.stale {
		n.build()
	}
}
