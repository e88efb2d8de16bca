// Package eventlog writes and reads logs/events.jsonl, the structured event
// log of contract Part B §4.9: one JSON object per line with ts and event.
package eventlog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"time"
)

// Log appends events to a JSONL file. It is safe for concurrent use.
type Log struct {
	path string

	mu sync.Mutex // guards f and serialises appends
	f  *os.File
}

// Open opens (creating) the event log at path for appending.
func Open(path string) (*Log, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	return &Log{path: path, f: f}, nil
}

// Path is the file's location.
func (l *Log) Path() string { return l.path }

// Emit appends one event. Fields must never hold secrets or message bodies.
// A nil Log discards events, so components can run without one in tests.
func (l *Log) Emit(event string, fields map[string]any) {
	if l == nil {
		return
	}
	m := make(map[string]any, len(fields)+2)
	for k, v := range fields {
		m[k] = v
	}
	m["ts"] = float64(time.Now().UnixMicro()) / 1e6
	m["event"] = event
	b, err := json.Marshal(m)
	if err != nil {
		return
	}
	b = append(b, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		l.f.Write(b)
	}
}

// Tail returns the last n entries whose event starts with prefix, oldest first.
// Malformed lines are skipped. A missing file gives an empty list.
func (l *Log) Tail(n int, prefix string) ([]json.RawMessage, error) {
	out := []json.RawMessage{}
	f, err := os.Open(l.path)
	if os.IsNotExist(err) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var head struct {
		Event string `json:"event"`
	}
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		head.Event = ""
		if json.Unmarshal(line, &head) != nil || !strings.HasPrefix(head.Event, prefix) {
			continue
		}
		out = append(out, json.RawMessage(bytes.Clone(line)))
		if n > 0 && len(out) > 2*n {
			out = append(out[:0], out[len(out)-n:]...)
		}
	}
	if n > 0 && len(out) > n {
		out = out[len(out)-n:]
	}
	return out, sc.Err()
}

// Truncate empties the file; logging continues.
func (l *Log) Truncate() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Truncate(0)
}

// Close closes the file.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
