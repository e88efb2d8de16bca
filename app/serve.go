package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"syscall"

	"openagent/internal/config"
)

// serve runs the gateway headless until SIGINT or SIGTERM.
func serve(args []string, assets fs.FS, stderr io.Writer) error {
	fset := flag.NewFlagSet("serve", flag.ContinueOnError)
	fset.SetOutput(stderr)
	port := fset.Int("port", 0, "preferred port (default from openagent.yaml, else 8765)")
	host := fset.String("host", "", "address to bind (default 127.0.0.1; 0.0.0.0 lets other devices in and needs a token)")
	token := fset.String("token", "", "access token (overrides openagent.yaml)")
	pos, err := parseArgs(fset, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usageError{"serve takes one agent directory, got " + fmt.Sprint(pos)}
	}
	dir := ""
	if len(pos) == 1 {
		dir = pos[0]
	} else if dir, err = config.DefaultDir(); err != nil {
		return fmt.Errorf("find the data directory: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runHeadless(ctx, Options{Dir: dir, Host: *host, Port: *port, Token: *token, Assets: assets, Stderr: stderr})
}

// runHeadless starts the gateway and keeps it up until ctx ends.
func runHeadless(ctx context.Context, opts Options) error {
	g := NewGateway(opts)
	if err := g.Start(); err != nil {
		var ar *ErrAlreadyRunning
		if errors.As(err, &ar) {
			return err
		}
		return fmt.Errorf("start gateway: %w", err)
	}
	st := g.State()
	fmt.Fprintf(opts.Stderr, "OpenAgent %s serving %s on http://%s:%d (Ctrl-C to stop)\n", Version, opts.Dir, displayHost(st.Host), st.Port)
	for {
		select {
		case <-ctx.Done():
			g.Stop()
			return nil
		case <-g.Done():
			// Stopped by itself: either a restart is under way or serving failed.
			if err := waitRestart(ctx, g); err != nil {
				return err
			}
		}
	}
}

// waitRestart waits for a restart in progress to bring the gateway back.
func waitRestart(ctx context.Context, g *Gateway) error {
	g.ops.Lock() // held by Restart until the new gateway is up
	g.ops.Unlock()
	if st := g.State(); st.Running {
		return nil
	} else if st.Err != nil {
		return st.Err
	}
	if ctx.Err() != nil {
		return nil
	}
	return errors.New("gateway stopped")
}

func displayHost(h string) string {
	if h == "" || h == "0.0.0.0" || h == "::" {
		return "0.0.0.0"
	}
	return h
}
