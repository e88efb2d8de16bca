package mcp

import (
	"os/exec"
	"syscall"
)

// setGroup starts cmd in a new process group. Windows has no group kill
// signal, so killGroup kills the process itself.
func setGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
	if cmd.Cancel != nil { // made by CommandContext
		cmd.Cancel = func() error { return killGroup(cmd) }
	}
}

// killGroup kills cmd's process.
func killGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	return cmd.Process.Kill()
}
