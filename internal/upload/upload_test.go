package upload_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"openagent/internal/config"
	"openagent/internal/upload"
)

func TestSanitizeName(t *testing.T) {
	long := strings.Repeat("é", 200) + ".pdf" // 400 bytes of stem
	cases := []struct{ in, want string }{
		{"report.pdf", "report.pdf"},
		{"../../x", "x"},
		{`..\..\windows\system32\x.txt`, "x.txt"},
		{"/etc/passwd", "passwd"},
		{"a\x00b.txt", "ab.txt"},
		{"\x00\x00", "upload"},
		{"", "upload"},
		{"..", "upload"},
		{" .hidden. ", "hidden"},
		{`what?<is>:this|"*.png`, "what__is__this___.png"},
		{"invoice\u202Egpj.exe", "invoicegpj.exe"}, // bidi override removed
		{"tab\there\n.txt", "tabhere.txt"},
		{"CON.txt", "_CON.txt"},
		{"lpt1", "_lpt1"},
		{"bad\xffutf8.txt", "badutf8.txt"},
		{long, strings.Repeat("é", 73) + ".pdf"}, // 146 + 4 = 150 bytes, cut on a rune boundary
	}
	for _, c := range cases {
		if got := upload.SanitizeName(c.in); got != c.want {
			t.Errorf("SanitizeName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := upload.SanitizeName(strings.Repeat("a", 300) + "." + strings.Repeat("b", 40)); len(got) > 150 {
		t.Errorf("SanitizeName(long ext) has %d bytes, want ≤ 150", len(got))
	}
}

func TestBlocked(t *testing.T) {
	for name, want := range map[string]bool{
		"setup.exe": true, "SETUP.EXE": true, "run.ps1": true, "x.jar": true, "a.lnk": true, "r.reg": true,
		"notes.txt": false, "exe": false, "photo.jpg": false, "x.exe.txt": false,
	} {
		if _, got := upload.Blocked(name); got != want {
			t.Errorf("Blocked(%q) = %v, want %v", name, got, want)
		}
	}
}

type fixture struct {
	dir      string
	settings *config.File
	up       *upload.Uploader
}

func newFixture(t *testing.T, yaml string) fixture {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, config.FileName), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	settings, err := config.Open(filepath.Join(dir, config.FileName))
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 11, 25, 9, 0, 0, 0, time.Local) }
	up, err := upload.New(upload.Config{Dir: dir, Settings: settings, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{dir, settings, up}
}

func TestSaveStoresUniqueNamesInMonthFolder(t *testing.T) {
	fx := newFixture(t, "name: t\n")
	month := filepath.Join(fx.dir, "uploads", "2026-11")
	var paths []string
	for i, body := range []string{"one", "two", "three"} {
		f, err := fx.up.Save("../../notes.txt", "", strings.NewReader(body))
		if err != nil {
			t.Fatalf("Save #%d: %v", i, err)
		}
		paths = append(paths, f.Path)
		got, err := os.ReadFile(f.Path)
		if err != nil || string(got) != body {
			t.Errorf("stored %q, %v; want %q", got, err, body)
		}
		if f.Size != int64(len(body)) || f.ContentType != "text/plain; charset=utf-8" {
			t.Errorf("file = %+v", f)
		}
	}
	realMonth, _ := filepath.EvalSymlinks(month)
	want := []string{"notes.txt", "notes-1.txt", "notes-2.txt"}
	for i, p := range paths {
		if p != filepath.Join(realMonth, want[i]) {
			t.Errorf("path #%d = %s, want %s", i, p, filepath.Join(realMonth, want[i]))
		}
	}
	// Sniffed when neither the client nor the extension says.
	f, err := fx.up.Save("blob", "application/octet-stream", strings.NewReader("%PDF-1.7\n"))
	if err != nil || f.ContentType != "application/pdf" {
		t.Errorf("Save(blob) = %+v, %v; want application/pdf", f, err)
	}
}

func TestSaveSizeLimit(t *testing.T) {
	fx := newFixture(t, "uploads:\n  max_bytes: 10\n")
	if _, err := fx.up.Save("ok.bin", "", strings.NewReader("0123456789")); err != nil {
		t.Fatalf("Save(10 bytes) = %v, want nil", err)
	}
	_, err := fx.up.Save("big.bin", "", strings.NewReader("0123456789A"))
	var tle *upload.TooLargeError
	if !errors.As(err, &tle) || tle.Limit != 10 {
		t.Fatalf("Save(11 bytes) = %v, want TooLargeError{10}", err)
	}
	if _, err := os.Stat(filepath.Join(fx.dir, "uploads", "2026-11", "big.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the partial file was left behind: %v", err)
	}
}

func TestSaveBlocked(t *testing.T) {
	fx := newFixture(t, "name: t\n")
	_, err := fx.up.Save("../setup.EXE", "", strings.NewReader("MZ"))
	var be *upload.BlockedError
	if !errors.As(err, &be) || be.Ext != ".exe" {
		t.Fatalf("Save(setup.EXE) = %v, want BlockedError .exe", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(fx.dir, "uploads", "2026-11")); len(ents) != 0 {
		t.Errorf("blocked upload left %d files", len(ents))
	}
}

// fakeSTT is an OpenAI-compatible /v1/audio/transcriptions endpoint. It
// checks what the real one checks and answers like it.
type fakeSTT struct {
	t      *testing.T
	got    chan sttRequest
	answer string
	status int
}

type sttRequest struct {
	auth, model, filename, contentType string
	audio                              []byte
}

func (f *fakeSTT) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/audio/transcriptions" {
		http.Error(w, `{"error":{"message":"no such route"}}`, http.StatusNotFound)
		return
	}
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		f.t.Errorf("parse multipart: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		f.t.Errorf("no file part: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	audio, _ := io.ReadAll(file)
	f.got <- sttRequest{auth: r.Header.Get("Authorization"), model: r.FormValue("model"), filename: hdr.Filename,
		contentType: hdr.Header.Get("Content-Type"), audio: audio}
	w.Header().Set("Content-Type", "application/json")
	if f.status != 0 {
		w.WriteHeader(f.status)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": "Invalid API key", "type": "invalid_request_error"}})
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"text": f.answer})
}

