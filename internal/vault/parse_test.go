package vault

import (
	"reflect"
	"sort"
	"strings"
	"testing"
	"unsafe"
)

func TestParseLinks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want []Link
	}{
		{"plain", "see [[Alpha]] now", []Link{{Raw: "Alpha", Target: "Alpha", Kind: Wikilink}}},
		{"label", "[[Alpha|the first]]", []Link{{Raw: "Alpha", Target: "Alpha", Label: "the first", Kind: Wikilink}}},
		{"heading", "[[Alpha#Intro]]", []Link{{Raw: "Alpha#Intro", Target: "Alpha", Subpath: "#Intro", Kind: Wikilink}}},
		{"heading and label", "[[Alpha#Intro|x]]", []Link{{Raw: "Alpha#Intro", Target: "Alpha", Subpath: "#Intro", Label: "x", Kind: Wikilink}}},
		{"block", "[[Alpha^abc123]]", []Link{{Raw: "Alpha^abc123", Target: "Alpha", Subpath: "^abc123", Kind: Wikilink}}},
		{"heading block", "[[Alpha#^abc123]]", []Link{{Raw: "Alpha#^abc123", Target: "Alpha", Subpath: "#^abc123", Kind: Wikilink}}},
		{"path", "[[projects/x/Beta]]", []Link{{Raw: "projects/x/Beta", Target: "projects/x/Beta", Kind: Wikilink}}},
		{"embed", "![[Diagram]]", []Link{{Raw: "Diagram", Target: "Diagram", Embed: true, Kind: Wikilink}}},
		{"embed image", "![[pic.png|200]]", []Link{{Raw: "pic.png", Target: "pic.png", Label: "200", Embed: true, Kind: Wikilink}}},
		{"table pipe", "| [[Alpha\\|A]] |", []Link{{Raw: "Alpha", Target: "Alpha", Label: "A", Kind: Wikilink}}},
		{"same-note heading is not a link", "[[#Intro]]", nil},
		{"markdown md", "[the beta](notes/Beta.md)", []Link{{Raw: "notes/Beta.md", Target: "notes/Beta.md", Label: "the beta", Kind: MarkdownLink}}},
		{"markdown encoded", "[b](My%20Note.md#Part)", []Link{{Raw: "My%20Note.md#Part", Target: "My Note.md", Subpath: "#Part", Label: "b", Kind: MarkdownLink}}},
		{"markdown angle", "[b](<My Note.md>)", []Link{{Raw: "My Note.md", Target: "My Note.md", Label: "b", Kind: MarkdownLink}}},
		{"markdown embed", "![x](sub/a.md)", []Link{{Raw: "sub/a.md", Target: "sub/a.md", Label: "x", Embed: true, Kind: MarkdownLink}}},
		{"markdown title", `[t](a.md "The A")`, []Link{{Raw: "a.md", Target: "a.md", Label: "t", Kind: MarkdownLink}}},
		{"markdown after brackets", "[x] and [y](b.md)", []Link{{Raw: "b.md", Target: "b.md", Label: "y", Kind: MarkdownLink}}},
		{"markdown empty angle", "[a](<>)", nil},
		{"markdown unclosed", "[a](b.md", nil},
		{"markdown url is not a note", "[site](https://example.com/a.md)", nil},
		{"markdown non-md", "[img](pic.png)", nil},
		{"inline code", "use `[[Alpha]]` like this", nil},
		{"double backtick code", "``a ` [[Alpha]]`` and [[Beta]]", []Link{{Raw: "Beta", Target: "Beta", Kind: Wikilink}}},
		{"fenced code", "```\n[[Alpha]]\n```\n[[Beta]]", []Link{{Raw: "Beta", Target: "Beta", Kind: Wikilink}}},
		{"tilde fence", "~~~md\n[[Alpha]]\n~~~\n", nil},
		{"unclosed fence", "```\n[[Alpha]]", nil},
		{"html comment", "<!-- [[Alpha]] -->[[Beta]]", []Link{{Raw: "Beta", Target: "Beta", Kind: Wikilink}}},
		{"unmatched backtick keeps links", "it`s [[Alpha]]", []Link{{Raw: "Alpha", Target: "Alpha", Kind: Wikilink}}},
		{"two on a line", "[[A]] and [[B|b]]", []Link{{Raw: "A", Target: "A", Kind: Wikilink}, {Raw: "B", Target: "B", Label: "b", Kind: Wikilink}}},
		{"crlf", "line\r\n[[Alpha]]\r\n", []Link{{Raw: "Alpha", Target: "Alpha", Kind: Wikilink}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseNote("n", tt.body).links
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("links(%q) = %+v, want %+v", tt.body, got, tt.want)
			}
		})
	}
}

