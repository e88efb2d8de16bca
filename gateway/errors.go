package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/http"
	"time"

	"openagent/internal/config"
)

// httpError is an error with a status and a message written for the user.
type httpError struct {
	status int
	msg    string
}

func (e httpError) Error() string { return e.msg }

// errorf builds an httpError.
func errorf(status int, msg string) error { return httpError{status, msg} }

// errorBody is every error response (decision A12).
type errorBody struct {
	Error     string `json:"error"`
	RequestID string `json:"request_id,omitempty"`
}

// statusOf maps an error to its HTTP status and the message the client sees.
func statusOf(err error) (int, string) {
	var he httpError
	var ve *config.ValidationError
	switch {
	case errors.As(err, &he):
		return he.status, he.msg
	case errors.As(err, &ve):
		return http.StatusBadRequest, ve.Error()
	case errors.Is(err, fs.ErrNotExist):
		return http.StatusNotFound, "Not found"
	}
	return http.StatusInternalServerError, "internal error"
}

func writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := statusOf(err)
	body := errorBody{Error: msg}
	if status >= 500 {
		body.RequestID = w.Header().Get("X-Request-Id")
	}
	writeJSON(w, status, body)
}

// handlerFunc is a handler that returns its error instead of writing it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// statusRecorder remembers the status for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (sr *statusRecorder) WriteHeader(code int) {
	if sr.status == 0 {
		sr.status = code
	}
	sr.ResponseWriter.WriteHeader(code)
}

func (sr *statusRecorder) Write(b []byte) (int, error) {
	if sr.status == 0 {
		sr.status = http.StatusOK
	}
	return sr.ResponseWriter.Write(b)
}

func (sr *statusRecorder) Unwrap() http.ResponseWriter { return sr.ResponseWriter }

// handle adapts a handlerFunc: it sets a request id, recovers panics into a
// 500, renders returned errors, and logs one line per request.
func (s *Server) handle(route string, h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := requestID()
		w.Header().Set("X-Request-Id", id)
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("handler panic", "route", route, "request_id", id, "panic", p)
				s.emit("gateway.rest_error", map[string]any{"route": route, "request_id": id, "error": "panic"})
				if rec.status == 0 {
					writeError(rec, r, errors.New("panic"))
				}
			}
			s.log.Info("request", "method", r.Method, "route", route, "status", rec.status, "ms", time.Since(start).Milliseconds(), "request_id", id)
		}()
		err := h(rec, r)
		if err == nil {
			return
		}
		if r.Context().Err() != nil {
			return
		}
		status, _ := statusOf(err)
		if status >= 500 {
			s.log.Error("request failed", "route", route, "request_id", id, "err", err)
			s.emit("gateway.rest_error", map[string]any{"route": route, "request_id": id, "error": err.Error()})
		}
		if rec.status != 0 {
			return // the handler already started its answer
		}
		writeError(rec, r, err)
	}
}

func requestID() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
