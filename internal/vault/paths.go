package vault

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// ErrInvalidPath is wrapped by every error about a note path that is not
// allowed: empty, absolute, containing .., a NUL byte or a backslash,
// hidden, or leaving the vault through a symlink. The gateway answers 400.
var ErrInvalidPath = errors.New("invalid note path")

// ErrNotNote means the path is allowed but is not a Markdown note (only .md
// files are read, written and deleted).
var ErrNotNote = errors.New("not a markdown note")

// ErrNotFound means no note exists at the path. It wraps fs.ErrNotExist.
var ErrNotFound = fmt.Errorf("note not found: %w", fs.ErrNotExist)

// PathError says why a path was refused. It matches ErrInvalidPath with errors.Is.
type PathError struct {
	Path   string
	Reason string
}

func (e *PathError) Error() string        { return fmt.Sprintf("invalid note path %q: %s", e.Path, e.Reason) }
func (e *PathError) Is(target error) bool { return target == ErrInvalidPath }

// cleanRel validates a vault-relative path (slash-separated) and returns its
// clean form. It does not touch the disk.
func cleanRel(p string) (string, error) {
	bad := func(reason string) (string, error) { return "", &PathError{Path: p, Reason: reason} }
	switch {
	case strings.TrimSpace(p) == "":
		return bad("empty")
	case strings.IndexByte(p, 0) >= 0:
		return bad("contains a NUL byte")
	case strings.Contains(p, `\`):
		return bad("contains a backslash")
	case strings.HasPrefix(p, "/") || filepath.IsAbs(p) || filepath.VolumeName(p) != "" || (len(p) >= 2 && p[1] == ':'):
		return bad("absolute paths are not allowed")
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return bad(".. is not allowed")
		}
		if strings.HasPrefix(seg, ".") && seg != "." {
			return bad("hidden files and folders are not notes")
		}
	}
	c := path.Clean(p)
	if c == "." || c == "" {
		return bad("names the vault itself")
	}
	return c, nil
}

// isNotePath reports whether a clean relative path names a Markdown note.
func isNotePath(rel string) bool { return strings.EqualFold(path.Ext(rel), ".md") }

// within reports whether p is root or below it (both cleaned, absolute).
func within(root, p string) bool {
	if p == root {
		return true
	}
	return strings.HasPrefix(p, strings.TrimSuffix(root, string(filepath.Separator))+string(filepath.Separator))
}

// checkInside refuses a path whose existing part resolves, through symlinks,
// outside the vault. The file itself may not exist yet.
func (v *Vault) checkInside(rel string) error {
	p := filepath.Join(v.root, filepath.FromSlash(rel))
	for q := p; ; {
		if _, err := os.Lstat(q); err == nil {
			real, err := filepath.EvalSymlinks(q)
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) { // a dangling symlink
					return &PathError{Path: rel, Reason: "a symlink points outside the vault"}
				}
				return fmt.Errorf("resolve %q: %w", rel, err)
			}
			if !within(v.realRoot, real) {
				return &PathError{Path: rel, Reason: "a symlink points outside the vault"}
			}
			return nil
		}
		parent := filepath.Dir(q)
		if parent == q || !within(v.root, parent) {
			return nil
		}
		q = parent
	}
}

// notePath validates rel for a note operation and returns its clean form.
func (v *Vault) notePath(rel string) (string, error) {
	c, err := cleanRel(rel)
	if err != nil {
		return "", err
	}
	if !isNotePath(c) {
		return "", fmt.Errorf("%q: %w (only .md files)", rel, ErrNotNote)
	}
	if err := v.checkInside(c); err != nil {
		return "", err
	}
	return c, nil
}

// rootErr turns an os.Root escape error into a PathError.
func rootErr(rel string, err error) error {
	if err != nil && strings.Contains(err.Error(), "escapes from parent") {
		return &PathError{Path: rel, Reason: "a symlink points outside the vault"}
	}
	return err
}
