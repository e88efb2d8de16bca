//go:build !desktop && !dev && !bindings

package app

import (
	"fmt"
	"io"
	"io/fs"
)

// desktop, in a build without the GUI, falls back to serve and says so.
func desktop(args []string, assets fs.FS, stderr io.Writer) error {
	fmt.Fprintln(stderr, "openagent: this build has no desktop window (built without -tags desktop); running the headless gateway instead.")
	return serve(desktopToServeArgs(args), assets, stderr)
}
