package gateway

import (
	"errors"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// getFile serves one file from inside the agent directory (decision A4),
// with its Content-Type and Content-Disposition, and Range support so audio
// and video can seek. path is absolute or relative to the agent directory.
// Anything outside (symlinks resolved) is 403, as are openagent.yaml and the
// database, whose secrets /api/config masks.
func (s *Server) getFile(w http.ResponseWriter, r *http.Request) error {
	p := r.URL.Query().Get("path")
	if p == "" {
		return errorf(http.StatusBadRequest, "path required")
	}
	forbidden := errorf(http.StatusForbidden, "Forbidden: only files inside the agent directory are served")
	dir := filepath.Clean(s.cfg.Dir)
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	p = filepath.Clean(p)
	// Refuse outside paths before touching them, so their existence is not revealed.
	if !within(dir, p) && !within(realDir, p) {
		return forbidden
	}
	real, err := filepath.EvalSymlinks(p)
	if errors.Is(err, fs.ErrNotExist) {
		return errorf(http.StatusNotFound, "not found")
	}
	if err != nil {
		return forbidden
	}
	if !within(realDir, real) {
		return forbidden // a symlink pointing out
	}
	if s.secretFile(real) {
		return errorf(http.StatusForbidden, "Forbidden: "+filepath.Base(real)+" holds secrets; use /api/config")
	}
	f, err := os.Open(real)
	if errors.Is(err, fs.ErrNotExist) {
		return errorf(http.StatusNotFound, "not found")
	}
	if err != nil {
		return forbidden
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return errorf(http.StatusNotFound, "not found")
	}
	name := filepath.Base(real)
	ctype := mime.TypeByExtension(filepath.Ext(name))
	if ctype != "" {
		w.Header().Set("Content-Type", ctype)
	}
	disp := mime.FormatMediaType(disposition(ctype), map[string]string{"filename": name})
	if disp == "" {
		disp = disposition(ctype)
	}
	w.Header().Set("Content-Disposition", disp)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// A file shown in a tab must not run script on the gateway's origin.
	w.Header().Set("Content-Security-Policy", "sandbox")
	http.ServeContent(w, r, name, fi.ModTime(), f)
	return nil
}

// disposition shows media the browser renders safely inline (so <img>,
// <audio> and <video> work and can seek) and downloads everything else.
func disposition(ctype string) string {
	mt, _, _ := mime.ParseMediaType(ctype)
	switch {
	case mt == "image/svg+xml":
		return "attachment"
	case strings.HasPrefix(mt, "image/"), strings.HasPrefix(mt, "audio/"), strings.HasPrefix(mt, "video/"),
		mt == "application/pdf", mt == "text/plain":
		return "inline"
	}
	return "attachment"
}

// within reports whether p is dir or below it (both clean and absolute).
func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// secretFile reports whether real is openagent.yaml or a database file.
func (s *Server) secretFile(real string) bool {
	for _, p := range []string{s.cfg.Settings.Path(), s.cfg.DB.Path()} {
		rp, err := filepath.EvalSymlinks(p)
		if err != nil {
			rp = p
		}
		if real == rp || (p == s.cfg.DB.Path() && strings.HasPrefix(real, rp+"-")) {
			return true
		}
	}
	return false
}
