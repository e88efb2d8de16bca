//go:build !unix && !windows

package app

import (
	"errors"
	"fmt"
)

// reexec is not available on this platform.
func reexec(bin string, args, env []string) error {
	return fmt.Errorf("restart into %s: %w", bin, errors.ErrUnsupported)
}
