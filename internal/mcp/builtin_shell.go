package mcp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

const (
	// shellDefaultTimeout and shellMaxTimeout bound one command.
	shellDefaultTimeout = 60 * time.Second
	shellMaxTimeout     = 10 * time.Minute
	// shellMaxOutput bounds the output kept from one command.
	shellMaxOutput = 64 << 10
)

// ShellNote says why the shell builtin is disabled by default.
const ShellNote = "Disabled by default: it runs any command the model asks for, with your user account's rights, in the agent's workspace folder. Enable it only if you trust every model and every message that can reach this agent."

// Shell is the shell builtin: run a command in <dir>/workspace/ with a
// timeout. It is seeded disabled.
func Shell(dir string) Builtin {
	return Builtin{Name: "shell", Enabled: false, Note: ShellNote, Server: func() *sdk.Server { return shellServer(dir) }}
}

type shellIn struct {
	Command        string `json:"command" jsonschema:"the shell command line to run (sh -c on Unix, cmd /C on Windows)"`
	TimeoutSeconds int    `json:"timeout_seconds,omitempty" jsonschema:"kill the command after this many seconds (default 60, at most 600)"`
}

func shellServer(dir string) *sdk.Server {
	s := sdk.NewServer(&sdk.Implementation{Name: "shell"}, nil)
	workspace := filepath.Join(dir, WorkspaceDir)
	sdk.AddTool(s, &sdk.Tool{Name: "run", Description: "Run a shell command in the agent's workspace folder and return its exit code and output (stdout and stderr, at most 64 KiB)."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in shellIn) (*sdk.CallToolResult, any, error) {
			if in.Command == "" {
				return nil, nil, errors.New("command is required")
			}
			timeout := shellDefaultTimeout
			if in.TimeoutSeconds > 0 {
				timeout = min(time.Duration(in.TimeoutSeconds)*time.Second, shellMaxTimeout)
			}
			if err := os.MkdirAll(workspace, 0o755); err != nil {
				return nil, nil, err
			}
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			var cmd *exec.Cmd
			if runtime.GOOS == "windows" {
				cmd = exec.CommandContext(ctx, "cmd", "/C", in.Command)
			} else {
				cmd = exec.CommandContext(ctx, "/bin/sh", "-c", in.Command)
			}
			cmd.Dir = workspace
			out := &capped{max: shellMaxOutput}
			cmd.Stdout, cmd.Stderr = out, out
			setGroup(cmd) // a timeout kills the whole group, not just sh
			cmd.WaitDelay = time.Second
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			switch {
			case ctx.Err() == context.DeadlineExceeded:
				return nil, nil, fmt.Errorf("command timed out after %s; output so far:\n%s", timeout, out.String())
			case errors.As(err, &ee):
				code = ee.ExitCode()
			case err != nil:
				return nil, nil, fmt.Errorf("run command: %w", err)
			}
			return textResult(fmt.Sprintf("exit code %d\n%s", code, out.String())), nil, nil
		})
	return s
}

// capped keeps the first max bytes written and counts the rest.
type capped struct {
	buf     bytes.Buffer
	max     int
	dropped int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.buf.Len(); room > 0 {
		n := min(room, len(p))
		c.buf.Write(p[:n])
		c.dropped += len(p) - n
	} else {
		c.dropped += len(p)
	}
	return len(p), nil
}

func (c *capped) String() string {
	if c.dropped > 0 {
		return c.buf.String() + fmt.Sprintf("\n[%d more bytes of output not shown]", c.dropped)
	}
	return c.buf.String()
}
