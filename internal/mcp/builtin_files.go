package mcp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

const (
	// maxReadBytes bounds one files read.
	maxReadBytes = 256 << 10
	// maxListEntries bounds one directory listing.
	maxListEntries = 500
	// WorkspaceDir is the folder under the agent directory that the files
	// builtin may write and the shell builtin runs in.
	WorkspaceDir = "workspace"
)

// secretTop are top-level files of the agent directory that hold keys;
// secretAny match the database files anywhere. Tools never read them.
var (
	secretTop = []string{"openagent.yaml", ".port"}
	secretAny = []string{"*.db", "*.db-wal", "*.db-shm", "*.db-journal"}
)

func textResult(s string) *sdk.CallToolResult {
	return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: s}}}
}

// Files is the files builtin: read and list anywhere in the agent directory
// (uploads included) except secret files, write only inside
// <dir>/workspace/. Every path is resolved inside its root (os.Root), so
// "..", absolute paths and symlinks cannot escape.
func Files(dir string) Builtin {
	return Builtin{Name: "files", Enabled: true, Server: func() *sdk.Server { return filesServer(dir) }}
}

type filesReadIn struct {
	Path   string `json:"path" jsonschema:"file path relative to the agent directory, e.g. uploads/2026-05/report.txt or workspace/notes.txt"`
	Offset int64  `json:"offset,omitempty" jsonschema:"byte offset to start reading at"`
}

type filesListIn struct {
	Path string `json:"path,omitempty" jsonschema:"directory relative to the agent directory; empty for the top"`
}

type filesWriteIn struct {
	Path    string `json:"path" jsonschema:"file path relative to the workspace folder"`
	Content string `json:"content" jsonschema:"the text to write"`
	Append  bool   `json:"append,omitempty" jsonschema:"append instead of replacing the file"`
}

// relPath turns a tool path into a slash path relative to root, accepting
// absolute paths that lie inside root.
func relPath(root, p string) (string, error) {
	p = strings.TrimSpace(p)
	if filepath.IsAbs(p) {
		r, err := filepath.Rel(root, p)
		if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
			return "", fmt.Errorf("path %q is outside %s", p, root)
		}
		p = r
	}
	p = path.Clean("/" + filepath.ToSlash(p))[1:]
	if p == "" {
		p = "."
	}
	return p, nil
}

func isSecret(rel string) bool {
	for _, name := range secretTop {
		if rel == name {
			return true
		}
	}
	for _, pat := range secretAny {
		if ok, _ := path.Match(pat, path.Base(rel)); ok {
			return true
		}
	}
	return false
}

func filesServer(dir string) *sdk.Server {
	s := sdk.NewServer(&sdk.Implementation{Name: "files"}, nil)
	workspace := filepath.Join(dir, WorkspaceDir)

	sdk.AddTool(s, &sdk.Tool{Name: "read", Description: "Read a text file in the agent directory (uploads, workspace, vault, logs). Reads at most 256 KiB from offset."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in filesReadIn) (*sdk.CallToolResult, any, error) {
			rel, err := relPath(dir, in.Path)
			if err != nil {
				return nil, nil, err
			}
			if isSecret(rel) {
				return nil, nil, fmt.Errorf("%s holds secrets and cannot be read by tools", rel)
			}
			root, err := os.OpenRoot(dir)
			if err != nil {
				return nil, nil, err
			}
			defer root.Close()
			if li, err := root.Lstat(rel); err == nil && li.Mode()&fs.ModeSymlink != 0 {
				return nil, nil, fmt.Errorf("%s is a symbolic link; read its target instead", rel)
			}
			f, err := root.Open(rel)
			if err != nil {
				return nil, nil, fmt.Errorf("read %s: %w", rel, unwrapPath(err))
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				return nil, nil, err
			}
			if st.IsDir() {
				return nil, nil, fmt.Errorf("%s is a directory; use list", rel)
			}
			buf := make([]byte, maxReadBytes)
			n, err := f.ReadAt(buf, in.Offset)
			if n == 0 && err != nil && in.Offset < st.Size() {
				return nil, nil, fmt.Errorf("read %s: %w", rel, err)
			}
			buf = buf[:n]
			if bytes.IndexByte(buf, 0) >= 0 {
				return textResult(fmt.Sprintf("[%s is a binary file of %d bytes]", rel, st.Size())), nil, nil
			}
			out := string(buf)
			if end := in.Offset + int64(n); end < st.Size() {
				out += fmt.Sprintf("\n\n[read bytes %d-%d of %d; pass offset %d for more]", in.Offset, end, st.Size(), end)
			}
			return textResult(out), nil, nil
		})

	sdk.AddTool(s, &sdk.Tool{Name: "list", Description: "List a directory in the agent directory."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in filesListIn) (*sdk.CallToolResult, any, error) {
			rel, err := relPath(dir, in.Path)
			if err != nil {
				return nil, nil, err
			}
			root, err := os.OpenRoot(dir)
			if err != nil {
				return nil, nil, err
			}
			defer root.Close()
			ents, err := fs.ReadDir(root.FS(), rel)
			if err != nil {
				return nil, nil, fmt.Errorf("list %s: %w", rel, unwrapPath(err))
			}
			var b strings.Builder
			for i, e := range ents {
				if i == maxListEntries {
					fmt.Fprintf(&b, "[%d more entries not shown]\n", len(ents)-i)
					break
				}
				if e.IsDir() {
					fmt.Fprintf(&b, "%s/\n", e.Name())
					continue
				}
				info, err := e.Info()
				size := int64(0)
				if err == nil {
					size = info.Size()
				}
				fmt.Fprintf(&b, "%s\t%d bytes\n", e.Name(), size)
			}
			if b.Len() == 0 {
				return textResult("(empty)"), nil, nil
			}
			return textResult(b.String()), nil, nil
		})

	sdk.AddTool(s, &sdk.Tool{Name: "write", Description: "Write a text file inside the workspace folder of the agent directory (the only place tools may write)."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in filesWriteIn) (*sdk.CallToolResult, any, error) {
			p := strings.TrimPrefix(filepath.ToSlash(strings.TrimSpace(in.Path)), WorkspaceDir+"/")
			rel, err := relPath(workspace, p)
			if err != nil {
				return nil, nil, err
			}
			if rel == "." {
				return nil, nil, errors.New("path names the workspace itself; give a file name")
			}
			if err := os.MkdirAll(workspace, 0o755); err != nil {
				return nil, nil, err
			}
			root, err := os.OpenRoot(workspace)
			if err != nil {
				return nil, nil, err
			}
			defer root.Close()
			if d := path.Dir(rel); d != "." {
				if err := root.MkdirAll(d, 0o755); err != nil {
					return nil, nil, fmt.Errorf("write %s: %w", rel, unwrapPath(err))
				}
			}
			flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
			if in.Append {
				flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
			}
			f, err := root.OpenFile(rel, flags, 0o644)
			if err != nil {
				return nil, nil, fmt.Errorf("write %s: %w", rel, unwrapPath(err))
			}
			if _, err := f.WriteString(in.Content); err != nil {
				f.Close()
				return nil, nil, fmt.Errorf("write %s: %w", rel, err)
			}
			if err := f.Close(); err != nil {
				return nil, nil, fmt.Errorf("write %s: %w", rel, err)
			}
			return textResult(fmt.Sprintf("wrote %d bytes to %s/%s", len(in.Content), WorkspaceDir, rel)), nil, nil
		})
	return s
}

// unwrapPath drops the *PathError wrapper, whose path is the root-relative
// one we already print.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
