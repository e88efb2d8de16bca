//go:build (desktop || dev) && !bindings

package app

// bindingsOnly is true in the build wails runs to generate JS bindings.
const bindingsOnly = false
