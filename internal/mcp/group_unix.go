//go:build unix

package mcp

import (
	"os/exec"
	"syscall"
)

// setGroup starts cmd in a process group of its own, so that killGroup also
// reaches the grandchildren a launcher such as npx or uvx starts.
func setGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if cmd.Cancel != nil { // made by CommandContext
		cmd.Cancel = func() error { return killGroup(cmd) }
	}
}

// killGroup kills cmd's whole process group.
func killGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
