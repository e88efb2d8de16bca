package app

import "errors"

// reexec is not available on Windows, which cannot replace a running
// process image; the user starts OpenAgent again to run the update.
func reexec(bin string, args, env []string) error {
	return errors.New("not supported yet on Windows: restarting into a new binary; quit OpenAgent from the tray and start it again")
}
