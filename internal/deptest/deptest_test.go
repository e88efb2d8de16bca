// Package deptest checks the import direction main → app → gateway → internal/*.
package deptest

import (
	"os/exec"
	"strings"
	"testing"
)

// forbidden lists, for each package pattern, imports it must never have.
var rules = []struct {
	pkgs      string
	forbidden []string
}{
	{"openagent/internal/...", []string{"openagent/gateway", "openagent/app", "github.com/go-chi/chi", "github.com/wailsapp/", "github.com/getlantern/systray", "fyne.io/systray"}},
	{"openagent/gateway/...", []string{"openagent/app", "github.com/wailsapp/", "github.com/getlantern/systray", "fyne.io/systray"}},
}

func TestImportDirection(t *testing.T) {
	for _, r := range rules {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", r.pkgs).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", r.pkgs, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, bad := range r.forbidden {
				if dep == bad || strings.HasPrefix(dep, bad+"/") || (strings.HasSuffix(bad, "/") && strings.HasPrefix(dep, bad)) {
					t.Errorf("%s depends on %s", r.pkgs, dep)
				}
			}
		}
	}
}

// TestGorillaOnlyInClient keeps gorilla/websocket inside internal/ to the shared client.
func TestGorillaOnlyInClient(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "openagent/internal/...").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		for _, imp := range f[1:] {
			if imp == "github.com/gorilla/websocket" && f[0] != "openagent/internal/wsclient" {
				t.Errorf("%s imports gorilla/websocket; only internal/wsclient may", f[0])
			}
		}
	}
}
