//go:build unix

package app

import (
	"fmt"
	"syscall"
)

// reexec replaces the process image with bin (execve): same pid, and open
// descriptors are closed because Go opens them close-on-exec.
func reexec(bin string, args, env []string) error {
	if err := syscall.Exec(bin, args, env); err != nil {
		return fmt.Errorf("exec %s: %w", bin, err)
	}
	return nil
}
