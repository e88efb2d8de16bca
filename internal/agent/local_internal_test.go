package agent

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"openagent/internal/config"
	"openagent/internal/llm/llmtest"
	"openagent/internal/store"
	"openagent/internal/usage"
)

func closedPortURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/v1"
}

// TestLocalServers: a local OpenAI-compatible server found at start is
// offered in the provider list and the catalog, can be tested, and gets no
// turns until the user configures it.
func TestLocalServers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dir := t.TempDir()
	f, err := config.Open(filepath.Join(dir, config.FileName)) // the commented default: no providers
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, filepath.Join(dir, "openagent.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, err := New(Config{Settings: f, DB: db, Usage: usage.New(db, f)})
	if err != nil {
		t.Fatal(err)
	}
	srv := llmtest.New(t, llmtest.Text(5, 1, "ok"))
	srv.SetModels("llama3.2", "qwen3")
	found := a.probe(ctx, []LocalServer{{Name: "ollama", BaseURL: srv.OpenAIBaseURL()}, {Name: "lmstudio", BaseURL: closedPortURL(t)}})
	if len(found) != 1 || found[0].Name != "ollama" || strings.Join(found[0].Models, ",") != "llama3.2,qwen3" {
		t.Fatalf("found = %+v", found)
	}
	if names := strings.Join(a.ProviderNames(), ","); !strings.Contains(names, "ollama") {
		t.Errorf("ProviderNames = %s", names)
	}
	cat, _ := a.Catalog(ctx, "", true)
	if len(cat) != 2 || cat[0].RuntimeID != "ollama:llama3.2" || cat[0].Source != "local" || cat[0].PriceSource != "local" {
		t.Errorf("catalog = %+v", cat)
	}
	// Never used unless picked.
	if _, err := a.Run(ctx, Turn{SessionID: "s", Channel: "websocket", Text: "hi"}, nil); !errors.Is(err, ErrNoModel) {
		t.Errorf("Run = %v, want ErrNoModel", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("the local server got %d model calls before being picked", n)
	}
	// The test endpoint may try it.
	res, err := a.Test(ctx, "ollama", "")
	if err != nil || !res.OK || res.Model != "ollama:llama3.2" {
		t.Errorf("Test = %+v, %v", res, err)
	}
	// With a provider configured, nothing is probed.
	os.WriteFile(f.Path(), []byte("providers:\n  openai: {api_key: k}\n"), 0o600)
	if _, err := f.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := a.ProbeLocal(ctx); got != nil {
		t.Errorf("ProbeLocal with a provider configured = %+v", got)
	}
}
