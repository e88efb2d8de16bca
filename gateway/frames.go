package gateway

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
)

// frame is every server → client message. Fields are omitted when empty,
// except where the contract needs them present (see the custom marshalers).
type frame struct {
	Type string `json:"type"`

	// auth_ok (decision A5)
	AgentName string `json:"agent_name,omitempty"`
	Version   string `json:"version,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	Protocol  int    `json:"protocol,omitempty"`

	// auth_error
	Reason string `json:"reason,omitempty"`

	// queued
	Position int `json:"position,omitempty"`

	// status, response, error, command_result
	Text      string `json:"text,omitempty"`
	SessionID string `json:"session_id,omitempty"`

	// response (decision A8): attachments is [] when there are none.
	Attachments []Attachment `json:"attachments,omitempty"`
	Model       string       `json:"model,omitempty"`

	// resource_event
	Resource string `json:"resource,omitempty"`
	Action   string `json:"action,omitempty"`
	ID       string `json:"id,omitempty"`
}

// Attachment is a file the agent referred to with a marker (contract §2.6).
type Attachment struct {
	Type     string `json:"type"`
	Path     string `json:"path"`
	Filename string `json:"filename"`
}

// Wire shapes with fields that must be present even when empty.
type responseFrame struct {
	Type        string       `json:"type"`
	Text        string       `json:"text"`
	SessionID   string       `json:"session_id"`
	Attachments []Attachment `json:"attachments"`
	Model       *string      `json:"model"`
}

type textFrame struct {
	Type      string `json:"type"`
	Text      string `json:"text"`
	SessionID string `json:"session_id,omitempty"`
}

type queuedFrame struct {
	Type      string `json:"type"`
	Position  int    `json:"position"`
	SessionID string `json:"session_id"`
}

// encode renders f exactly as the contract wants it on the wire.
func (f frame) encode() []byte {
	var v any = f
	switch f.Type {
	case "response":
		r := responseFrame{Type: f.Type, Text: f.Text, SessionID: f.SessionID, Attachments: f.Attachments}
		if r.Attachments == nil {
			r.Attachments = []Attachment{}
		}
		if f.Model != "" {
			r.Model = &f.Model
		}
		v = r
	case "status", "error", "command_result":
		v = textFrame{Type: f.Type, Text: f.Text, SessionID: f.SessionID}
	case "queued":
		v = queuedFrame{Type: f.Type, Position: f.Position, SessionID: f.SessionID}
	}
	b, _ := json.Marshal(v)
	return b
}

// inbound is every client → server message.
type inbound struct {
	Type      string          `json:"type"`
	Token     *string         `json:"token"`
	ClientID  *string         `json:"client_id"`
	Text      *string         `json:"text"`
	SessionID *string         `json:"session_id"`
	Name      *string         `json:"name"`
	Raw       json.RawMessage `json:"-"`
}

var markerRE = regexp.MustCompile(`\[(IMAGE|FILE|VOICE|VIDEO):([^\]]+)\]`)

// parseMarkers strips attachment markers from text and returns them in order
// (contract §2.6). The result is never nil.
func parseMarkers(text string) (string, []Attachment) {
	atts := []Attachment{}
	if !strings.Contains(text, "[") {
		return text, atts
	}
	for _, m := range markerRE.FindAllStringSubmatch(text, -1) {
		p := strings.TrimSpace(m[2])
		atts = append(atts, Attachment{Type: strings.ToLower(m[1]), Path: p, Filename: filepath.Base(p)})
	}
	if len(atts) == 0 {
		return text, atts
	}
	return strings.TrimSpace(markerRE.ReplaceAllString(text, "")), atts
}
