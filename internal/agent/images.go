package agent

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"openagent/internal/llm"
)

// Images a user attached reach the model as pictures, not only as a path
// it cannot open. Clients upload first and then name the file in the
// message with a line of the protocol's inline attachment convention,
// "- image: x.png — server path: /abs/agent/uploads/2026-12/x.png".
// Such an image is read when it lies inside Config.ImageDir (the uploads
// folder), is a PNG, JPEG, GIF or WebP, and is at most maxImageBytes.
// Images stay on disk, so later turns send them again while they are in
// the context window, the newest maxImages of them. A model that refuses
// them is asked again without, and not sent images again until restart.
const (
	// maxImageBytes is the largest image sent: Anthropic's per-image limit.
	maxImageBytes = 5 << 20
	// maxImages bounds the images of one request, newest first.
	maxImages = 4
)

// imageTypes are the formats every provider accepts.
var imageTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

// withImages attaches the images named in user messages to msgs, newest
// first, up to maxImages. An image that cannot be read is left out and
// logged: the message still names it, and the turn goes on.
func (a *Agent) withImages(msgs []llm.Message) {
	if a.cfg.ImageDir == "" {
		return
	}
	left := maxImages
	for i := len(msgs) - 1; i >= 0 && left > 0; i-- {
		m := &msgs[i]
		if m.Role != llm.RoleUser {
			continue
		}
		_, files := SplitUserMessage(m.Text)
		var imgs []llm.Image
		for j := len(files) - 1; j >= 0 && left > 0; j-- {
			if files[j].Type != "image" {
				continue
			}
			img, err := readImage(a.cfg.ImageDir, files[j].Path)
			if err != nil {
				if i == len(msgs)-1 { // said once, for the message that named it
					a.log.Warn("image not sent to the model", "err", err)
				}
				continue
			}
			imgs = append(imgs, img)
			left--
		}
		for l, r := 0, len(imgs)-1; l < r; l, r = l+1, r-1 {
			imgs[l], imgs[r] = imgs[r], imgs[l] // back to the message's order
		}
		m.Images = imgs
	}
}

// takesImages is false for a model that refused images before (until restart).
func (a *Agent) takesImages(model string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return !a.noImages[model]
}

// refusedImagesOnce remembers that model refused images, so later turns
// do not send them and fail first every time.
func (a *Agent) refusedImagesOnce(model string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.noImages == nil {
		a.noImages = map[string]bool{}
	}
	a.noImages[model] = true
}

// withoutImages is msgs with every image dropped, for a model that refused them.
func withoutImages(msgs []llm.Message) (out []llm.Message, had bool) {
	out = make([]llm.Message, len(msgs))
	for i, m := range msgs {
		had = had || len(m.Images) > 0
		m.Images = nil
		out[i] = m
	}
	return out, had
}

// readImage reads the image at p when it is inside dir.
func readImage(dir, p string) (llm.Image, error) {
	if !filepath.IsAbs(p) {
		return llm.Image{}, fmt.Errorf("%q: not an absolute path", p)
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return llm.Image{}, fmt.Errorf("%q: %w", p, err)
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return llm.Image{}, fmt.Errorf("%q: %w", p, err)
	}
	if rel, err := filepath.Rel(root, real); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return llm.Image{}, fmt.Errorf("%q: outside the uploads folder", p)
	}
	f, err := os.Open(real)
	if err != nil {
		return llm.Image{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxImageBytes+1))
	if err != nil {
		return llm.Image{}, fmt.Errorf("%q: %w", p, err)
	}
	if len(b) > maxImageBytes {
		return llm.Image{}, fmt.Errorf("%q: larger than %d MB", p, maxImageBytes>>20)
	}
	mime := http.DetectContentType(b)
	if !imageTypes[mime] {
		return llm.Image{}, fmt.Errorf("%q: %s is not an image type models accept", p, mime)
	}
	return llm.Image{MIME: mime, Data: b}, nil
}

// refusedImages reports whether err is a provider rejecting the request
// itself (400, 415 or 422), which is how models without vision answer images.
func refusedImages(err error) bool {
	var le *llm.Error
	if !errors.As(err, &le) || le.Kind != llm.KindOther {
		return false
	}
	return le.Status == http.StatusBadRequest || le.Status == http.StatusUnsupportedMediaType || le.Status == http.StatusUnprocessableEntity
}
