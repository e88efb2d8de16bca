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
		r.Get("/usage", s.handle("usage", s.getUsage))
		r.Get("/usage/daily", s.handle("usage.daily", s.getUsageDaily)) // ?days=7
		r.Get("/usage/pricing", s.handle("usage.pricing", s.getUsagePricing))
		r.Get("/models", s.handle("models", s.listModels))
		r.Post("/models", s.handle("models", s.createModel)) // body: {name, type?, api_key?, base_url?, models?, disabled_models?}
		r.Get("/models/active", s.handle("models.active", s.getActiveModel))
		r.Put("/models/active", s.handle("models.active", s.putActiveModel))    // body: the model section (replaces it)
		r.Get("/models/catalog", s.handle("models.catalog", s.getModelCatalog)) // ?provider=<name>&live=0
		r.Get("/models/providers", s.handle("models.providers", s.listModelProviders))
		r.Get("/models/available", s.handle("models.available", s.getAvailableModels)) // ?provider=<name>
		r.Put("/models/{name}", s.handle("models.provider", s.updateModel))            // body: the keys to change
		r.Delete("/models/{name}", s.handle("models.provider", s.deleteModel))
		r.Post("/models/{name}/test", s.handle("models.test", s.testModel)) // body: {model_id?}
		r.Get("/providers", s.handle("providers", s.listProviders))
		r.Post("/providers/test", s.handle("providers.test", s.testProvider)) // body: {provider, model_id?}
		r.Get("/sessions", s.handle("sessions", s.listSessions))              // stored conversations, newest first
		r.Get("/sessions/{id}", s.handle("session", s.getSession))
		r.Delete("/sessions/{id}", s.handle("session", s.deleteSession))
		// -- vault (issue 4) --
		r.Get("/vault/notes", s.handle("vault.notes", s.listVaultNotes)) // ?folder=<dir>
		r.Get("/vault/notes/*", s.handle("vault.note", s.getVaultNote))  // the rest of the path is the note, with backlinks
		r.Put("/vault/notes/*", s.handle("vault.note", s.putVaultNote))  // body: {content}; .md only, atomic
		r.Delete("/vault/notes/*", s.handle("vault.note", s.deleteVaultNote))
		r.Get("/vault/search", s.handle("vault.search", s.searchVault)) // ?q=&tag=&limit=
		r.Get("/vault/graph", s.handle("vault.graph", s.vaultGraphHandler()))
		// -- mcp (issue 6) --
		r.Get("/mcps", s.handle("mcps", s.listMCPs))
		r.Post("/mcps", s.handle("mcps", s.createMCP))                // upsert a custom server; applied at once
		r.Post("/mcps/import", s.handle("mcps.import", s.importMCPs)) // body: claude_desktop_config.json
		r.Get("/mcps/{name}", s.handle("mcp", s.getMCP))
		r.Put("/mcps/{name}", s.handle("mcp", s.updateMCP)) // field-by-field merge
		r.Delete("/mcps/{name}", s.handle("mcp", s.deleteMCP))
		r.Post("/mcps/{name}/enable", s.handle("mcp.enable", s.enableMCP))
		r.Post("/mcps/{name}/disable", s.handle("mcp.disable", s.disableMCP))
		// -- scheduler, uploads, files, update (issue 8) --
		r.Get("/scheduled-tasks", s.handle("tasks", s.listTasks)) // ?enabled_only=1|true|yes
		r.Post("/scheduled-tasks", s.handle("tasks", s.createTask))
		r.Get("/scheduled-tasks/{id}", s.handle("task", s.getTask))
		r.Patch("/scheduled-tasks/{id}", s.handle("task", s.updateTask)) // PUT is an alias (A14)
		r.Put("/scheduled-tasks/{id}", s.handle("task", s.updateTask))
		r.Delete("/scheduled-tasks/{id}", s.handle("task", s.deleteTask))
		r.Get("/scheduled-tasks/{id}/runs", s.handle("task.runs", s.listTaskRuns)) // ?limit=N, newest first
		r.Post("/upload", s.handle("upload", s.postUpload))                        // multipart; the first part is the file
		r.Get("/files", s.handle("files", s.getFile))                              // ?path=<abs or agent-dir relative>; Range works
		r.Get("/update", s.handle("update", s.getUpdateStatus))                    // what the last check found
		r.Post("/update", s.handle("update", s.postUpdate))                        // check the feed, install, restart
		// -- desktop (issue 5) --
		r.Get("/pairing", s.handle("pairing", s.getPairing)) // LAN URLs, token and QR code for other devices
	})

	r.Handle("/*", s.spa())
	return r
}
