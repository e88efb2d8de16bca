package app

import (
	"context"
	"log/slog"

	"openagent/gateway"
	"openagent/internal/agent"
	"openagent/internal/mcp"
	"openagent/internal/schedule"
)

// wireMCP builds the MCP pool: the builtin servers (vault, files, fetch,
// shell, scheduler) plus the user's servers from the mcps table. It gives the
// agent its tools, backs /api/mcps, broadcasts every change as
// resource_event mcp, connects the servers once the gateway serves and stops
// them (killing stdio process groups) when it stops.
func wireMCP(ctx context.Context, gcfg *gateway.Config, svc *services, log *slog.Logger, tools interface{ SetTools(agent.Tools) }) error {
	builtins := []mcp.Builtin{mcp.Files(gcfg.Dir), mcp.Fetch(func() bool { return gcfg.Settings.Config().Tools.FetchPrivateNetworks }), mcp.Shell(gcfg.Dir),
		// The scheduler is wired after the pool; its tools look it up per call.
		mcp.Scheduler(func() *schedule.Scheduler { return gcfg.Scheduler })}
	if gcfg.Vault != nil {
		builtins = append(builtins, mcp.Vault(gcfg.Vault))
	}
	pool, err := mcp.New(ctx, mcp.Options{DB: gcfg.DB, Dir: gcfg.Dir, Builtins: builtins, Log: log, Version: Version})
	if err != nil {
		return err
	}
	gcfg.MCP = pool
	tools.SetTools(pool)
	svc.onAttach(func(srv *gateway.Server) {
		pool.OnChange = func(action, name string) { srv.Broadcast("mcp", action, name) }
	})
	svc.onStart(func(ctx context.Context) {
		if err := pool.Start(ctx); err != nil {
			log.Error("start mcp servers", "err", err)
		}
	})
	svc.onClose(pool.Close)
	return nil
}
