//go:build unix

package mcp_test

import (
	"context"
	"strconv"
	"syscall"
	"testing"
	"time"
)

func TestCloseKillsProcessGroup(t *testing.T) {
	t.Parallel()
	p, _ := testPool(t)
	addSelf(t, p, "spawner", "")
	got, err := p.Call(context.Background(), "spawner__spawn", nil)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(got)
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("grandchild %d not running: %v", pid, err)
	}
	p.Close()
	deadline := time.Now().Add(3 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("grandchild %d still runs after Close", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
