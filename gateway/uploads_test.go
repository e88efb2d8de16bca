package gateway_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"openagent/gateway"
	"openagent/internal/upload"
)

func withUploads(t *testing.T) func(g *svcGW, cfg *gateway.Config) {
	return func(g *svcGW, cfg *gateway.Config) {
		up, err := upload.New(upload.Config{Dir: g.dir, Settings: g.settings})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Uploads = up
	}
}

type uploadJSON struct {
	Path               string `json:"path"`
	Filename           string `json:"filename"`
	Size               int64  `json:"size"`
	ContentType        string `json:"content_type"`
	Transcription      string `json:"transcription"`
	TranscriptionError string `json:"transcription_error"`
	Error              string `json:"error"`
}

// postMultipart sends one part named field with a raw filename (written into
// the header as is, so NUL bytes and ../ reach the server).
func (g *svcGW) postMultipart(t *testing.T, field, filename, ctype string, content []byte) (int, uploadJSON) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	disp := `form-data; name="` + field + `"; filename="` + strings.ReplaceAll(filename, `"`, `\"`) + `"`
	if strings.ContainsRune(filename, 0) {
		// A raw NUL is not allowed in a MIME header; RFC 2231 encoding carries it.
		disp = `form-data; name="` + field + `"; filename*=UTF-8''` + url.PathEscape(filename)
	}
	h.Set("Content-Disposition", disp)
	if ctype != "" {
		h.Set("Content-Type", ctype)
	}
	pw, err := mw.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	pw.Write(content)
	mw.Close()
	resp, err := http.Post(g.url+"/api/upload", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out uploadJSON
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return resp.StatusCode, out
}

func TestUploadRoundTrip(t *testing.T) {
	g := startSvcGateway(t, "uploads:\n  max_bytes: 1000\n", withUploads(t))
	month := time.Now().Format("2006-01")
	realDir, _ := filepath.EvalSymlinks(g.dir)
	content := []byte("hello, agent")

	code, up := g.postMultipart(t, "document", "notes.txt", "text/plain", content)
	if code != 200 || up.Filename != "notes.txt" || up.Size != int64(len(content)) || up.ContentType != "text/plain" || up.TranscriptionError != "" {
		t.Fatalf("upload = %d %+v", code, up)
	}
	if up.Path != filepath.Join(realDir, "uploads", month, "notes.txt") {
		t.Errorf("path = %s, want it under uploads/%s", up.Path, month)
	}
	if got, _ := os.ReadFile(up.Path); !bytes.Equal(got, content) {
		t.Errorf("stored %q, want %q", got, content)
	}
	// The stored file comes back through /api/files.
	resp, err := http.Get(g.url + "/api/files?path=" + up.Path)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got, content) {
		t.Errorf("GET /api/files = %d %q", resp.StatusCode, got)
	}

	for _, c := range []struct{ name, want string }{
		{"notes.txt", "notes-1.txt"}, // de-duplicated
		{"../../x", "x"},
		{`..\..\evil.txt`, "evil.txt"},
		{"a\x00b.txt", "ab.txt"},
		{strings.Repeat("long", 100) + ".txt", strings.Repeat("long", 100)[:146] + ".txt"},
	} {
		code, up := g.postMultipart(t, "file", c.name, "", []byte("x"))
		if code != 200 || up.Filename != c.want || filepath.Dir(up.Path) != filepath.Join(realDir, "uploads", month) {
			t.Errorf("upload %q = %d %+v, want %q inside uploads/%s", c.name, code, up, c.want, month)
		}
	}
}