func TestTranscribe(t *testing.T) {
	stt := &fakeSTT{t: t, got: make(chan sttRequest, 1), answer: " Buy milk tomorrow. "}
	srv := httptest.NewServer(stt)
	defer srv.Close()
	fx := newFixture(t, "providers:\n  whisper:\n    type: openai\n    api_key: sk-test\n    base_url: "+srv.URL+"/v1\nuploads:\n  transcription: {provider: whisper, model: whisper-large-v3}\n")
	audio := bytes.Repeat([]byte{0x1a, 0x45, 0xdf, 0xa3}, 100)
	f, err := fx.up.Save("voice note.webm", "audio/webm", bytes.NewReader(audio))
	if err != nil {
		t.Fatal(err)
	}
	if !upload.IsAudio(f) {
		t.Fatalf("IsAudio(%+v) = false", f)
	}
	text, err := fx.up.Transcribe(context.Background(), f)
	if err != nil || text != "Buy milk tomorrow." {
		t.Fatalf("Transcribe = %q, %v", text, err)
	}
	req := <-stt.got
	if req.auth != "Bearer sk-test" || req.model != "whisper-large-v3" || req.filename != "voice note.webm" ||
		req.contentType != "audio/webm" || !bytes.Equal(req.audio, audio) {
		t.Errorf("request = auth %q model %q file %q type %q, %d bytes", req.auth, req.model, req.filename, req.contentType, len(req.audio))
	}

	stt.status = http.StatusUnauthorized
	if _, err := fx.up.Transcribe(context.Background(), f); err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "Invalid API key") {
		t.Errorf("Transcribe(401) = %v, want the status and the provider's message", err)
	}
}

func TestTranscribeNotSetUp(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"name: t\n", "speech-to-text is not set up"},
		{"uploads:\n  transcription: {provider: nope}\n", `"nope" is not among providers`},
		{"providers:\n  anthropic: {api_key: k}\nuploads:\n  transcription: {provider: anthropic}\n", "needs an OpenAI-compatible provider"},
	}
	for _, c := range cases {
		fx := newFixture(t, c.yaml)
		f, err := fx.up.Save("a.ogg", "", strings.NewReader("OggS"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fx.up.Transcribe(context.Background(), f); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Transcribe with %q = %v, want %q", c.yaml, err, c.want)
		}
	}
}
