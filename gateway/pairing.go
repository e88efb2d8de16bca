package gateway

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	qrcode "github.com/skip2/go-qrcode"

	"openagent/internal/config"
)

// qrSize is the side of the pairing QR code in pixels.
const qrSize = 320

// PairingInfo is GET /api/pairing: how another device (a phone) reaches
// this gateway. With lan false, URLs is empty and QRPNG is "".
type PairingInfo struct {
	// LAN is true when the gateway listens beyond loopback.
	LAN bool `json:"lan"`
	// Host is the bound address ("0.0.0.0" for every interface).
	Host string `json:"host"`
	Port int    `json:"port"`
	// Token is the access token other devices need.
	Token string `json:"token"`
	// URLs are http://<ip>:<port>/?token=… for each LAN address, best first.
	URLs []string `json:"urls"`
	// QRPNG is a data: URL of a PNG QR code encoding URLs[0].
	QRPNG string `json:"qr_png"`
}

func (s *Server) getPairing(w http.ResponseWriter, r *http.Request) error {
	s.baseMu.Lock()
	host, port := s.host, s.port
	s.baseMu.Unlock()
	if host == "" {
		host = s.cfg.Settings.Config().Channels.WebSocket.Host
	}
	ip := net.ParseIP(host)
	info := PairingInfo{Host: host, Port: port, Token: s.token(), URLs: []string{}}
	if ip != nil && ip.IsUnspecified() {
		info.Host = "0.0.0.0"
	}
	info.LAN = !config.IsLoopback(info.Host)
	if !info.LAN {
		return writeJSON(w, http.StatusOK, info)
	}
	var ips []net.IP
	if ip != nil && !ip.IsUnspecified() {
		ips = []net.IP{ip}
	} else {
		var err error
		if ips, err = lanAddrs(); err != nil {
			return fmt.Errorf("list network interfaces: %w", err)
		}
	}
	for _, a := range ips {
		info.URLs = append(info.URLs, pairingURL(a, port, info.Token))
	}
	if len(info.URLs) > 0 {
		png, err := qrcode.Encode(info.URLs[0], qrcode.Medium, qrSize)
		if err != nil {
			return fmt.Errorf("encode QR code: %w", err)
		}
		info.QRPNG = "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
	}
	return writeJSON(w, http.StatusOK, info)
}

// pairingURL is the address that logs a browser straight into the web UI.
func pairingURL(ip net.IP, port int, token string) string {
	u := "http://" + net.JoinHostPort(ip.String(), strconv.Itoa(port)) + "/"
	if token != "" {
		u += "?token=" + url.QueryEscape(token)
	}
	return u
}

// lanAddrs lists the non-loopback IPv4 addresses of interfaces that are up,
// best first: private addresses of ordinary interfaces, then the rest
// (container bridges and link-local addresses last).
func lanAddrs() ([]net.IP, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	type cand struct {
		ip   net.IP
		rank int
	}
	var out []cand
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			n, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip4 := n.IP.To4()
			if ip4 == nil || ip4.IsLoopback() {
				continue
			}
			out = append(out, cand{ip4, addrRank(ifc.Name, ip4)})
		}
	}
	slices.SortStableFunc(out, func(a, b cand) int { return cmp.Compare(a.rank, b.rank) })
	ips := make([]net.IP, len(out))
	for i, c := range out {
		ips[i] = c.ip
	}
	return ips, nil
}

// addrRank orders candidate addresses: lower is more likely what a phone
// on the same Wi-Fi can reach.
func addrRank(ifname string, ip net.IP) int {
	virtual := false
	for _, p := range []string{"docker", "br-", "veth", "virbr", "vmnet", "vboxnet", "tun", "tap", "wg", "zt", "tailscale"} {
		if strings.HasPrefix(ifname, p) {
			virtual = true
		}
	}
	switch {
	case ip.IsLinkLocalUnicast():
		return 4
	case virtual:
		return 3
	case ip.IsPrivate():
		return 0
	}
	return 1
}
