package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

// File is openagent.yaml on disk: the raw document, with comments, and its
// parsed Config. It is safe for concurrent use.
type File struct {
	path string

	mu     sync.Mutex // guards the fields below
	doc    *yaml.Node // document node; its first child is the top-level mapping
	cfg    Config
	print  fingerprint
	notify []func(Config, []string)
	over   func(*Config) // runtime overrides (command-line flags), applied after every parse
}

type fingerprint struct {
	mtime int64
	sum   [8]byte
}

// Open loads path, creating it with the commented defaults when it is missing.
func Open(path string) (*File, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		if err := writeAtomic(path, DefaultYAML()); err != nil {
			return nil, err
		}
	}
	f := &File{path: path}
	if _, err := f.Reload(); err != nil {
		return nil, err
	}
	return f, nil
}

// Path is the file's location.
func (f *File) Path() string { return f.path }

// Config returns the current parsed settings.
func (f *File) Config() Config {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cfg
}

// OnChange registers fn to run after every change, with the top-level
// sections that changed. fn runs without the lock held.
func (f *File) OnChange(fn func(c Config, sections []string)) {
	f.mu.Lock()
	f.notify = append(f.notify, fn)
	f.mu.Unlock()
}

// Override sets runtime overrides (such as command-line flags) that apply on
// top of the file after every load. They are never written to the file.
func (f *File) Override(fn func(*Config)) {
	f.mu.Lock()
	f.over = fn
	if fn != nil {
		fn(&f.cfg)
	}
	f.mu.Unlock()
}

// SetValue sets one nested key (e.g. "channels", "websocket", "token") and
// writes the file, keeping the rest of the section.
func (f *File) SetValue(value any, keys ...string) error {
	if len(keys) == 0 {
		return &ValidationError{"key", "empty path"}
	}
	raw, err := f.Raw()
	if err != nil {
		return err
	}
	if len(keys) == 1 {
		return f.SetSection(keys[0], value)
	}
	sec, _ := raw[keys[0]].(map[string]any)
	if sec == nil {
		sec = map[string]any{}
	}
	m := sec
	for _, k := range keys[1 : len(keys)-1] {
		next, _ := m[k].(map[string]any)
		if next == nil {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = value
	return f.SetSection(keys[0], sec)
}

// Reload re-reads the file when it changed on disk (mtime and content hash),
// and reports whether it did.
func (f *File) Reload() (bool, error) {
	b, err := os.ReadFile(f.path)
	if err != nil {
		return false, fmt.Errorf("read config: %w", err)
	}
	st, err := os.Stat(f.path)
	if err != nil {
		return false, err
	}
	sum := sha256.Sum256(b)
	fp := fingerprint{mtime: st.ModTime().UnixNano()}
	copy(fp.sum[:], sum[:8])

	f.mu.Lock()
	if f.doc != nil && fp == f.print {
		f.mu.Unlock()
		return false, nil
	}
	doc, err := parseDoc(b)
	if err != nil {
		f.mu.Unlock()
		return false, err
	}
	cfg, err := parseBytes(b)
	if err != nil {
		f.mu.Unlock()
		return false, err
	}
	if f.over != nil {
		f.over(&cfg)
	}
	old := f.cfg
	first := f.doc == nil
	f.doc, f.cfg, f.print = doc, cfg, fp
	fns := f.notify
	f.mu.Unlock()
	if !first {
		changed := changedSections(old, cfg)
		for _, fn := range fns {
			fn(cfg, changed)
		}
	}
	return true, nil
}

func parseDoc(b []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", FileName, err)
	}
	if len(doc.Content) == 0 {
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}}
	}
	if doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("parse %s: the top level must be a mapping", FileName)
	}
	return &doc, nil
}

func changedSections(a, b Config) []string {
	var out []string
	ta, va, vb := reflect.TypeOf(a), reflect.ValueOf(a), reflect.ValueOf(b)
	for i := 0; i < ta.NumField(); i++ {
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			out = append(out, strings.Split(ta.Field(i).Tag.Get("yaml"), ",")[0])
		}
	}
	return out
}

// Raw returns the document as plain JSON-compatible values, unresolved
// (${VAR} stays as written) and unmasked.
func (f *File) Raw() (map[string]any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var m map[string]any
	if err := f.doc.Content[0].Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		m = map[string]any{}
	}
	return normalize(m).(map[string]any), nil
}

// Masked returns Raw with secrets masked (decision A13).
func (f *File) Masked() (map[string]any, error) {
	m, err := f.Raw()
	if err != nil {
		return nil, err
	}
	return MaskSecrets(m).(map[string]any), nil
}

