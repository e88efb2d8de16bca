//go:build bindings

package app

// bindingsOnly is true in the build wails runs to generate JS bindings:
// desktop() then only hands the bound structs to Wails, which writes the
// bindings and returns, with no window, tray or gateway.
const bindingsOnly = true
