// Command mkicons writes the platform icons under build/ from the drawing
// in app/icon.go, so the app icon, the tray icons and the packages agree.
//
//	go run ./tools/mkicons [-o build]
package main

import (
	"flag"
	"fmt"
	"image"
	"os"
	"path/filepath"

	"openagent/app"
)

func main() {
	out := flag.String("o", "build", "build directory")
	flag.Parse()
	if err := write(*out); err != nil {
		fmt.Fprintln(os.Stderr, "mkicons:", err)
		os.Exit(1)
	}
}

func write(dir string) error {
	files := map[string][]byte{
		// Wails makes the macOS .icns and the Windows .ico from this one
		// when they are missing.
		"appicon.png":      app.PNG(app.AppIcon(1024)),
		"windows/icon.ico": app.ICO(sizes(256, 128, 64, 48, 32, 16)...),
	}
	for _, n := range []int{16, 24, 32, 48, 64, 128, 256, 512} {
		files[fmt.Sprintf("linux/icons/hicolor/%dx%d/apps/openagent.png", n, n)] = app.PNG(app.AppIcon(n))
	}
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func sizes(ns ...int) []*image.NRGBA {
	out := make([]*image.NRGBA, len(ns))
	for i, n := range ns {
		out[i] = app.AppIcon(n)
	}
	return out
}
