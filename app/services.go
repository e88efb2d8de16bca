package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"

	"openagent/gateway"
	"openagent/internal/agent"
	"openagent/internal/config"
	"openagent/internal/upload"
	"openagent/internal/usage"
	"openagent/internal/vault"
)

// services are the parts behind the gateway (agent, vault, MCP, scheduler…).
// buildServices constructs them and fills their fields of the gateway config;
// attach gives them the built server (for resource_event broadcasts); start
// launches their background work; close stops them in reverse order.
type services struct {
	attachers []func(*gateway.Server)
	starters  []func(context.Context)
	closers   []func()

	// execBinary returns the binary an update installed, which the next
	// restart must exec instead of restarting in-process, or "" (issue 8).
	execBinary func() string
}

func (s *services) onAttach(fn func(*gateway.Server)) { s.attachers = append(s.attachers, fn) }
func (s *services) onStart(fn func(context.Context))  { s.starters = append(s.starters, fn) }
func (s *services) onClose(fn func())                 { s.closers = append(s.closers, fn) }

func (s *services) attach(srv *gateway.Server) {
	for _, fn := range s.attachers {
		fn(srv)
	}
}

func (s *services) start(ctx context.Context) {
	for _, fn := range s.starters {
		fn(ctx)
	}
}

func (s *services) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

// buildServices wires every service into gcfg. On error, whatever was built
// is closed again.
func buildServices(ctx context.Context, gcfg *gateway.Config, log *slog.Logger) (svc *services, err error) {
	svc = &services{}
	defer func() {
		if err != nil {
			svc.close()
		}
	}()
	// -- agent runtime (issue 3) --
	// ag runs the turns; sections below may install a tool registry with ag.SetTools.
	usageLog := usage.New(gcfg.DB, gcfg.Settings)
	ag, err := agent.New(agent.Config{Settings: gcfg.Settings, DB: gcfg.DB, Usage: usageLog, Log: log, MaxRetries: agentRetries,
		ImageDir: filepath.Join(gcfg.Dir, upload.Dir)})
	if err != nil {
		return nil, err
	}
	gcfg.Agent, gcfg.Models, gcfg.Usage, gcfg.UsageStats, gcfg.Transcripts = ag, ag, usageLog, usageLog, ag
	svc.onStart(func(ctx context.Context) { go ag.ProbeLocal(ctx) }) // offers Ollama / LM Studio when no provider is set
	// -- vault (issue 4) --
	// The vault indexes and watches memories/ in the background; every change
	// (REST, agent tool, outside edit) becomes a resource_event.
	// A vault that cannot be opened leaves /api/vault/* answering 503; the
	// rest of the gateway still starts.
	if vlt, err := vault.Open(ctx, config.Resolve(gcfg.Dir, gcfg.Settings.Config().Memory.VaultPath), gcfg.DB, vault.Options{Log: log}); err != nil {
		log.Error("open vault", "err", err)
	} else {
		gcfg.Vault = vlt
		svc.onClose(func() { vlt.Close() })
		svc.onAttach(func(srv *gateway.Server) {
			vlt.SetOnChange(func(action, path string) { srv.Broadcast("vault", action, path) })
		})
		svc.onStart(func(ctx context.Context) {
			go func() {
				if err := vlt.Run(ctx); err != nil {
					log.Error("vault stopped", "err", err)
				}
			}()
		})
	}
	// -- mcp (issue 6) --
	// The MCP pool is the agent's tool registry (app/mcp.go).
	if err := wireMCP(ctx, gcfg, svc, log, ag); err != nil {
		return nil, err
	}
	// -- scheduler, uploads, files, update (issue 8) --
	if err := wireScheduler(gcfg, svc, log); err != nil {
		return nil, err
	}
	if err := wireUploads(gcfg); err != nil {
		return nil, err
	}
	wireUpdater(gcfg, svc, log)
	return svc, nil
}

// agentRetries is how often the LLM SDKs retry rate limits and server errors.
const agentRetries = 2

func decodeBody(r io.Reader, v any) error { return json.NewDecoder(io.LimitReader(r, 1<<20)).Decode(v) }
