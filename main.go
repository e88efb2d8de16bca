// Command openagent is the OpenAgent desktop app, headless gateway and terminal client.
package main

import (
	"embed"
	"io/fs"
	"os"

	"openagent/app"
)

//go:embed all:frontend/dist
var dist embed.FS

func main() {
	ui, err := fs.Sub(dist, "frontend/dist")
	if err != nil {
		panic(err)
	}
	os.Exit(app.Run(os.Args[1:], ui, os.Stdout, os.Stderr))
}
