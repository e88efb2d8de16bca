package llm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
)

// Kind is a class of provider error a user can act on.
type Kind int

// The error classes. Each has a message that says what to do.
const (
	KindOther         Kind = iota // anything else the provider rejected
	KindAuth                      // bad or missing API key
	KindModel                     // the model id is unknown to the provider
	KindRateLimit                 // too many requests or quota exhausted
	KindContextLength             // the conversation is longer than the model accepts
	KindUnavailable               // the provider is down or unreachable
)

func (k Kind) String() string {
	switch k {
	case KindAuth:
		return "bad key"
	case KindModel:
		return "unknown model"
	case KindRateLimit:
		return "rate limited"
	case KindContextLength:
		return "context too long"
	case KindUnavailable:
		return "provider down"
	}
	return "request rejected"
}

// Error is a provider failure, classified.
type Error struct {
	Kind Kind
	// Provider is the provider's entry name.
	Provider string
	// Status is the HTTP status, 0 when no answer came.
	Status int
	// Msg is the provider's own message.
	Msg string
	// Err is the underlying error.
	Err error
}

func (e *Error) Error() string {
	var hint string
	switch e.Kind {
	case KindAuth:
		hint = "the API key was rejected; check providers." + e.Provider + ".api_key"
	case KindModel:
		hint = "the provider does not know this model; check model.model_id"
	case KindRateLimit:
		hint = "rate limit or quota reached; wait a moment or check your plan"
	case KindContextLength:
		hint = "the conversation is too long for this model; start a /new session or pick a model with a larger context window"
	case KindUnavailable:
		hint = "the provider is down or unreachable; try again later or check providers." + e.Provider + ".base_url"
	default:
		hint = "the provider rejected the request"
	}
	s := fmt.Sprintf("%s: %s (%s", e.Provider, e.Kind, hint)
	if e.Status != 0 {
		s += fmt.Sprintf("; HTTP %d", e.Status)
	}
	s += ")"
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the class of err, KindOther when it is not an *Error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindOther
}

// Classify builds an *Error from an HTTP status and the provider's error
// code/type and message. It returns ctx errors unchanged, so cancellation
// stays recognisable.
func Classify(provider string, status int, code, msg string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	low := strings.ToLower(code + " " + msg)
	k := KindOther
	switch {
	case contextTooLong(low):
		k = KindContextLength
	case status == 401 || status == 403 || strings.Contains(low, "api key") || strings.Contains(low, "api_key") || strings.Contains(low, "authentication"):
		k = KindAuth
	case status == 404 || strings.Contains(low, "model_not_found") || strings.Contains(low, "not_found") || strings.Contains(low, "unknown model") || strings.Contains(low, "does not exist"):
		k = KindModel
	case status == 429 || strings.Contains(low, "rate_limit") || strings.Contains(low, "resource_exhausted") || strings.Contains(low, "quota"):
		k = KindRateLimit
	case status >= 500 || strings.Contains(low, "overloaded") || strings.Contains(low, "unavailable") || strings.Contains(low, "server_error") || strings.Contains(low, "api_error"):
		k = KindUnavailable
	case status == 0 && isNetwork(err):
		k = KindUnavailable
	}
	if status == 413 {
		k = KindContextLength
	}
	if msg == "" && err != nil {
		msg = err.Error()
	}
	return &Error{Kind: k, Provider: provider, Status: status, Msg: msg, Err: err}
}

func contextTooLong(low string) bool {
	for _, s := range []string{"context_length", "context length", "context window", "prompt is too long", "too many tokens", "maximum context", "exceeds the maximum number of tokens", "input is too long", "reduce the length"} {
		if strings.Contains(low, s) {
			return true
		}
	}
	return false
}

func isNetwork(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &ne) || errors.As(err, &oe) {
		return true
	}
	low := strings.ToLower(err.Error())
	return strings.Contains(low, "connection refused") || strings.Contains(low, "no such host") ||
		strings.Contains(low, "eof") || strings.Contains(low, "connection reset")
}
