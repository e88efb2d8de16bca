// Package listen binds the gateway's port and keeps the agent directory's
// .port file (decision A19).
package listen

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Span is how many ports above the preferred one are tried.
const Span = 99

// PortFile is the name of the file holding the bound port.
const PortFile = ".port"

// ErrNoPort means no port in the range could be bound.
var ErrNoPort = errors.New("no free port")

// Bind listens on host at the preferred port or the next free one up to
// preferred+Span. The listener is held: there is no probe-then-reopen race.
func Bind(host string, preferred int) (net.Listener, error) {
	if preferred <= 0 {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, fmt.Errorf("listen on %s: %w", host, err)
		}
		return ln, nil
	}
	last := min(preferred+Span, 65535)
	var firstErr error
	for p := preferred; p <= last; p++ {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err == nil {
			return ln, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) && !errors.Is(err, syscall.EACCES) {
			return nil, fmt.Errorf("listen on %s: %w", net.JoinHostPort(host, strconv.Itoa(p)), err)
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, fmt.Errorf("%w in range %d-%d on %s (all busy): free one or set channels.websocket.port", ErrNoPort, preferred, last, host)
}

// Port returns the TCP port ln is bound to.
func Port(ln net.Listener) int {
	if a, ok := ln.Addr().(*net.TCPAddr); ok {
		return a.Port
	}
	return 0
}

// WritePort writes dir/.port atomically: the decimal port, no newline.
func WritePort(dir string, port int) error {
	tmp, err := os.CreateTemp(dir, ".port-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(strconv.Itoa(port)); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, PortFile))
}

// ReadPort reads dir/.port.
func ReadPort(dir string) (int, error) {
	b, err := os.ReadFile(filepath.Join(dir, PortFile))
	if err != nil {
		return 0, err
	}
	p, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || p <= 0 || p > 65535 {
		return 0, fmt.Errorf("%s holds %q, not a port", filepath.Join(dir, PortFile), b)
	}
	return p, nil
}

// RemovePort deletes dir/.port if it still holds port.
func RemovePort(dir string, port int) {
	if p, err := ReadPort(dir); err == nil && p == port {
		os.Remove(filepath.Join(dir, PortFile))
	}
}