func TestParseTags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"scalar", "---\ntags: solo\n---\nbody", []string{"solo"}},
		{"scalar list in a string", "---\ntags: a, b c\n---\n", []string{"a", "b", "c"}},
		{"list", "---\ntags: [x, y]\n---\n", []string{"x", "y"}},
		{"block list with #", "---\ntags:\n  - '#x'\n  - y/z\n---\n", []string{"x", "y/z"}},
		{"null", "---\ntags:\n---\n", []string{}},
		{"tag key", "---\ntag: one\n---\n", []string{"one"}},
		{"inline", "hello #world and #nested/tag/deep.", []string{"world", "nested/tag/deep"}},
		{"merged and deduped", "---\ntags: [Work]\n---\n#work #other", []string{"Work", "other"}},
		{"heading is not a tag", "# Title\n## Sub", []string{}},
		{"numbers are not tags", "issue #123 but #y2024", []string{"y2024"}},
		{"needs space before", "a#b url.com/#frag", []string{}},
		{"not in code", "`#code` and\n```\n#fenced\n```\n#real", []string{"real"}},
		{"unicode", "#café #日本", []string{"café", "日本"}},
		{"crlf frontmatter", "---\r\ntags: [a]\r\n---\r\n#b\r\n", []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseNote("n", tt.text).tags
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("tags(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestParseFrontmatter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		text     string
		title    string
		typ      string
		aliases  []string
		body     string
		fmKeys   []string
		hasFront bool
	}{
		{"none", "just text\n", "stem", "", []string{}, "just text\n", nil, false},
		{"full", "---\ntitle: Hello\ntype: person\naliases: [Hi, Hey]\nextra: {a: 1}\n---\nbody\n", "Hello", "person", []string{"Hi", "Hey"}, "body\n", []string{"aliases", "extra", "title", "type"}, true},
		{"scalar alias", "---\naliases: Solo Name\n---\n", "stem", "", []string{"Solo Name"}, "", []string{"aliases"}, true},
		{"crlf", "---\r\ntitle: Win\r\n---\r\nbody\r\n", "Win", "", []string{}, "body\r\n", []string{"title"}, true},
		{"bad yaml", "---\ntitle: [oops\n---\nbody", "stem", "", []string{}, "body", nil, true},
		{"not closed", "---\ntitle: x\nbody", "stem", "", []string{}, "---\ntitle: x\nbody", nil, false},
		{"dashes later are not frontmatter", "text\n---\ntitle: x\n---\n", "stem", "", []string{}, "text\n---\ntitle: x\n---\n", nil, false},
		{"non-string keys", "---\n1: one\ntrue: yes\n---\n", "stem", "", []string{}, "", []string{"1", "true"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parseNote("stem", tt.text)
			if p.title != tt.title || p.typ != tt.typ || p.body != tt.body || p.hasFront != tt.hasFront {
				t.Errorf("parse(%q) = title %q type %q body %q front %v, want %q %q %q %v", tt.text, p.title, p.typ, p.body, p.hasFront, tt.title, tt.typ, tt.body, tt.hasFront)
			}
			if !reflect.DeepEqual(p.aliases, tt.aliases) {
				t.Errorf("aliases(%q) = %q, want %q", tt.text, p.aliases, tt.aliases)
			}
			var keys []string
			for k := range p.frontmatter {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			if !reflect.DeepEqual(keys, tt.fmKeys) {
				t.Errorf("frontmatter keys(%q) = %q, want %q", tt.text, keys, tt.fmKeys)
			}
		})
	}
}

// TestDetach: after detach the kept strings are equal but no longer point
// into the note's text, so the text can be collected.
func TestDetach(t *testing.T) {
	t.Parallel()
	text := strings.Repeat("filler ", 200) + `---
title: Kept Title
type: person
tags: [a, b/c]
aliases: [Other Name]
---
See [[Target Note#Part|label]], ![[pic.png]], [md](Some%20Note.md) and [[Plain]]. #inline/tag
`
	text = text[len("filler ")*200:] // frontmatter first, as in a file; the filler stays in the backing array
	p := parseNote("stem", text)
	want := parseNote("stem", text)
	p.detach()
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("detach changed the note:\n got %+v\nwant %+v", p, want)
	}
	lo := uintptr(unsafe.Pointer(unsafe.StringData(text)))
	hi := lo + uintptr(len(text))
	inText := func(what, s string) {
		if s == "" {
			return
		}
		if a := uintptr(unsafe.Pointer(unsafe.StringData(s))); a >= lo-uintptr(len("filler "))*200 && a < hi {
			t.Errorf("%s %q still points into the text", what, s)
		}
	}
	inText("title", p.title)
	inText("type", p.typ)
	for _, s := range p.tags {
		inText("tag", s)
	}
	for _, s := range p.aliases {
		inText("alias", s)
	}
	if len(p.links) != 4 || len(p.tags) != 3 {
		t.Fatalf("parsed %d links and tags %v, want 4 links and 3 tags", len(p.links), p.tags)
	}
	for _, l := range p.links {
		inText("link raw", l.Raw)
		inText("link target", l.Target)
		inText("link subpath", l.Subpath)
		inText("link label", l.Label)
	}
}

