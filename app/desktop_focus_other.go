//go:build (desktop || dev || bindings) && !linux

package app

import (
	"context"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/runtime"
)

// focusFirstInstance lets Wails' SingleInstanceLock reach the running
// instance (a named mutex and window message on Windows, a distributed
// notification on macOS); Wails exits this process when it succeeds. If
// it returns, no first instance answered and the hidden window quits.
// Not verified on those platforms from this repository's CI.
func focusFirstInstance(uniqueID string) error {
	return wails.Run(&options.App{
		Title:              "OpenAgent",
		StartHidden:        true,
		SingleInstanceLock: &options.SingleInstanceLock{UniqueId: uniqueID},
		OnDomReady:         func(ctx context.Context) { runtime.Quit(ctx) },
	})
}