func TestUploadRefusals(t *testing.T) {
	g := startSvcGateway(t, "uploads:\n  max_bytes: 1000\n", withUploads(t))
	if code, up := g.postMultipart(t, "file", "big.bin", "", bytes.Repeat([]byte("x"), 1001)); code != 413 || !strings.Contains(up.Error, "upload limit") {
		t.Errorf("1001 bytes = %d %q, want 413", code, up.Error)
	}
	if code, _ := g.postMultipart(t, "file", "ok.bin", "", bytes.Repeat([]byte("x"), 1000)); code != 200 {
		t.Errorf("1000 bytes = %d, want 200", code)
	}
	// A body far past the limit is refused from its Content-Length alone.
	resp, err := http.Post(g.url+"/api/upload", "multipart/form-data; boundary=x", bytes.NewReader(make([]byte, 3<<20)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("3 MiB body = %d, want 413", resp.StatusCode)
	}
	if code, up := g.postMultipart(t, "file", "setup.exe", "application/octet-stream", []byte("MZ")); code != 415 || !strings.Contains(up.Error, ".exe files are not accepted") {
		t.Errorf("setup.exe = %d %q, want 415", code, up.Error)
	}
	if code, _ := g.postMultipart(t, "file", "Run.PS1", "", []byte("x")); code != 415 {
		t.Errorf("Run.PS1 = %d, want 415", code)
	}
	if ents, _ := os.ReadDir(filepath.Join(g.dir, "uploads", time.Now().Format("2006-01"))); len(ents) != 1 {
		t.Errorf("uploads folder holds %d files, want only ok.bin", len(ents))
	}

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.Close()
	resp, err = http.Post(g.url+"/api/upload", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	var e errBody
	json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != 400 || e.Error != "No file" {
		t.Errorf("empty multipart = %d %q, want 400 No file", resp.StatusCode, e.Error)
	}
	resp, _ = http.Post(g.url+"/api/upload", "application/json", strings.NewReader("{}"))
	json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != 400 || e.Error != "No file" {
		t.Errorf("JSON body = %d %q, want 400 No file", resp.StatusCode, e.Error)
	}
}

func TestUploadTranscription(t *testing.T) {
	// A fake OpenAI-compatible speech-to-text server, reading the real
	// multipart request of /v1/audio/transcriptions.
	type sttCall struct{ model, filename, auth string }
	calls := make(chan sttCall, 5)
	stt := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/audio/transcriptions" {
			http.NotFound(w, r)
			return
		}
		f, hdr, err := r.FormFile("file")
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		f.Close()
		calls <- sttCall{r.FormValue("model"), hdr.Filename, r.Header.Get("Authorization")}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"text":"remind me to call mum"}`)
	}))
	defer stt.Close()
	yaml := "providers:\n  groq:\n    api_key: gsk-test\n    base_url: " + stt.URL + "/v1\nuploads:\n  transcription: {provider: groq, model: whisper-large-v3-turbo}\n"
	g := startSvcGateway(t, yaml, withUploads(t))
	code, up := g.postMultipart(t, "file", "voice.ogg", "audio/ogg", []byte("OggS fake audio"))
	if code != 200 || up.Transcription != "remind me to call mum" || up.TranscriptionError != "" {
		t.Fatalf("voice upload = %d %+v", code, up)
	}
	if c := <-calls; c.model != "whisper-large-v3-turbo" || c.filename != "voice.ogg" || c.auth != "Bearer gsk-test" {
		t.Errorf("STT call = %+v", c)
	}
	// Text files are not sent to speech-to-text.
	if code, up := g.postMultipart(t, "file", "a.txt", "", []byte("x")); code != 200 || up.Transcription != "" || up.TranscriptionError != "" {
		t.Errorf("text upload = %d %+v", code, up)
	}

	// Not set up: the reply says why.
	g2 := startSvcGateway(t, "", withUploads(t))
	code, up = g2.postMultipart(t, "file", "voice.webm", "audio/webm", []byte("x"))
	if code != 200 || up.Transcription != "" || !strings.Contains(up.TranscriptionError, "speech-to-text is not set up") {
		t.Errorf("voice upload without STT = %d %+v", code, up)
	}
}
