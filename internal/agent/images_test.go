package agent_test

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"openagent/internal/agent"
	"openagent/internal/llm/llmtest"
)

// writePNG writes a small real PNG and returns its bytes.
func writePNG(t *testing.T, p string, c color.Color) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	for x := range 4 {
		for y := range 4 {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// imageURLs lists the image parts of an OpenAI chat request, message by message.
func imageURLs(t *testing.T, req llmtest.Request) [][]string {
	t.Helper()
	msgs, _ := req.Body["messages"].([]any)
	var out [][]string
	for _, m := range msgs {
		var urls []string
		if parts, ok := m.(map[string]any)["content"].([]any); ok {
			for _, p := range parts {
				if p := p.(map[string]any); p["type"] == "image_url" {
					urls = append(urls, p["image_url"].(map[string]any)["url"].(string))
				}
			}
		}
		out = append(out, urls)
	}
	return out
}

// TestImagesReachTheModel: an uploaded image named in the message (the
// inline attachment convention) is sent to the model as an image part, in
// this turn and in the next; files outside the uploads folder, and files
// that are not images, are not.
func TestImagesReachTheModel(t *testing.T) {
	e := newEnv(t, yamlFor("openai"), llmtest.Text(10, 2, "A red square."), llmtest.Text(10, 2, "Still red."))
	up := filepath.Join(e.dir, "uploads", "2026-12")
	red := writePNG(t, filepath.Join(up, "red.png"), color.RGBA{255, 0, 0, 255})
	writePNG(t, filepath.Join(e.dir, "outside.png"), color.RGBA{0, 0, 255, 255})
	if err := os.WriteFile(filepath.Join(up, "notes.png"), []byte("just text, not a picture"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(e.dir, "outside.png"), filepath.Join(up, "link.png")); err != nil {
		t.Fatal(err)
	}
	text := "The user attached 4 files:\n" +
		"- image: red.png — server path: " + filepath.Join(up, "red.png") + "\n" +
		"- image: outside.png — server path: " + filepath.Join(e.dir, "outside.png") + "\n" +
		"- image: notes.png — server path: " + filepath.Join(up, "notes.png") + "\n" +
		"- image: link.png — server path: " + filepath.Join(up, "link.png") + "\n" +
		"Use the Read tool to inspect them.\n\nUser message: what is this?"
	if _, err := e.agent.Run(ctxT(t), agent.Turn{SessionID: "s", Channel: "websocket", Text: text}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.agent.Run(ctxT(t), agent.Turn{SessionID: "s", Channel: "websocket", Text: "and now?"}, nil); err != nil {
		t.Fatal(err)
	}
	want := "data:image/png;base64," + base64.StdEncoding.EncodeToString(red)
	reqs := e.srv.Requests()
	first := imageURLs(t, reqs[0])
	if len(first) != 1 || len(first[0]) != 1 || first[0][0] != want {
		t.Fatalf("first request images per message = %v, want only red.png in the user message", first)
	}
	second := imageURLs(t, reqs[1])
	if len(second) != 3 || len(second[0]) != 1 || second[0][0] != want || len(second[2]) != 0 {
		t.Fatalf("second request images per message = %v, want red.png again in the first user message only", second)
	}
}

// TestModelWithoutVision: a model that refuses images gets the text alone,
// and the user is told.
func TestModelWithoutVision(t *testing.T) {
	e := newEnv(t, yamlFor("openai"),
		llmtest.OpenAIError(400, "invalid_request_error", "", "Invalid content type. image_url is only supported by certain models."),
		llmtest.Text(10, 2, "I can only read the file name."),
		llmtest.Text(10, 2, "Still text only."))
	up := filepath.Join(e.dir, "uploads", "2026-12")
	writePNG(t, filepath.Join(up, "red.png"), color.RGBA{255, 0, 0, 255})
	var st statuses
	r, err := e.agent.Run(ctxT(t), agent.Turn{SessionID: "s", Channel: "websocket",
		Text: "The user attached a file:\n- image: red.png — server path: " + filepath.Join(up, "red.png") + "\nUse the Read tool to inspect it.\n\nUser message: hi"}, st.add)
	if err != nil {
		t.Fatal(err)
	}
	if r.Text != "I can only read the file name." {
		t.Errorf("reply = %q", r.Text)
	}
	if !st.has("did not take the attached images") || !st.has("only supported by certain models") {
		t.Errorf("statuses = %q, want the refusal explained", st.all())
	}
	reqs := e.srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want the refused one and the retry", len(reqs))
	}
	if n := len(imageURLs(t, reqs[0])[0]); n != 1 {
		t.Errorf("first request had %d images, want 1", n)
	}
	if got := imageURLs(t, reqs[1]); len(got[0]) != 0 || !strings.Contains(string(reqs[1].Raw), "red.png") {
		t.Errorf("retry images = %v, want none and the path still in the text", got)
	}

	// The next turn does not try the images again.
	var st2 statuses
	if _, err := e.agent.Run(ctxT(t), agent.Turn{SessionID: "s", Channel: "websocket", Text: "and now?"}, st2.add); err != nil {
		t.Fatal(err)
	}
	if reqs = e.srv.Requests(); len(reqs) != 3 {
		t.Fatalf("%d requests after the second turn, want 3 (no second refusal)", len(reqs))
	}
	if got := imageURLs(t, reqs[2]); len(got[0]) != 0 || st2.has("did not take") {
		t.Errorf("second turn images = %v, statuses %q; want no images and no refusal", got, st2.all())
	}
}