// Section returns one top-level section as raw JSON-compatible values, or nil.
func (f *File) Section(name string) (any, error) {
	m, err := f.Raw()
	if err != nil {
		return nil, err
	}
	return m[name], nil
}

// SetSection replaces one top-level section (reference PATCH semantics: no merge).
// Masked secrets sent back unchanged keep their stored value. A nil value
// writes null. Comments elsewhere in the file are kept.
func (f *File) SetSection(name string, value any) error {
	if name == "" {
		return &ValidationError{"section", "name is empty"}
	}
	return f.update(func(doc *yaml.Node, raw map[string]any) error {
		value = unmask(value, raw[name])
		return setKey(doc.Content[0], name, value)
	})
}

// Replace replaces the whole document with m. Sections whose value did not
// change keep their YAML (and comments).
func (f *File) Replace(m map[string]any) error {
	return f.update(func(doc *yaml.Node, raw map[string]any) error {
		top := doc.Content[0]
		for k := range raw {
			if _, ok := m[k]; !ok {
				deleteKey(top, k)
			}
		}
		for k, v := range m {
			v = unmask(v, raw[k])
			if reflect.DeepEqual(normalize(v), raw[k]) {
				continue
			}
			if err := setKey(top, k, v); err != nil {
				return err
			}
		}
		return nil
	})
}

// update applies fn to a copy of the document, validates the result and writes it.
func (f *File) update(fn func(doc *yaml.Node, raw map[string]any) error) error {
	raw, err := f.Raw()
	if err != nil {
		return err
	}
	f.mu.Lock()
	b, err := yaml.Marshal(f.doc)
	f.mu.Unlock()
	if err != nil {
		return err
	}
	doc, err := parseDoc(b) // a deep copy
	if err != nil {
		return err
	}
	if err := fn(doc, raw); err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	cfg, err := parseBytes(buf.Bytes())
	if err != nil {
		return &ValidationError{"config", err.Error()}
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := writeAtomic(f.path, buf.Bytes()); err != nil {
		return err
	}
	_, err = f.Reload()
	return err
}

func setKey(m *yaml.Node, key string, value any) error {
	var n yaml.Node
	if err := n.Encode(value); err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			n.HeadComment = m.Content[i+1].HeadComment
			m.Content[i+1] = &n
			return nil
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, &n)
	return nil
}

func deleteKey(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}

// normalize turns YAML-decoded values into what encoding/json would produce,
// so values from the file and values from a request compare equal.
func normalize(v any) any {
	b, err := json.Marshal(jsonable(v))
	if err != nil {
		return v
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

func jsonable(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = jsonable(x)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[fmt.Sprint(k)] = jsonable(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = jsonable(x)
		}
		return out
	case time.Time:
		return t.Format(time.RFC3339)
	}
	return v
}

// IsSecretKey reports whether a config key holds a secret (decision A13).
func IsSecretKey(k string) bool {
	k = strings.ToLower(k)
	return k == "api_key" || k == "token" || strings.HasSuffix(k, "_token") || k == "password" || k == "secret"
}

// Mask hides a secret: "****" plus its last 4 characters; ${VAR} references stay.
func Mask(s string) string {
	if strings.HasPrefix(s, "${") {
		return s
	}
	if len(s) <= 4 {
		return "****"
	}
	return "****" + s[len(s)-4:]
}

// MaskSecrets returns v with every secret-named string masked.
func MaskSecrets(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			if s, ok := x.(string); ok && IsSecretKey(k) && s != "" {
				out[k] = Mask(s)
				continue
			}
			out[k] = MaskSecrets(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = MaskSecrets(x)
		}
		return out
	}
	return v
}

// unmask puts stored secrets back where the new value carries their mask.
func unmask(nv, old any) any {
	switch t := nv.(type) {
	case map[string]any:
		om, _ := old.(map[string]any)
		out := make(map[string]any, len(t))
		for k, x := range t {
			if s, ok := x.(string); ok && IsSecretKey(k) && strings.HasPrefix(s, "****") {
				if os, ok := om[k].(string); ok && Mask(os) == s {
					out[k] = os
					continue
				}
			}
			out[k] = unmask(x, om[k])
		}
		return out
	case []any:
		ol, _ := old.([]any)
		out := make([]any, len(t))
		for i, x := range t {
			var o any
			if i < len(ol) {
				o = ol[i]
			}
			out[i] = unmask(x, o)
		}
		return out
	}
	return nv
}

// writeAtomic writes b to a temp file beside path and renames it over path, mode 0600.
func writeAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".openagent-*.yaml")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
