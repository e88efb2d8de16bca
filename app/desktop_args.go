package app

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"

	"openagent/internal/config"
)

// desktopFlags are the desktop app's command line.
type desktopFlags struct {
	hidden bool   // start in the tray only (autostart passes it)
	dir    string // agent directory; the platform data directory when empty
}

// parseDesktopArgs reads --hidden and --dir DIR.
func parseDesktopArgs(args []string, stderr io.Writer) (desktopFlags, error) {
	var f desktopFlags
	fset := flag.NewFlagSet("openagent", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.BoolVar(&f.hidden, "hidden", false, "start in the tray without opening the window")
	fset.StringVar(&f.dir, "dir", "", "agent directory (default: the platform data directory)")
	pos, err := parseArgs(fset, args)
	if err != nil {
		return f, err
	}
	if len(pos) > 0 {
		return f, usageError{fmt.Sprintf("unexpected arguments %q (did you mean openagent serve DIR?)", pos)}
	}
	if f.dir == "" {
		if f.dir, err = config.DefaultDir(); err != nil {
			return f, fmt.Errorf("find the data directory: %w", err)
		}
	}
	return f, nil
}

// haveDisplay reports whether a window can be opened. On Linux and the
// BSDs that needs an X11 or Wayland display; GTK would exit the process
// otherwise.
func haveDisplay() bool {
	switch runtime.GOOS {
	case "windows", "darwin":
		return true
	}
	return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
}

// desktopToServeArgs keeps the flags serve understands (--dir becomes DIR).
func desktopToServeArgs(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; a {
		case "--hidden", "-hidden":
		case "--dir", "-dir":
			if i+1 < len(args) {
				out = append(out, args[i+1])
				i++
			}
		default:
			out = append(out, a)
		}
	}
	return out
}
