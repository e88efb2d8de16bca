package gateway

import (
	"crypto/subtle"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"openagent/internal/config"
)

// Failed-auth rate limiting (decision A2).
const (
	authFailWindow = time.Minute
	authFailMax    = 10 // failures per window per remote address before refusing
)

// access enforces decisions A1-A3: the token, Host checks while on loopback,
// Origin checks and CORS.
type access struct {
	s *Server

	mu    sync.Mutex // guards fails
	fails map[string]*failCount
}

type failCount struct {
	n     int
	since time.Time
}

func newAccess(s *Server) *access { return &access{s: s, fails: map[string]*failCount{}} }

// WebviewOrigins are the origins of the desktop window on each platform.
var WebviewOrigins = []string{"wails://wails", "wails://wails.localhost", "http://wails.localhost"}

func (a *access) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cfg := a.s.cfg.Settings.Config().Channels.WebSocket
		if config.IsLoopback(a.s.boundHost(cfg.Host)) && !loopbackHost(r.Host) {
			writeError(w, r, httpError{http.StatusForbidden, "forbidden host: this gateway only answers to localhost"})
			return
		}
		origin := r.Header.Get("Origin")
		allowed := origin == "" || a.originAllowed(origin, r, cfg.AllowedOrigins)
		if origin != "" && allowed {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Add("Vary", "Origin")
		}
		if r.Method == http.MethodOptions {
			if !allowed || origin == "" {
				writeError(w, r, httpError{http.StatusForbidden, "origin not allowed"})
				return
			}
			h := w.Header()
			h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if !allowed {
			writeError(w, r, httpError{http.StatusForbidden, "origin not allowed: add it to channels.websocket.allowed_origins"})
			return
		}
		if strings.HasPrefix(r.URL.Path, "/api/") && r.URL.Path != "/api/health" && !a.restAuthed(r, cfg.Token) {
			ip := remoteIP(r)
			if a.limited(ip) {
				writeError(w, r, httpError{http.StatusTooManyRequests, "too many failed attempts; try again later"})
				return
			}
			a.fail(ip, "rest")
			writeError(w, r, httpError{http.StatusUnauthorized, "unauthorized"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// restAuthed checks the bearer token, or ?token= on GET (decision A2).
func (a *access) restAuthed(r *http.Request, token string) bool {
	if token == "" {
		return true
	}
	got := ""
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		got = strings.TrimPrefix(h, "Bearer ")
	} else if r.Method == http.MethodGet || r.Method == http.MethodHead {
		got = r.URL.Query().Get("token")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}

func (a *access) originAllowed(origin string, r *http.Request, extra []string) bool {
	if origin == "http://"+r.Host || origin == "https://"+r.Host {
		return true
	}
	for _, o := range WebviewOrigins {
		if origin == o {
			return true
		}
	}
	for _, o := range a.s.cfg.ExtraOrigins {
		if origin == o {
			return true
		}
	}
	for _, o := range extra {
		if strings.TrimRight(o, "/") == origin {
			return true
		}
	}
	return false
}

// fail records a failed authentication from ip.
func (a *access) fail(ip, where string) {
	a.mu.Lock()
	f := a.fails[ip]
	now := time.Now()
	if f == nil || now.Sub(f.since) > authFailWindow {
		f = &failCount{since: now}
		a.fails[ip] = f
	}
	f.n++
	n := f.n
	a.mu.Unlock()
	a.s.emit("auth.fail", map[string]any{"remote": ip, "via": where, "count": n})
}

// limited reports whether ip has failed too often recently.
func (a *access) limited(ip string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.fails[ip]
	if f == nil {
		return false
	}
	if time.Since(f.since) > authFailWindow {
		delete(a.fails, ip)
		return false
	}
	return f.n >= authFailMax
}

// loopbackHost reports whether a Host header names this machine (DNS-rebinding defence).
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

func remoteIP(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

// boundHost is the host the listener is bound to, or the configured one.
func (s *Server) boundHost(configured string) string {
	s.baseMu.Lock()
	defer s.baseMu.Unlock()
	if s.host != "" {
		return s.host
	}
	return configured
}
