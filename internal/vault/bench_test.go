package vault

// Benchmarks on a generated 10,000-note vault. Run them all with:
//
//	go test -p 1 -run '^$' -bench Vault -benchtime 1x ./internal/vault/ ./gateway/
//
// (-benchtime 1x makes the cold build run once; the search benchmark runs
// its own fixed query set and reports p50/p99 and the ratio to grep -ril.)

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"openagent/internal/vault/vaultgen"
)

const benchNotes = 10000

var bench struct {
	once sync.Once
	dir  string
	gen  *vaultgen.Vault
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

// benchVault generates the 10,000-note vault once per test binary.
func benchVault(b *testing.B) *vaultgen.Vault {
	b.Helper()
	bench.once.Do(func() {
		bench.dir, bench.err = os.MkdirTemp("", "vaultbench")
		if bench.err == nil {
			bench.gen, bench.err = vaultgen.Generate(filepath.Join(bench.dir, "memories"), vaultgen.Options{Notes: benchNotes})
		}
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return bench.gen
}

// indexedVault opens the generated vault over a fresh database and indexes it.
func indexedVault(b *testing.B, gen *vaultgen.Vault) (*Vault, time.Duration) {
	b.Helper()
	dir := b.TempDir()
	v, err := Open(context.Background(), gen.Dir, openDB(b, dir), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { v.Close() })
	start := time.Now()
	if err := v.Index(context.Background()); err != nil {
		b.Fatal(err)
	}
	return v, time.Since(start)
}

// rssMB reads the resident set size from /proc (Linux); 0 elsewhere.
func rssMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// cpuSeconds is this process's user+system CPU time from /proc (Linux; 0
// elsewhere). With other work on the machine, wall time overstates cost.
func cpuSeconds() float64 {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	k, _ := strconv.ParseFloat(f[12], 64)
	return (u + k) / 100 // USER_HZ
}

// BenchmarkVaultColdIndex builds the index from an empty database (target < 3 s).
func BenchmarkVaultColdIndex(b *testing.B) {
	gen := benchVault(b)
	var total time.Duration
	var v *Vault
	cpu := 0.0
	for b.Loop() {
		var d time.Duration
		c0 := cpuSeconds()
		v, d = indexedVault(b, gen)
		cpu += cpuSeconds() - c0
		total += d
	}
	n, _ := v.List("")
	if len(n) != benchNotes {
		b.Fatalf("indexed %d notes, want %d", len(n), benchNotes)
	}
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(len(n)), "notes")
	b.ReportMetric(float64(gen.Bytes)/(1<<20), "vault_MB")
	b.ReportMetric(total.Seconds()/float64(b.N), "s/build")
	b.ReportMetric(cpu/float64(b.N), "cpu_s/build")
	b.ReportMetric(rssMB(), "rss_MB")
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap_MB")
}

// BenchmarkVaultWarmIndex re-opens an indexed vault (restart): files are
// parsed again, unchanged FTS rows are kept.
func BenchmarkVaultWarmIndex(b *testing.B) {
	gen := benchVault(b)
	dir := b.TempDir()
	db := openDB(b, dir)
	v, err := Open(context.Background(), gen.Dir, db, Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := v.Index(context.Background()); err != nil {
		b.Fatal(err)
	}
	v.Close()
	for b.Loop() {
		v, err := Open(context.Background(), gen.Dir, db, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := v.Index(context.Background()); err != nil {
			b.Fatal(err)
		}
		v.Close()
	}
}

// benchQueries draws n queries of one or two words from vocabulary ranks
// [lo, hi) (rank 0 is the most frequent word in the generated text).
func benchQueries(gen *vaultgen.Vault, n, lo, hi int) []string {
	r := rand.New(rand.NewPCG(7, uint64(lo)))
	out := make([]string, n)
	for i := range out {
		q := gen.Vocabulary[lo+r.IntN(hi-lo)]
		if r.IntN(3) == 0 {
			q += " " + gen.Vocabulary[lo+r.IntN(hi-lo)]
		}
		out[i] = q
	}
	return out
}

// BenchmarkVaultSearch reports search latency p50/p99 (target p99 < 20 ms)
// for two query sets of 300: "typical" draws words ranked 50-3000 by
// frequency (what people search for), "common" draws the 50 most frequent
// words, which occur in most notes (stop-word-like; every match is ranked).
// It also runs the typical single words through grep -ril over the same
// folder and reports how many times faster the index is.
func BenchmarkVaultSearch(b *testing.B) {
	gen := benchVault(b)
	v, _ := indexedVault(b, gen)
	ctx := context.Background()
	sets := []struct {
		name    string
		queries []string
	}{
		{"typical", benchQueries(gen, 300, 50, 3000)},
		{"common", benchQueries(gen, 300, 0, 50)},
	}
	lat := map[string][]time.Duration{}
	for b.Loop() {
		for _, set := range sets {
			l := lat[set.name][:0]
			for _, q := range set.queries {
				start := time.Now()
				rs, err := v.Search(ctx, Query{Text: q, Limit: 20})
				if err != nil {
					b.Fatal(err)
				}
				l = append(l, time.Since(start))
				if len(rs) == 0 && !strings.Contains(q, " ") {
					b.Fatalf("no results for %q", q)
				}
			}
			lat[set.name] = l
		}
	}
	for _, set := range sets {
		l := lat[set.name]
		slices.Sort(l)
		pct := func(p float64) float64 { return float64(l[int(p*float64(len(l)-1))].Microseconds()) / 1000 }
		b.ReportMetric(pct(0.50), set.name+"_p50_ms")
		b.ReportMetric(pct(0.99), set.name+"_p99_ms")
	}

	// The same single words through grep -ril over the same folder.
	if _, err := exec.LookPath("grep"); err != nil {
		b.Log("grep not found; no comparison")
		return
	}
	var grepTotal, ftsTotal time.Duration
	words := 0
	for _, q := range sets[0].queries[:40] {
		w := strings.Fields(q)[0]
		start := time.Now()
		out, err := exec.Command("grep", "-ril", "--include=*.md", w, gen.Dir).Output()
		grepTotal += time.Since(start)
		if err != nil && len(out) != 0 {
			b.Fatal(err)
		}
		start = time.Now()
		if _, err := v.Search(ctx, Query{Text: w, Limit: 20}); err != nil {
			b.Fatal(err)
		}
		ftsTotal += time.Since(start)
		words++
	}
	b.ReportMetric(float64(grepTotal.Microseconds())/1000/float64(words), "grep_ms")
	b.ReportMetric(float64(ftsTotal.Microseconds())/1000/float64(words), "search_ms")
	b.ReportMetric(float64(grepTotal)/float64(ftsTotal), "x_faster_than_grep")
}

// BenchmarkVaultGraph times Graph() on the 10,000-note vault:
//   - full: every link resolved again (what a full rescan costs);
//   - after_edit: after one note's links change (the usual agent write);
//   - after_create / after_delete: a note whose name other notes link to
//     comes and goes, so those notes' links are resolved again.
//
// The note writes are not timed.
func BenchmarkVaultGraph(b *testing.B) {
	gen := benchVault(b)
	v, _ := indexedVault(b, gen)
	ctx := context.Background()
	var g Graph
	b.Run("full", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer() // the note set itself is built by Index, not timed here
			v.mu.Lock()
			fresh := newNames()
			for _, e := range v.names.byPath {
				fresh.add(e)
			}
			fresh.links.version = v.names.links.version
			v.names = fresh
			v.mu.Unlock()
			b.StartTimer()
			g = v.Graph()
		}
		unresolved := 0
		for _, n := range g.Nodes {
			if n.Unresolved {
				unresolved++
			}
		}
		b.ReportMetric(float64(len(g.Nodes)), "nodes")
		b.ReportMetric(float64(len(g.Edges)), "edges")
		b.ReportMetric(float64(unresolved), "unresolved")
	})
	write := func(b *testing.B, rel, content string) {
		b.StopTimer()
		if _, err := v.Write(ctx, rel, content); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	// A note that many others link to: the most linked-to node.
	var popular Node
	for _, n := range v.Graph().Nodes {
		if !n.Unresolved && n.Degree > popular.Degree {
			popular = n
		}
	}
	b.Run("after_edit", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			write(b, "bench/edit.md", fmt.Sprintf("edit %d [[%s]] [[elsewhere %d]]", i, stemOf(popular.ID), i%3))
			g = v.Graph()
		}
	})
	b.Run("after_create_delete", func(b *testing.B) {
		// The same base name in a shorter path: every link to it moves.
		rel := "x/" + path.Base(popular.ID)
		i := 0
		for b.Loop() {
			i++
			if i%2 == 1 {
				write(b, rel, "a rival")
			} else {
				b.StopTimer()
				if err := v.Delete(ctx, rel); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			g = v.Graph()
		}
		b.ReportMetric(float64(popular.Degree), "popular_degree")
	})
}

// BenchmarkVaultReindexOne is the watcher's path: one edited note re-indexed.
func BenchmarkVaultReindexOne(b *testing.B) {
	gen := benchVault(b)
	v, _ := indexedVault(b, gen)
	ctx := context.Background()
	rel := gen.Paths[len(gen.Paths)/2]
	full := filepath.Join(gen.Dir, filepath.FromSlash(rel))
	orig, err := os.ReadFile(full)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.WriteFile(full, orig, 0o644) })
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		if err := os.WriteFile(full, fmt.Appendf(append([]byte{}, orig...), "\nedit %d\n", i), 0o644); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		v.writeMu.Lock()
		action, err := v.syncNote(ctx, rel)
		v.writeMu.Unlock()
		if err != nil || action != Updated {
			b.Fatalf("syncNote = %q, %v", action, err)
		}
	}
}
