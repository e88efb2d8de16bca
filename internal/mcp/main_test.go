package mcp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"openagent/internal/mcp"
	"openagent/internal/store"
)

// serverEnv makes the test binary run as a stdio MCP server (see TestMain).
const serverEnv = "OPENAGENT_MCP_TEST_SERVER"

// markerEnv names a directory where the child server drops marker files.
const markerEnv = "OPENAGENT_MCP_TEST_MARKERS"

func TestMain(m *testing.M) {
	switch os.Getenv(serverEnv) {
	case "":
		os.Exit(m.Run())
	case "broken":
		fmt.Fprintln(os.Stderr, "starting test server")
		fmt.Fprintln(os.Stderr, "fatal: TEST_API_KEY is not set")
		os.Exit(3)
	default:
		err := testServer().Run(context.Background(), &sdk.StdioTransport{})
		if err != nil && !errors.Is(err, io.EOF) {
			fmt.Fprintln(os.Stderr, "test server:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

type echoIn struct {
	Text string `json:"text" jsonschema:"what to echo"`
}

type sizeIn struct {
	Bytes int `json:"bytes"`
}

type emptyIn struct{}

func text(s string) *sdk.CallToolResult {
	return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: s}}}
}

// testServer is a real Go SDK server with the tools the tests need.
func testServer() *sdk.Server {
	s := sdk.NewServer(&sdk.Implementation{Name: "test"}, nil)
	markers := os.Getenv(markerEnv)
	sdk.AddTool(s, &sdk.Tool{Name: "echo", Description: "Echo text back."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in echoIn) (*sdk.CallToolResult, any, error) {
			return text("echo: " + in.Text), nil, nil
		})
	sdk.AddTool(s, &sdk.Tool{Name: "fail", Description: "Always fails."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in emptyIn) (*sdk.CallToolResult, any, error) {
			return nil, nil, errors.New("the widget is broken")
		})
	sdk.AddTool(s, &sdk.Tool{Name: "pid", Description: "Report the server's process id."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in emptyIn) (*sdk.CallToolResult, any, error) {
			return text(fmt.Sprint(os.Getpid())), nil, nil
		})
	sdk.AddTool(s, &sdk.Tool{Name: "big", Description: "Return a large result."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in sizeIn) (*sdk.CallToolResult, any, error) {
			return text(strings.Repeat("x", in.Bytes)), nil, nil
		})
	sdk.AddTool(s, &sdk.Tool{Name: "slow", Description: "Block until cancelled."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in emptyIn) (*sdk.CallToolResult, any, error) {
			if markers != "" {
				os.WriteFile(filepath.Join(markers, "slow-started"), nil, 0o644)
			}
			select {
			case <-ctx.Done():
				if markers != "" {
					os.WriteFile(filepath.Join(markers, "slow-cancelled"), nil, 0o644)
				}
				return nil, nil, ctx.Err()
			case <-time.After(time.Minute):
				return text("finished"), nil, nil
			}
		})
	sdk.AddTool(s, &sdk.Tool{Name: "grow", Description: "Add a tool named extra (sends tools/list_changed)."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in emptyIn) (*sdk.CallToolResult, any, error) {
			sdk.AddTool(s, &sdk.Tool{Name: "extra", Description: "Added at run time."},
				func(ctx context.Context, _ *sdk.CallToolRequest, in emptyIn) (*sdk.CallToolResult, any, error) {
					return text("extra works"), nil, nil
				})
			return text("added"), nil, nil
		})
	sdk.AddTool(s, &sdk.Tool{Name: "spawn", Description: "Start a long-running grandchild and report its pid."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in emptyIn) (*sdk.CallToolResult, any, error) {
			cmd := exec.Command("sleep", "300")
			if err := cmd.Start(); err != nil {
				return nil, nil, err
			}
			go cmd.Wait()
			return text(fmt.Sprint(cmd.Process.Pid)), nil, nil
		})
	return s
}

// testPool opens a real database in a temp dir and a pool over it.
func testPool(t testing.TB, builtins ...mcp.Builtin) (*mcp.Pool, string) {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(context.Background(), filepath.Join(dir, "openagent.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	p, err := mcp.New(context.Background(), mcp.Options{DB: db, Dir: dir, Builtins: builtins, Log: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p, dir
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// selfCommand is the argv that runs this test binary as the test server.
func selfCommand(t *testing.T) []string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return []string{exe, "-test.run=^$"}
}

// waitRow polls a row until ok accepts it, failing after d.
func waitRow(t *testing.T, p *mcp.Pool, name string, d time.Duration, what string, ok func(mcp.Row) bool) mcp.Row {
	t.Helper()
	deadline := time.Now().Add(d)
	var r mcp.Row
	var err error
	for time.Now().Before(deadline) {
		r, err = p.Get(context.Background(), name)
		if err == nil && ok(r) {
			return r
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("row %s: waited %s for %s; last row %+v, err %v", name, d, what, r, err)
	return r
}

func connected(r mcp.Row) bool { return r.Status == mcp.StatusConnected }
