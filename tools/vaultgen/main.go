// Command vaultgen writes a realistic test vault: notes of about 300 words
// with frontmatter, tags, wikilinks to existing and missing notes, and
// nested folders (internal/vault/vaultgen, the benchmarks' generator).
//
//	go run ./tools/vaultgen [-notes 10000] [-words 300] [-seed 1] DIR
//
// Point an agent at it with memory.vault_path, or write it into an agent
// directory's memories/ before `openagent serve`.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"openagent/internal/vault/vaultgen"
)

func main() {
	notes := flag.Int("notes", 10000, "how many notes")
	words := flag.Int("words", 300, "words of text per note")
	seed := flag.Uint64("seed", 1, "random seed (the same seed writes the same vault)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: vaultgen [-notes N] [-words N] [-seed N] DIR")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	start := time.Now()
	v, err := vaultgen.Generate(flag.Arg(0), vaultgen.Options{Notes: *notes, Words: *words, Seed: *seed})
	if err != nil {
		fmt.Fprintln(os.Stderr, "vaultgen:", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %d notes (%.1f MB) to %s in %.1f s\n", len(v.Paths), float64(v.Bytes)/(1<<20), v.Dir, time.Since(start).Seconds())
}
