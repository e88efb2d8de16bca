package upload

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"openagent/internal/config"
)

const (
	// defaultSTTModel is used when uploads.transcription.model is empty.
	defaultSTTModel = "whisper-1"
	// maxTranscribeBytes is the largest file OpenAI's endpoint accepts.
	maxTranscribeBytes = 25 << 20
	// transcribeTimeout bounds one speech-to-text request.
	transcribeTimeout = 2 * time.Minute
	// openAIBaseURL is used for the provider named openai without a base_url.
	openAIBaseURL = "https://api.openai.com/v1/"
)

// audioExts are the types transcribed (as the reference does); any audio/*
// content type counts too.
var audioExts = map[string]bool{".webm": true, ".ogg": true, ".oga": true, ".mp3": true, ".wav": true, ".m4a": true, ".opus": true, ".flac": true}

// IsAudio reports whether f should be transcribed.
func IsAudio(f File) bool {
	return audioExts[strings.ToLower(fileExt(f.Name))] || strings.HasPrefix(f.ContentType, "audio/")
}

// ErrNotConfigured means uploads.transcription names no provider.
var ErrNotConfigured = errors.New("speech-to-text is not set up: set uploads.transcription.provider to an OpenAI-compatible entry of providers (and optionally model) in openagent.yaml")

// Transcribe sends an audio file to the configured OpenAI-compatible
// /v1/audio/transcriptions endpoint and returns the text. Its errors are
// written for the user: they become the upload's transcription_error.
func (u *Uploader) Transcribe(ctx context.Context, f File) (string, error) {
	cfg := u.settings.Config()
	tr := cfg.Uploads.Transcription
	if tr.Provider == "" {
		return "", ErrNotConfigured
	}
	p, ok := cfg.Providers[tr.Provider]
	if !ok {
		return "", fmt.Errorf("uploads.transcription.provider %q is not among providers", tr.Provider)
	}
	if typ, err := config.ProviderType(tr.Provider, p); err != nil {
		return "", err
	} else if typ != "openai" {
		return "", fmt.Errorf("provider %q is of type %s; speech-to-text needs an OpenAI-compatible provider", tr.Provider, typ)
	}
	if f.Size > maxTranscribeBytes {
		return "", fmt.Errorf("the audio is %s; speech-to-text takes at most %s", humanBytes(f.Size), humanBytes(maxTranscribeBytes))
	}
	model := tr.Model
	if model == "" {
		model = defaultSTTModel
	}
	base := p.BaseURL
	if base == "" {
		base = config.WellKnownBaseURL[tr.Provider]
	}
	if base == "" {
		base = openAIBaseURL
	}
	// The key and base URL are always set so that OPENAI_API_KEY from the
	// environment never reaches another provider's server.
	opts := []option.RequestOption{option.WithAPIKey(p.APIKey), option.WithBaseURL(base), option.WithMaxRetries(1)}
	if u.client != nil {
		opts = append(opts, option.WithHTTPClient(u.client))
	}
	client := sdk.NewClient(opts...)

	audio, err := os.Open(f.Path)
	if err != nil {
		return "", fmt.Errorf("open audio: %w", err)
	}
	defer audio.Close()
	ctx, cancel := context.WithTimeout(ctx, transcribeTimeout)
	defer cancel()
	start := time.Now()
	res, err := client.Audio.Transcriptions.New(ctx, sdk.AudioTranscriptionNewParams{
		File:  sdk.File(audio, f.Name, f.ContentType),
		Model: model,
	})
	if err != nil {
		var apiErr *sdk.Error
		if errors.As(err, &apiErr) {
			msg := fmt.Sprintf("speech-to-text failed: %s answered %d %s", tr.Provider, apiErr.StatusCode, http.StatusText(apiErr.StatusCode))
			if apiErr.Message != "" {
				msg += ": " + apiErr.Message
			}
			return "", errors.New(msg)
		}
		if ctx.Err() != nil {
			return "", fmt.Errorf("speech-to-text failed: no answer from %s within %s", tr.Provider, transcribeTimeout)
		}
		return "", fmt.Errorf("speech-to-text failed: %w", err)
	}
	text := strings.TrimSpace(res.Text)
	if text == "" {
		return "", errors.New("speech-to-text returned no text (silence, or an unsupported format)")
	}
	u.log.InfoContext(ctx, "transcribed upload", "provider", tr.Provider, "model", model, "ms", time.Since(start).Milliseconds(), "chars", len(text))
	return text, nil
}