func TestDecodeText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"utf8", []byte("héllo"), "héllo"},
		{"bom", []byte("\xef\xbb\xbf---\ntitle: x\n---\n"), "---\ntitle: x\n---\n"},
		{"latin1", []byte("caf\xe9 [[Ok]]"), "caf\uFFFD [[Ok]]"},
		{"truncated rune", []byte("ab\xe2\x82"), "ab\uFFFD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decodeText(tt.in); got != tt.want {
				t.Errorf("decodeText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	// Links and frontmatter still parse around invalid bytes.
	p := parseNote("n", decodeText([]byte("---\ntitle: T\xff\n---\n[[Target]] #t\xfe")))
	if p.title != "T\uFFFD" || len(p.links) != 1 || p.links[0].Target != "Target" || !reflect.DeepEqual(p.tags, []string{"t"}) {
		t.Errorf("parse of non-UTF-8 note = title %q links %+v tags %q", p.title, p.links, p.tags)
	}
}

func TestCleanRel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string // "" means rejected
	}{
		{"a.md", "a.md"},
		{"dir/sub/a.md", "dir/sub/a.md"},
		{"./a.md", "a.md"},
		{"dir//a.md", "dir/a.md"},
		{"", ""},
		{"../a.md", ""},
		{"dir/../../a.md", ""},
		{"dir/../a.md", ""},
		{"/etc/passwd", ""},
		{"C:/x.md", ""},
		{`dir\..\a.md`, ""},
		{"a\x00.md", ""},
		{".obsidian/app.md", ""},
		{"dir/.hidden.md", ""},
		{".", ""},
	}
	for _, tt := range tests {
		got, err := cleanRel(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("cleanRel(%q) = %q, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("cleanRel(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestFTSQuery(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"  ", ""},
		{"hello", `"hello"`},
		{"hello world", `"hello" "world"`},
		{"gam*", `"gam"*`},
		{"g*", `"g*"`},
		{"**", ""},
		{`say "hi"`, `"say" """hi"""`},
		{"a-b NOT c", `"a-b" "NOT" "c"`},
		{"- *", ""},
	}
	for _, tt := range tests {
		if got := ftsQuery(tt.in); got != tt.want {
			t.Errorf("ftsQuery(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestMarkSnippet(t *testing.T) {
	t.Parallel()
	got := markSnippet("a <b> \x01word\x02 & c")
	if want := "a &lt;b&gt; <mark>word</mark> &amp; c"; got != want {
		t.Errorf("markSnippet = %q, want %q", got, want)
	}
}
