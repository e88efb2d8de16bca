package vault

import (
	"bytes"
	"fmt"
	"net/url"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// LinkKind says how a link was written.
type LinkKind string

const (
	// Wikilink is [[target]], [[target|label]], [[target#heading]] or [[target^block]].
	Wikilink LinkKind = "wikilink"
	// MarkdownLink is [label](path/to/note.md).
	MarkdownLink LinkKind = "markdown"
)

// Link is one outgoing link of a note, as written.
type Link struct {
	// Raw is the target as written, with any #heading or ^block (the
	// reference's "links" entries).
	Raw string `json:"raw"`
	// Target is the note part of Raw: no #heading, ^block or label.
	// Markdown link targets are percent-decoded.
	Target string `json:"target"`
	// Subpath is the "#heading" or "#^block"/"^block" part, if any.
	Subpath string `json:"subpath,omitempty"`
	// Label is the text after | (wikilinks) or inside [] (Markdown links).
	Label string `json:"label,omitempty"`
	// Embed is true for ![[…]] and ![…](…).
	Embed bool     `json:"embed,omitempty"`
	Kind  LinkKind `json:"kind"`
}

// parsed is what the index keeps of a note's text.
type parsed struct {
	frontmatter map[string]any
	hasFront    bool
	body        string // after the frontmatter, untrimmed
	title       string
	tags        []string
	aliases     []string
	typ         string
	links       []Link
}

// detach copies the strings the note set keeps (title, tags, aliases,
// type, links) out of the note's text into one allocation. Substrings
// share the text's memory, so without this every note's whole text (and
// its code-masked copy) would stay in memory for as long as its entry:
// about 30 MB for 10,000 notes of 300 words.
func (p *parsed) detach() {
	fields := []*string{&p.title, &p.typ}
	for i := range p.tags {
		fields = append(fields, &p.tags[i])
	}
	for i := range p.aliases {
		fields = append(fields, &p.aliases[i])
	}
	var shared []*Link // links whose Target starts their Raw: stored once
	for i := range p.links {
		l := &p.links[i]
		fields = append(fields, &l.Raw, &l.Subpath, &l.Label)
		if strings.HasPrefix(l.Raw, l.Target) {
			shared = append(shared, l)
		} else {
			fields = append(fields, &l.Target)
		}
	}
	n := 0
	for _, f := range fields {
		n += len(*f)
	}
	var b strings.Builder
	b.Grow(n)
	for _, f := range fields {
		b.WriteString(*f)
	}
	all := b.String()
	for _, f := range fields {
		*f, all = all[:len(*f)], all[len(*f):]
	}
	for _, l := range shared {
		l.Target = l.Raw[:len(l.Target)]
	}
}

// decodeText turns file bytes into text the way Obsidian shows them: a
// leading BOM is dropped and invalid UTF-8 becomes U+FFFD.
func decodeText(b []byte) string {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// splitFrontmatter splits YAML frontmatter from the body. Frontmatter is a
// first line of exactly "---" and a later line of exactly "---" (or "...");
// CRLF line ends are accepted.
func splitFrontmatter(text string) (yamlText, body string, ok bool) {
	first, rest, found := strings.Cut(text, "\n")
	if !found || strings.TrimRight(first, " \t\r") != "---" {
		return "", text, false
	}
	off := 0
	for off <= len(rest) {
		line, _, more := strings.Cut(rest[off:], "\n")
		t := strings.TrimRight(line, " \t\r")
		if t == "---" || t == "..." {
			end := off + len(line)
			if more {
				end++
			}
			return rest[:off], rest[end:], true
		}
		if !more {
			break
		}
		off += len(line) + 1
	}
	return "", text, false
}

// parseNote reads a note's metadata and links. stem is the file name
// without .md, the title when frontmatter has none.
func parseNote(stem, text string) parsed {
	p := parsed{title: stem, body: text}
	if y, body, ok := splitFrontmatter(text); ok {
		p.hasFront = true
		p.body = body
		var m map[string]any
		if err := yaml.Unmarshal([]byte(y), &m); err == nil && m != nil {
			p.frontmatter = jsonSafe(m).(map[string]any)
		}
	}
	if p.frontmatter == nil {
		p.frontmatter = map[string]any{}
	}
	fm := p.frontmatter
	if t, ok := fm["title"].(string); ok && strings.TrimSpace(t) != "" {
		p.title = strings.TrimSpace(t)
	}
	if t, ok := fm["type"]; ok && t != nil {
		p.typ = strings.TrimSpace(fmt.Sprint(t))
	}
	var tags []string
	for _, key := range []string{"tags", "tag"} {
		tags = append(tags, frontTags(fm[key])...)
	}
	for _, key := range []string{"aliases", "alias"} {
		p.aliases = append(p.aliases, frontList(fm[key], false)...)
	}
	masked := maskCode(p.body)
	tags = append(tags, inlineTags(masked)...)
	p.tags = dedupeFold(tags)
	p.aliases = dedupeFold(p.aliases)
	p.links = findLinks(p.body, masked)
	return p
}

// jsonSafe converts YAML values to ones encoding/json accepts (maps with
// non-string keys become string-keyed).
func jsonSafe(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = jsonSafe(e)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[fmt.Sprint(k)] = jsonSafe(e)
		}
		return m
	case []any:
		for i, e := range t {
			t[i] = jsonSafe(e)
		}
		return t
	}
	return v
}

