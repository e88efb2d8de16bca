package gateway

import (
	"errors"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// noUIPage is served at / when the gateway was built without the web UI.
const noUIPage = `<!doctype html><meta charset="utf-8"><title>OpenAgent</title>
<body style="font-family:sans-serif;max-width:40em;margin:4em auto">
<h1>OpenAgent gateway is running</h1>
<p>This binary was built without the web UI. Build it with <code>make build</code>
(which runs <code>npm ci &amp;&amp; npm run build</code> in <code>frontend/</code> first), or use
<code>openagent connect</code> from a terminal.</p>`

// spa serves the web UI: a file when it exists, index.html otherwise, so
// client-side routes work. Hashed files under /assets/ are cached for a year.
func (s *Server) spa() http.Handler {
	assets := s.cfg.Assets
	hasUI := false
	if assets != nil {
		if _, err := fs.Stat(assets, "index.html"); err == nil {
			hasUI = true
		}
	}
	files := http.FileServerFS(assets)
	return s.handle("spa", func(w http.ResponseWriter, r *http.Request) error {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			return errorf(http.StatusMethodNotAllowed, "method "+r.Method+" not allowed on "+r.URL.Path)
		}
		if !hasUI {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, err := w.Write([]byte(noUIPage))
			return err
		}
		p := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if p == "" {
			p = "index.html"
		}
		if st, err := fs.Stat(assets, p); err != nil || st.IsDir() {
			if errors.Is(err, fs.ErrNotExist) && strings.HasPrefix(p, "assets/") {
				return errorf(http.StatusNotFound, "not found: "+r.URL.Path)
			}
			p = "index.html"
		}
		if strings.HasPrefix(p, "assets/") {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/" + p
		if p == "index.html" {
			r2.URL.Path = "/"
		}
		files.ServeHTTP(w, r2)
		return nil
	})
}
