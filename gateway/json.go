package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxBodyBytes bounds a JSON request body.
const maxBodyBytes = 4 << 20

// decodeJSON reads a JSON body into v. Bad JSON is a 400 that says what is
// wrong; with strict, unknown fields are rejected too.
func decodeJSON(r *http.Request, v any, strict bool) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxBodyBytes))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		var me *http.MaxBytesError
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &me):
			return errorf(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", maxBodyBytes))
		case errors.Is(err, io.EOF):
			return errorf(http.StatusBadRequest, "request body is empty; send JSON")
		case errors.As(err, &te):
			if te.Field == "" {
				return errorf(http.StatusBadRequest, fmt.Sprintf("invalid JSON body: expected %s, got %s", te.Type, te.Value))
			}
			return errorf(http.StatusBadRequest, fmt.Sprintf("invalid JSON body: field %s must be %s, not %s", te.Field, te.Type, te.Value))
		case errors.As(err, &se):
			return errorf(http.StatusBadRequest, fmt.Sprintf("invalid JSON body: %v (at byte %d)", err, se.Offset))
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return errorf(http.StatusBadRequest, "invalid JSON body: "+strings.TrimPrefix(err.Error(), "json: "))
		}
		return errorf(http.StatusBadRequest, "invalid JSON body: "+err.Error())
	}
	if dec.More() {
		return errorf(http.StatusBadRequest, "invalid JSON body: more than one JSON value")
	}
	return nil
}

// writeJSON writes v with Content-Type set.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// ok is the common {"ok":true} answer.
type okBody struct {
	OK bool `json:"ok"`
}
