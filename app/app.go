// Package app is the composition root: it parses the command line, builds the
// gateway and its services, and runs the headless server, the terminal client
// or the desktop window with its tray.
package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// Version is the release version; set with -ldflags "-X openagent/app.Version=…".
var Version = "0.1.0-dev"

const usageText = `OpenAgent: your own always-on AI agent, reachable on one port.

Usage:
  openagent                     open the desktop window and tray (desktop build);
                                falls back to serve when there is no display
  openagent serve [DIR] [--port N] [--host H] [--token T]
                                run the gateway headless on agent directory DIR
                                (default: the platform data directory)
  openagent connect HOST:PORT [--token T] [--session S] [--client-id C] [-m TEXT]
  openagent connect --dir DIR [...]
                                terminal client; -m sends one message, prints the
                                reply and exits (non-zero on error)
  openagent version             print the version
  openagent help                show this help

Desktop flags:
  --hidden                      start in the tray without opening the window
  --dir DIR                     agent directory for the desktop app

Environment:
  OPENAGENT_WS_TOKEN            token when openagent.yaml sets none
`

// Run runs the command in args (without the program name) and returns the
// process exit code. assets is the built web UI (may be empty).
func Run(args []string, assets fs.FS, stdout, stderr io.Writer) int {
	cmd := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(args, assets, stderr)
	case "connect":
		err = connect(args, os.Stdin, stdout, stderr)
	case "version":
		fmt.Fprintf(stdout, "openagent %s\n", Version)
	case "help":
		fmt.Fprint(stdout, usageText)
	case "":
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fmt.Fprint(stdout, usageText)
			return 0
		}
		if len(args) > 0 && (args[0] == "--version" || args[0] == "-v") {
			fmt.Fprintf(stdout, "openagent %s\n", Version)
			return 0
		}
		err = desktop(args, assets, stderr)
	default:
		fmt.Fprintf(stderr, "openagent: unknown command %q\n\n%s", cmd, usageText)
		return 2
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "openagent: %v\n", err)
		return 2
	}
	fmt.Fprintf(stderr, "openagent: %v\n", err)
	return 1
}

// usageError is a mistake on the command line (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// parseArgs parses flags that may come before or after positional arguments.
func parseArgs(fset *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fset.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		args = fset.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
