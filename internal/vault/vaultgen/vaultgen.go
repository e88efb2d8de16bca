// Package vaultgen writes a realistic, reproducible Obsidian vault for
// benchmarks and load tests: nested folders, YAML frontmatter (title, tags,
// aliases, type), inline and nested #tags, wikilinks in every form to
// existing and missing notes, Markdown links, code blocks, and about 300
// words of Zipf-distributed text per note.
package vaultgen

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// Options shape a generated vault. Zero values take the defaults.
type Options struct {
	Notes int    // default 10,000
	Words int    // words of text per note, default 300
	Seed  uint64 // default 1
}

// Vault describes what Generate wrote.
type Vault struct {
	Dir   string
	Paths []string // relative note paths
	// Vocabulary is the word list, most frequent first; queries drawn from
	// it hit realistic numbers of notes.
	Vocabulary []string
	Bytes      int64
}

var syllables = []string{
	"ka", "lo", "mi", "ren", "ta", "shi", "vo", "nel", "dra", "por", "lu", "sen", "tor", "bel", "qui",
	"zan", "mor", "fi", "gal", "hen", "ix", "jor", "kel", "lam", "nor", "pri", "sal", "tem", "ur", "vin",
}

var areas = []string{"projects", "people", "journal", "research", "reading", "ideas", "meetings", "areas", "archive", "inbox"}

var types = []string{"note", "person", "project", "meeting", "book", "idea", ""}

// Generate writes a vault into dir (created if needed).
func Generate(dir string, o Options) (*Vault, error) {
	if o.Notes <= 0 {
		o.Notes = 10000
	}
	if o.Words <= 0 {
		o.Words = 300
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	r := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	vocab := vocabulary(r, 6000)
	zipf := rand.NewZipf(r, 1.07, 2, uint64(len(vocab)-1))
	tags := make([]string, 0, 240)
	for i := range 200 {
		tags = append(tags, vocab[100+i*7])
	}
	for i := range 40 { // nested tags
		tags = append(tags, tags[i]+"/"+vocab[50+i])
	}

	// Names first, so links can point at notes that exist.
	v := &Vault{Dir: dir, Vocabulary: vocab}
	names := make([]string, o.Notes)
	for i := range o.Notes {
		name := fmt.Sprintf("%s %s %d", title(vocab[r.IntN(3000)]), vocab[r.IntN(3000)], i)
		if i%97 == 0 && i > 0 { // some basenames repeat in other folders
			name = names[i-1]
		}
		area := areas[r.IntN(len(areas))]
		var folder string
		switch r.IntN(4) {
		case 0:
			folder = area
		case 1, 2:
			folder = fmt.Sprintf("%s/%s", area, vocab[200+r.IntN(40)])
		default:
			folder = fmt.Sprintf("%s/%s/%d", area, vocab[200+r.IntN(40)], r.IntN(5))
		}
		names[i] = name
		v.Paths = append(v.Paths, folder+"/"+name+".md")
	}

	var b bytes.Buffer
	for i, p := range v.Paths {
		b.Reset()
		b.WriteString("---\n")
		fmt.Fprintf(&b, "title: %s\n", names[i])
		switch r.IntN(3) {
		case 0:
			fmt.Fprintf(&b, "tags: %s\n", tags[r.IntN(len(tags))])
		default:
			b.WriteString("tags:\n")
			for range 1 + r.IntN(4) {
				fmt.Fprintf(&b, "  - %s\n", tags[r.IntN(len(tags))])
			}
		}
		if r.IntN(5) == 0 {
			fmt.Fprintf(&b, "aliases: [%s %s]\n", title(vocab[r.IntN(2000)]), vocab[r.IntN(2000)])
		}
		if t := types[r.IntN(len(types))]; t != "" {
			fmt.Fprintf(&b, "type: %s\n", t)
		}
		fmt.Fprintf(&b, "created: 2025-%02d-%02d\n---\n", 1+r.IntN(12), 1+r.IntN(28))
		fmt.Fprintf(&b, "# %s\n\n", names[i])
		links := 4 + r.IntN(9)
		for w := 0; w < o.Words; w++ {
			if w > 0 && w%60 == 0 {
				b.WriteString("\n\n")
				if r.IntN(4) == 0 {
					fmt.Fprintf(&b, "## %s\n\n", title(vocab[zipf.Uint64()]))
				}
			} else if w > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(vocab[zipf.Uint64()])
			if links > 0 && r.IntN(o.Words/12+1) == 0 {
				links--
				b.WriteByte(' ')
				writeLink(&b, r, names, v.Paths, vocab)
			}
			if r.IntN(150) == 0 {
				fmt.Fprintf(&b, " #%s", tags[r.IntN(len(tags))])
			}
		}
		for ; links > 0; links-- {
			b.WriteString("\n- ")
			writeLink(&b, r, names, v.Paths, vocab)
		}
		if r.IntN(8) == 0 {
			fmt.Fprintf(&b, "\n\n```go\n// [[%s]] is not a link here\nfmt.Println(%q)\n```\n", names[r.IntN(len(names))], vocab[r.IntN(100)])
		}
		b.WriteByte('\n')
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return nil, fmt.Errorf("generate vault: %w", err)
		}
		if err := os.WriteFile(full, b.Bytes(), 0o644); err != nil {
			return nil, fmt.Errorf("generate vault: %w", err)
		}
		v.Bytes += int64(b.Len())
	}
	return v, nil
}

// writeLink writes one link: mostly wikilinks by name to existing notes, in
// every form, some by path, some Markdown links, some to missing notes.
func writeLink(b *bytes.Buffer, r *rand.Rand, names, paths, vocab []string) {
	j := r.IntN(len(names))
	switch k := r.IntN(20); {
	case k < 8:
		fmt.Fprintf(b, "[[%s]]", names[j])
	case k < 10:
		fmt.Fprintf(b, "[[%s|%s]]", names[j], vocab[r.IntN(500)])
	case k < 11:
		fmt.Fprintf(b, "[[%s#%s]]", names[j], title(vocab[r.IntN(500)]))
	case k < 12:
		fmt.Fprintf(b, "[[%s#^%x]]", strings.ToLower(names[j]), r.Uint32()&0xffffff)
	case k < 13:
		fmt.Fprintf(b, "![[%s]]", names[j])
	case k < 15:
		fmt.Fprintf(b, "[[%s]]", strings.TrimSuffix(paths[j], ".md"))
	case k < 16:
		fmt.Fprintf(b, "[%s](%s)", vocab[r.IntN(500)], strings.ReplaceAll(paths[j], " ", "%20"))
	default: // a note nobody wrote yet (from a pool, as people link the same ideas)
		m := r.IntN(len(names) / 10)
		fmt.Fprintf(b, "[[%s %s]]", title(vocab[m%3000]), vocab[3000+m%2999])
	}
}

// vocabulary makes n distinct pronounceable words.
func vocabulary(r *rand.Rand, n int) []string {
	seen := make(map[string]bool, n)
	out := make([]string, 0, n)
	for len(out) < n {
		var sb strings.Builder
		for range 1 + r.IntN(3) + len(out)/2000 {
			sb.WriteString(syllables[r.IntN(len(syllables))])
		}
		w := sb.String()
		if len(w) < 3 || seen[w] {
			continue
		}
		seen[w] = true
		out = append(out, w)
	}
	return out
}

func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
