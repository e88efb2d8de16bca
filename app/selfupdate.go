package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"openagent/gateway"
	"openagent/internal/update"
)

// pendingBinary returns the binary the next restart must run because an
// update installed it, or "" for an ordinary in-process restart.
func (g *Gateway) pendingBinary() string {
	g.mu.Lock()
	fn := g.execCheck
	g.mu.Unlock()
	if fn == nil {
		return ""
	}
	return fn()
}

// restartInto stops the gateway gracefully (turns get the shutdown error,
// WebSockets close, the store is closed) and replaces this process with the
// updated binary, same arguments and environment. Where that is impossible
// it says so and restarts in-process on the old code instead.
func (g *Gateway) restartInto(bin string) error {
	g.ops.Lock() // headless serve waits on this while we stop and exec
	defer g.ops.Unlock()
	g.stop()
	fmt.Fprintf(g.stderr(), "Restarting into the updated binary %s\n", bin)
	err := reexec(bin, os.Args, os.Environ()) // returns only on failure
	fmt.Fprintf(g.stderr(), "restart into the updated binary: %v\nRestarting the old version in-process; the update runs after OpenAgent is started again.\n", err)
	return g.start()
}

// wireUpdater backs /update and POST /api/update with the release feed, runs
// the daily check (auto_update), and makes the next restart exec the binary
// an update installed.
func wireUpdater(gcfg *gateway.Config, svc *services, log *slog.Logger) {
	upd, err := update.New(update.Config{Current: Version, Settings: gcfg.Settings, Log: log, Events: gcfg.Events})
	if err != nil {
		log.Warn("self-update unavailable", "err", err) // /update says it is not supported
		return
	}
	gcfg.Updater = upd
	svc.execBinary = upd.Pending
	upd.Restart = gcfg.Restart // auto mode; the restart execs the new binary
	svc.onAttach(func(srv *gateway.Server) {
		upd.OnAvailable = func(st update.Status) { srv.Broadcast("update", "available", st.LatestVersion) }
	})
	svc.onStart(func(ctx context.Context) { go upd.Run(ctx) })
}
