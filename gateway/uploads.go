package gateway

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"openagent/internal/upload"
)

// multipartSlack is room for multipart headers and boundaries on top of
// uploads.max_bytes.
const multipartSlack = 1 << 20

// uploadReply is POST /api/upload's answer.
type uploadReply struct {
	// Path is absolute, inside <agent_dir>/uploads/<YYYY-MM>/.
	Path        string `json:"path"`
	Filename    string `json:"filename"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
	// Transcription is the text of an audio upload.
	Transcription string `json:"transcription,omitempty"`
	// TranscriptionError says why an audio upload has no transcription.
	TranscriptionError string `json:"transcription_error,omitempty"`
}

// postUpload stores the first part of a multipart body (decision A17) and
// transcribes it when it is audio.
func (s *Server) postUpload(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Uploads == nil {
		return errorf(http.StatusServiceUnavailable, "Uploads are not available in this process")
	}
	limit := s.cfg.Uploads.MaxBytes()
	tooLarge := errorf(http.StatusRequestEntityTooLarge, (&upload.TooLargeError{Limit: limit}).Error())
	if r.ContentLength > limit+multipartSlack {
		return tooLarge
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit+multipartSlack)
	mr, err := r.MultipartReader()
	if err != nil {
		return errorf(http.StatusBadRequest, "No file")
	}
	part, err := mr.NextPart()
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return errorf(http.StatusBadRequest, "No file")
	case errors.As(err, &mbe):
		return tooLarge
	case err != nil:
		return errorf(http.StatusBadRequest, "invalid multipart body: "+err.Error())
	}
	defer part.Close()
	name := part.FileName()
	if name == "" {
		name = "upload"
	}
	s.emit("upload.received", map[string]any{"filename": upload.SanitizeName(name)})
	f, err := s.cfg.Uploads.Save(name, part.Header.Get("Content-Type"), part)
	var tle *upload.TooLargeError
	var be *upload.BlockedError
	switch {
	case errors.As(err, &tle), errors.As(err, &mbe):
		return tooLarge
	case errors.As(err, &be):
		return errorf(http.StatusUnsupportedMediaType, be.Error())
	case err != nil && r.Context().Err() == nil && !errors.Is(err, io.ErrUnexpectedEOF):
		return err
	case err != nil:
		return errorf(http.StatusBadRequest, fmt.Sprintf("the upload was cut off: %v", err))
	}
	s.emit("upload.saved", map[string]any{"path": f.Path, "size": f.Size, "content_type": f.ContentType})
	reply := uploadReply{Path: f.Path, Filename: f.Name, Size: f.Size, ContentType: f.ContentType}
	if upload.IsAudio(f) {
		text, err := s.cfg.Uploads.Transcribe(r.Context(), f)
		if err != nil {
			reply.TranscriptionError = err.Error()
			s.emit("upload.transcribed", map[string]any{"path": f.Path, "error": err.Error()})
		} else {
			reply.Transcription = text
			s.emit("upload.transcribed", map[string]any{"path": f.Path, "chars": len(text)})
		}
	}
	return writeJSON(w, http.StatusOK, reply)
}