// frontTags reads frontmatter tags: a list, or a scalar that may hold several
// tags separated by commas or spaces (Obsidian accepts both). A leading # is
// dropped.
func frontTags(v any) []string {
	var out []string
	for _, s := range frontList(v, true) {
		s = strings.TrimPrefix(s, "#")
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// frontList reads a scalar-or-list frontmatter value as strings. With split,
// scalars are split on commas and white space.
func frontList(v any, split bool) []string {
	var out []string
	add := func(s string) {
		if split {
			for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
				out = append(out, f)
			}
			return
		}
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	switch t := v.(type) {
	case nil:
	case string:
		add(t)
	case []any:
		for _, e := range t {
			if e != nil {
				add(fmt.Sprint(e))
			}
		}
	default:
		add(fmt.Sprint(t))
	}
	return out
}

// dedupeFold drops case-insensitive duplicates, keeping the first spelling.
// The result is never nil.
func dedupeFold(in []string) []string {
	out := make([]string, 0, len(in))
	seen := make(map[string]bool, len(in))
	for _, s := range in {
		k := strings.ToLower(s)
		if !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	return out
}

// maskCode returns text with fenced code blocks, inline code spans and HTML
// comments replaced by spaces (newlines are kept), so offsets stay valid and
// nothing inside code is read as a link or tag.
func maskCode(text string) string {
	if !strings.ContainsAny(text, "`~<") {
		return text
	}
	b := []byte(text)
	blank := func(from, to int) {
		for i := from; i < to; i++ {
			if b[i] != '\n' {
				b[i] = ' '
			}
		}
	}
	// Fenced blocks, line by line.
	var fenceChar byte
	fenceLen, fenceStart := 0, 0
	for off := 0; off < len(text); {
		end := strings.IndexByte(text[off:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += off
		}
		line := text[off:end]
		trim := strings.TrimLeft(line, " ")
		indent := len(line) - len(trim)
		if fenceChar == 0 {
			if indent < 4 && (strings.HasPrefix(trim, "```") || strings.HasPrefix(trim, "~~~")) {
				c := trim[0]
				n := len(trim) - len(strings.TrimLeft(trim, string(c)))
				if c != '`' || !strings.Contains(trim[n:], "`") {
					fenceChar, fenceLen, fenceStart = c, n, off
				}
			}
		} else {
			t := strings.TrimRight(trim, " \t\r")
			if indent < 4 && len(t) >= fenceLen && strings.Trim(t, string(fenceChar)) == "" {
				blank(fenceStart, end)
				fenceChar = 0
			}
		}
		off = end + 1
	}
	if fenceChar != 0 { // an unclosed fence runs to the end
		blank(fenceStart, len(b))
	}
	// Inline code spans: a run of n backticks up to the next run of exactly n.
	s := string(b)
	for i := 0; i < len(s); {
		if s[i] != '`' {
			i++
			continue
		}
		n := 1
		for i+n < len(s) && s[i+n] == '`' {
			n++
		}
		j := i + n
		closed := -1
		for j < len(s) {
			k := strings.IndexByte(s[j:], '`')
			if k < 0 {
				break
			}
			k += j
			m := 1
			for k+m < len(s) && s[k+m] == '`' {
				m++
			}
			if m == n {
				closed = k + m
				break
			}
			j = k + m
		}
		if closed < 0 {
			i += n
			continue
		}
		blank(i, closed)
		i = closed
	}
	// HTML comments.
	s = string(b)
	for i := 0; ; {
		k := strings.Index(s[i:], "<!--")
		if k < 0 {
			break
		}
		k += i
		e := strings.Index(s[k+4:], "-->")
		if e < 0 {
			blank(k, len(b))
			break
		}
		blank(k, k+4+e+3)
		i = k + 4 + e + 3
	}
	return string(b)
}

// inlineTags finds #tags in (code-masked) body text. A tag follows the start
// of a line or white space, is made of letters, digits, _, -, / and must not
// be all digits (Obsidian's rule).
func inlineTags(masked string) []string {
	var out []string
	for i := 0; i < len(masked); i++ {
		if masked[i] != '#' {
			continue
		}
		if i > 0 {
			r, _ := utf8.DecodeLastRuneInString(masked[:i])
			if !unicode.IsSpace(r) {
				continue
			}
		}
		j := i + 1
		for j < len(masked) {
			r, size := utf8.DecodeRuneInString(masked[j:])
			if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' || r == '/' || unicode.Is(unicode.Mn, r)) {
				break
			}
			j += size
		}
		tag := strings.Trim(masked[i+1:j], "/")
		if tag != "" && strings.TrimFunc(tag, func(r rune) bool { return unicode.IsDigit(r) || r == '/' }) != "" {
			out = append(out, tag)
		}
		i = j - 1
	}
	return out
}

// findLinks finds wikilinks, embeds and Markdown links to .md files in the
// masked body. Link text is taken from the original body.
func findLinks(body, masked string) []Link {
	var out []Link
	// [[inner]] where inner holds no [, ] or newline; ! before it embeds.
	for i := 0; ; {
		k := strings.Index(masked[i:], "[[")
		if k < 0 {
			break
		}
		k += i
		j := k + 2
		for j < len(masked) && masked[j] != ']' && masked[j] != '[' && masked[j] != '\n' {
			j++
		}
		if j == k+2 || j+1 >= len(masked) || masked[j] != ']' || masked[j+1] != ']' {
			i = k + 1
			continue
		}
		i = j + 2
		raw, label, _ := strings.Cut(body[k+2:j], "|")
		raw = strings.TrimSuffix(raw, `\`) // [[a\|b]] inside tables
		raw = strings.TrimSpace(raw)
		target, sub := splitSubpath(raw)
		if target == "" {
			continue // [[#heading]] points into the same note
		}
		out = append(out, Link{Raw: raw, Target: target, Subpath: sub, Label: strings.TrimSpace(label), Embed: k > 0 && masked[k-1] == '!', Kind: Wikilink})
	}
	// [label](dest) and [label](<dest>), with an optional "title".
	for i := 0; ; {
		k := strings.Index(masked[i:], "](")
		if k < 0 {
			break
		}
		k += i
		i = k + 2
		open := k - 1
		for open >= 0 && masked[open] != '[' && masked[open] != ']' && masked[open] != '\n' {
			open--
		}
		if open < 0 || masked[open] != '[' {
			continue
		}
		d, end, ok := linkDest(masked, k+2)
		if !ok {
			continue
		}
		i = end
		dest := body[d.from:d.to]
		if strings.Contains(dest, ":") { // a scheme: http:, mailto:, obsidian:…
			continue
		}
		file, frag, _ := strings.Cut(dest, "#")
		if dec, err := url.PathUnescape(file); err == nil {
			file = dec
		}
		if !strings.EqualFold(path.Ext(file), ".md") {
			continue
		}
		l := Link{Raw: dest, Target: file, Label: body[open+1 : k], Embed: open > 0 && masked[open-1] == '!', Kind: MarkdownLink}
		if frag != "" {
			l.Subpath = "#" + frag
		}
		out = append(out, l)
	}
	return out
}

type span struct{ from, to int }

// linkDest reads a Markdown link destination starting at i (just after
// "("): <dest> or a run without spaces and ()<>, then an optional "title",
// then ")". It returns the destination span and the offset after ")".
func linkDest(s string, i int) (span, int, bool) {
	var d span
	if i < len(s) && s[i] == '<' {
		j := i + 1
		for j < len(s) && s[j] != '>' && s[j] != '<' && s[j] != '\n' {
			j++
		}
		if j >= len(s) || s[j] != '>' || j == i+1 {
			return d, 0, false
		}
		d, i = span{i + 1, j}, j+1
	} else {
		j := i
		for j < len(s) && !strings.ContainsRune(" \t\n()<>", rune(s[j])) {
			j++
		}
		if j == i {
			return d, 0, false
		}
		d, i = span{i, j}, j
	}
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	if i < len(s) && s[i] == '"' {
		e := strings.IndexAny(s[i+1:], "\"\n")
		if e < 0 || s[i+1+e] != '"' {
			return d, 0, false
		}
		i += e + 2
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
	}
	if i >= len(s) || s[i] != ')' {
		return d, 0, false
	}
	return d, i + 1, true
}

// splitSubpath cuts "note#heading" or "note^block" into note and subpath.
func splitSubpath(raw string) (target, sub string) {
	if i := strings.IndexAny(raw, "#^"); i >= 0 {
		return strings.TrimSpace(raw[:i]), raw[i:]
	}
	return raw, ""
}
