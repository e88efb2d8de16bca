package mcp

import (
	"strings"

	"openagent/internal/config"
)

// secretWords mark env variables and headers whose values are shown masked
// (decision A13 applied to MCP rows): API keys, tokens, passwords, auth headers.
var secretWords = []string{"key", "token", "secret", "password", "passwd", "auth", "credential", "cookie"}

func secretName(k string) bool {
	k = strings.ToLower(k)
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// maskValues returns m with secret-named values masked ("****" + last 4).
func maskValues(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if v != "" && secretName(k) {
			v = config.Mask(v)
		}
		out[k] = v
	}
	return out
}

// keepMasked puts stored secrets back where a write sent their mask unchanged,
// so a client can send a row back as it got it.
func keepMasked(nv, old map[string]string) {
	for k, v := range nv {
		if o, ok := old[k]; ok && strings.HasPrefix(v, "****") && config.Mask(o) == v {
			nv[k] = o
		}
	}
}
