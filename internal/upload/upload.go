// Package upload stores files users send to the agent under
// <agent_dir>/uploads/<YYYY-MM>/ with a safe, unique name (decision A17), and
// transcribes voice notes through an OpenAI-compatible speech-to-text
// endpoint (/v1/audio/transcriptions).
package upload

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"openagent/internal/config"
)

// Dir is the uploads folder inside the agent directory.
const Dir = "uploads"

// maxUniqueTries bounds the search for a free name in one month's folder.
const maxUniqueTries = 10000

// Config holds the Uploader's dependencies.
type Config struct {
	// Dir is the agent directory (absolute). Required.
	Dir string
	// Settings is openagent.yaml; uploads.max_bytes and uploads.transcription
	// are read from it at every upload. Required.
	Settings *config.File
	// HTTPClient carries speech-to-text requests. Optional.
	HTTPClient *http.Client
	// Now is the clock that picks the month folder. Optional.
	Now func() time.Time
	// Log is the human log. Optional.
	Log *slog.Logger
}

// Uploader stores uploads and transcribes audio.
type Uploader struct {
	dir      string
	settings *config.File
	client   *http.Client
	now      func() time.Time
	log      *slog.Logger
}

// New builds an Uploader.
func New(cfg Config) (*Uploader, error) {
	if cfg.Dir == "" || cfg.Settings == nil {
		return nil, errors.New("upload: Dir and Settings are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Uploader{dir: cfg.Dir, settings: cfg.Settings, client: cfg.HTTPClient, now: cfg.Now, log: cfg.Log.With("component", "upload")}, nil
}

// File is a stored upload.
type File struct {
	// Path is absolute, with symlinks resolved.
	Path string
	// Name is the stored (sanitised, de-duplicated) file name.
	Name        string
	Size        int64
	ContentType string
}

// TooLargeError means an upload went past uploads.max_bytes.
type TooLargeError struct{ Limit int64 }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the file is larger than the upload limit of %s (uploads.max_bytes)", humanBytes(e.Limit))
}

// BlockedError means the file type is an executable that is not accepted.
type BlockedError struct{ Ext string }

func (e *BlockedError) Error() string {
	return fmt.Sprintf("%s files are not accepted: executable and script types are blocked", e.Ext)
}

// MaxBytes is the current upload limit.
func (u *Uploader) MaxBytes() int64 {
	if n := u.settings.Config().Uploads.MaxBytes; n > 0 {
		return n
	}
	return config.DefaultUploadMaxBytes
}

// Save stores r under uploads/<YYYY-MM>/ with a sanitised, unique version of
// name. contentType is what the client said (may be empty). A file past the
// limit is removed again and reported as *TooLargeError; a blocked type is
// refused before anything is written.
func (u *Uploader) Save(name, contentType string, r io.Reader) (File, error) {
	name = SanitizeName(name)
	if ext, blocked := Blocked(name); blocked {
		return File{}, &BlockedError{ext}
	}
	limit := u.MaxBytes()
	month := filepath.Join(u.dir, Dir, u.now().Format("2006-01"))
	if err := os.MkdirAll(month, 0o700); err != nil {
		return File{}, fmt.Errorf("create uploads folder: %w", err)
	}
	f, path, err := createUnique(month, name)
	if err != nil {
		return File{}, err
	}
	head := &headWriter{}
	n, err := io.Copy(io.MultiWriter(f, head), io.LimitReader(r, limit+1))
	if err == nil && n > limit {
		err = &TooLargeError{limit}
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write upload: %w", cerr)
	}
	if err != nil {
		os.Remove(path)
		return File{}, err
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	return File{Path: path, Name: filepath.Base(path), Size: n, ContentType: detectType(filepath.Base(path), contentType, head.b)}, nil
}

// createUnique creates dir/name exclusively, or name-1, name-2… when taken.
func createUnique(dir, name string) (*os.File, string, error) {
	ext := fileExt(name)
	stem := strings.TrimSuffix(name, ext)
	for i := 0; i < maxUniqueTries; i++ {
		candidate := name
		if i > 0 {
			candidate = stem + "-" + strconv.Itoa(i) + ext
		}
		path := filepath.Join(dir, candidate)
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			return f, path, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, "", fmt.Errorf("create upload: %w", err)
		}
	}
	return nil, "", fmt.Errorf("create upload: no free name for %q after %d tries", name, maxUniqueTries)
}

// headWriter keeps the first 512 bytes, for content sniffing.
type headWriter struct{ b []byte }

func (h *headWriter) Write(p []byte) (int, error) {
	if room := 512 - len(h.b); room > 0 {
		h.b = append(h.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// detectType prefers the client's type, then the extension, then sniffing.
func detectType(name, given string, head []byte) string {
	if mt, _, err := mime.ParseMediaType(given); err == nil && mt != "application/octet-stream" {
		return given
	}
	if t := mime.TypeByExtension(fileExt(name)); t != "" {
		return t
	}
	return http.DetectContentType(head)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
