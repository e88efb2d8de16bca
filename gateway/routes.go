package gateway

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// routes registers the whole HTTP surface. Static segments win over {params}
// in chi, which gives the precedence the contract asks for (§9.16).
func (s *Server) routes() http.Handler {
	r := chi.NewRouter()
	r.NotFound(s.handle("notfound", func(w http.ResponseWriter, r *http.Request) error {
		return errorf(http.StatusNotFound, "not found: "+r.URL.Path)
	}))
	r.MethodNotAllowed(s.handle("notallowed", func(w http.ResponseWriter, r *http.Request) error {
		return errorf(http.StatusMethodNotAllowed, "method "+r.Method+" not allowed on "+r.URL.Path)
	}))

	r.Get("/ws", s.serveWS)

	r.Route("/api", func(r chi.Router) {
		r.NotFound(s.handle("api.notfound", func(w http.ResponseWriter, r *http.Request) error {
			return errorf(http.StatusNotFound, "not found: "+r.URL.Path)
		}))
		r.Get("/health", s.handle("health", s.getHealth))
		r.Get("/agent-info", s.handle("agent-info", s.getAgentInfo))
		r.Get("/commands", s.handle("commands", s.listCommands))
		r.Post("/restart", s.handle("restart", s.postRestart))

		r.Get("/config", s.handle("config", s.getConfig))
		r.Put("/config", s.handle("config", s.putConfig))
		r.Get("/config/{section}", s.handle("config.section", s.getConfigSection))
		r.Patch("/config/{section}", s.handle("config.section", s.patchConfigSection)) // body: the section's new value (replaces it)

		r.Get("/logs", s.handle("logs", s.getLogs)) // ?lines=100&event=<prefix>
		r.Delete("/logs", s.handle("logs", s.deleteLogs))

		// -- agent runtime (issue 3): models, providers, usage --
		// -- vault (issue 4) --
		// -- mcp (issue 6) --
		// -- scheduler, uploads, files, update (issue 8) --
	})

	r.Handle("/*", s.spa())
	return r
}
