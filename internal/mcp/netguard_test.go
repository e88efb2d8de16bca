package mcp

import (
	"net/netip"
	"testing"
)

func TestPublicAddr(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]bool{
		"8.8.8.8": true, "1.1.1.1": true, "2606:4700:4700::1111": true, "151.101.1.69": true,
		"127.0.0.1": false, "127.8.9.10": false, "::1": false,
		"10.0.0.1": false, "172.16.5.4": false, "172.31.255.255": false, "192.168.1.1": false, "fd00::1": false,
		"169.254.169.254": false, "fe80::1": false,
		"0.0.0.0": false, "::": false, "0.1.2.3": false,
		"100.64.0.1": false, "100.127.255.254": false, "100.128.0.1": true,
		"224.0.0.1": false, "ff02::1": false, "255.255.255.255": false, "240.0.0.1": false,
		"198.18.0.1": false, "192.0.2.1": false, "192.0.0.8": false,
		"::ffff:127.0.0.1": false, "::ffff:10.1.2.3": false, "::ffff:8.8.8.8": true,
		"64:ff9b::a00:1": false, "2001:db8::1": false,
		"172.32.0.1": true, "11.0.0.1": true,
	} {
		if got := publicAddr(netip.MustParseAddr(addr)); got != want {
			t.Errorf("publicAddr(%s) = %v, want %v", addr, got, want)
		}
	}
}
