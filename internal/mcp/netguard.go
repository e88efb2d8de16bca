package mcp

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"golang.org/x/net/http/httpproxy"
)

// The fetch tool's network guard. A page the agent reads can ask it to fetch
// anything, so by default it reaches public addresses only: not this
// machine, the LAN, link-local addresses (where cloud metadata lives) or
// other special ranges. The check runs on the address actually dialled, so
// redirects and DNS answers that change between lookups cannot get around it.

// nonPublic are ranges netip's predicates do not cover.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: may map to any IPv4 address
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
}

// publicAddr reports whether ip is a public unicast address.
func publicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() ||
		ip.IsMulticast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// errPrivate is the error for a refused address.
func errPrivate(host string, ip netip.Addr) error {
	return fmt.Errorf("%s is not a public address (%s); the fetch tool reaches only public addresses "+
		"unless tools.fetch_private_networks is true in openagent.yaml", host, ip)
}

// guardedTransport is http.DefaultTransport's setup with every dial checked
// against publicAddr unless private() says otherwise. The proxies from the
// environment may be dialled; through one, the target's name is checked
// before the request instead (checkHost), as the proxy does the dialling.
func guardedTransport(private func() bool) *http.Transport {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dd := *d
		if !private() && !proxies[addr] {
			dd.Control = func(_, address string, _ syscall.RawConn) error {
				ap, err := netip.ParseAddrPort(address)
				if err != nil {
					return fmt.Errorf("fetch: unexpected address %q", address)
				}
				if !publicAddr(ap.Addr()) {
					host, _, _ := net.SplitHostPort(addr)
					return errPrivate(host, ap.Addr())
				}
				return nil
			}
		}
		return dd.DialContext(ctx, network, addr)
	}
	t.Proxy = func(r *http.Request) (*url.URL, error) {
		u, err := http.ProxyFromEnvironment(r)
		if u != nil && err == nil && !private() {
			// The proxy resolves the name: check it here.
			if err := checkHost(r.Context(), r.URL.Hostname()); err != nil {
				return nil, err
			}
		}
		return u, err
	}
	return t
}

// proxies are the host:port of the proxies named in the environment
// (HTTP_PROXY, HTTPS_PROXY): dialling one of them is not fetching from it.
var proxies = func() map[string]bool {
	out := map[string]bool{}
	env := httpproxy.FromEnvironment()
	for _, p := range []string{env.HTTPProxy, env.HTTPSProxy} {
		if p == "" {
			continue
		}
		if !strings.Contains(p, "://") {
			p = "http://" + p
		}
		u, err := url.Parse(p)
		if err != nil || u.Hostname() == "" {
			continue
		}
		port := u.Port()
		if port == "" {
			port = map[string]string{"https": "443", "socks5": "1080"}[u.Scheme]
			if port == "" {
				port = "80"
			}
		}
		out[net.JoinHostPort(u.Hostname(), port)] = true
	}
	return out
}()

// checkHost resolves host and refuses it when any of its addresses is not
// public.
func checkHost(ctx context.Context, host string) error {
	if ip, err := netip.ParseAddr(host); err == nil {
		if !publicAddr(ip) {
			return errPrivate(host, ip)
		}
		return nil
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return err
	}
	for _, ip := range ips {
		if !publicAddr(ip) {
			return errPrivate(host, ip)
		}
	}
	return nil
}
