// Package update keeps the binary current from a release feed (decision
// A18). The feed is a JSON document
//
//	{"version":"1.2.0","notes":"…","assets":[{"os":"linux","arch":"amd64","url":"…","sha256":"…"}]}
//
// named by auto_update.feed_url. An update downloads the asset for this
// platform next to the binary, verifies its SHA-256 against the feed, keeps
// the old binary as <binary>.old for rollback, and swaps the new one in
// atomically. The caller restarts into it.
package update

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"openagent/internal/config"
	"openagent/internal/eventlog"
)

const (
	// feedTimeout bounds fetching the feed.
	feedTimeout = 30 * time.Second
	// maxFeedBytes bounds the feed document.
	maxFeedBytes = 1 << 20
	// maxBinaryBytes bounds a downloaded binary.
	maxBinaryBytes = 1 << 30
	// checkInterval is how often the automatic check runs.
	checkInterval = 24 * time.Hour
	// firstCheckDelay lets the agent settle before the first automatic check.
	firstCheckDelay = 2 * time.Minute
)

// Modes of auto_update.mode.
const (
	ModeNotify = "notify" // check daily and tell; the default
	ModeAuto   = "auto"   // check daily, install and restart
	ModeManual = "manual" // no automatic check
)

var (
	// ErrInProgress means another check or install is running.
	ErrInProgress = errors.New("an update is already in progress")
	// ErrNoFeed means auto_update.feed_url is not set.
	ErrNoFeed = errors.New("no release feed: set auto_update.feed_url in openagent.yaml")
)

// Release is the feed document.
type Release struct {
	Version string  `json:"version"`
	Notes   string  `json:"notes"`
	Assets  []Asset `json:"assets"`
}

// Asset is one platform's binary.
type Asset struct {
	OS     string `json:"os"`
	Arch   string `json:"arch"`
	URL    string `json:"url"`
	SHA256 string `json:"sha256"`
}

// Status is what the UI shows about updates (GET /api/update).
type Status struct {
	CurrentVersion string `json:"current_version"`
	// LatestVersion is the feed's version at the last check.
	LatestVersion string `json:"latest_version,omitempty"`
	// Available is true when LatestVersion is newer than the running one.
	Available bool   `json:"available"`
	Notes     string `json:"notes,omitempty"`
	// CheckedAt is the last check, in epoch seconds (0: never).
	CheckedAt float64 `json:"checked_at,omitempty"`
	// Error is the last check's or install's failure.
	Error string `json:"error,omitempty"`
	// InstalledVersion has been installed and runs after the next restart.
	InstalledVersion string `json:"installed_version,omitempty"`
	// AutoUpdate mirrors auto_update: enabled and mode.
	AutoUpdate bool   `json:"auto_update"`
	Mode       string `json:"mode"`
}

// Config holds the Updater's dependencies.
type Config struct {
	// Current is the running version. Required.
	Current string
	// Settings is openagent.yaml (auto_update). Required.
	Settings *config.File
	// Binary is the file to replace. Optional: the running executable, with
	// symlinks resolved.
	Binary string
	// GOOS and GOARCH pick the asset. Optional: this platform.
	GOOS, GOARCH string
	// HTTPClient fetches the feed and the binary. Optional.
	HTTPClient *http.Client
	// Log is the human log and Events logs/events.jsonl. Optional.
	Log    *slog.Logger
	Events *eventlog.Log
}

// Updater checks the feed and installs newer binaries. One check or install
// runs at a time; a concurrent call gets ErrInProgress.
type Updater struct {
	current  string
	settings *config.File
	binary   string
	goos     string
	goarch   string
	client   *http.Client
	log      *slog.Logger
	events   *eventlog.Log

	// OnAvailable is called when the automatic check finds a newer version
	// (notify mode). Optional; set before Run.
	OnAvailable func(Status)
	// Restart is called after the automatic check installed a newer version
	// (auto mode). Optional; set before Run.
	Restart func()

	busy sync.Mutex // held for the whole of a check or install

	mu     sync.Mutex // guards status
	status Status
}

// New builds an Updater.
func New(cfg Config) (*Updater, error) {
	if cfg.Settings == nil {
		return nil, errors.New("update: Settings is required")
	}
	if cfg.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find the running binary: %w", err)
		}
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		cfg.Binary = exe
	}
	if cfg.GOOS == "" {
		cfg.GOOS = runtime.GOOS
	}
	if cfg.GOARCH == "" {
		cfg.GOARCH = runtime.GOARCH
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Updater{
		current: cfg.Current, settings: cfg.Settings, binary: cfg.Binary, goos: cfg.GOOS, goarch: cfg.GOARCH,
		client: cfg.HTTPClient, log: cfg.Log.With("component", "update"), events: cfg.Events,
		status: Status{CurrentVersion: cfg.Current},
	}, nil
}

// Binary is the file an update replaces.
func (u *Updater) Binary() string { return u.binary }

// Pending returns the binary to restart into when a newer version has been
// installed and is not running yet, else "".
func (u *Updater) Pending() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.status.InstalledVersion == "" {
		return ""
	}
	return u.binary
}

// Status is the last check's outcome.
func (u *Updater) Status() Status {
	u.mu.Lock()
	st := u.status
	u.mu.Unlock()
	au := u.settings.Config().AutoUpdate
	st.AutoUpdate, st.Mode = au.Enabled, mode(au.Mode)
	return st
}

func mode(m string) string {
	switch m {
	case ModeAuto, ModeManual:
		return m
	}
	return ModeNotify
}

// Check fetches the feed and reports whether it offers a newer version.
func (u *Updater) Check(ctx context.Context) (Release, bool, error) {
	if !u.busy.TryLock() {
		return Release{}, false, ErrInProgress
	}
	defer u.busy.Unlock()
	return u.check(ctx)
}

func (u *Updater) check(ctx context.Context) (Release, bool, error) {
	rel, err := u.fetch(ctx)
	u.mu.Lock()
	defer u.mu.Unlock()
	u.status.CheckedAt = float64(time.Now().UnixNano()) / 1e9
	if err != nil {
		u.status.Error = err.Error()
		u.events.Emit("update.error", map[string]any{"stage": "check", "error": err.Error()})
		return Release{}, false, err
	}
	newer := Compare(rel.Version, u.current) > 0
	u.status.LatestVersion, u.status.Notes, u.status.Available, u.status.Error = rel.Version, rel.Notes, newer, ""
	u.events.Emit("update.check", map[string]any{"current": u.current, "latest": rel.Version, "available": newer})
	return rel, newer, nil
}

// Update checks the feed and, when it offers a newer version, installs it.
// It returns updated=false with the running version when there is nothing
// newer. After updated=true the caller restarts into the new binary.
func (u *Updater) Update(ctx context.Context) (updated bool, oldVersion, newVersion string, err error) {
	if !u.busy.TryLock() {
		return false, u.current, "", ErrInProgress
	}
	defer u.busy.Unlock()
	rel, newer, err := u.check(ctx)
	if err != nil {
		return false, u.current, "", err
	}
	if !newer {
		return false, u.current, u.current, nil
	}
	u.mu.Lock()
	staged := u.status.InstalledVersion == rel.Version
	u.mu.Unlock()
	if staged {
		return true, u.current, rel.Version, nil // installed before; only the restart is missing
	}
	if err := u.install(ctx, rel); err != nil {
		u.mu.Lock()
		u.status.Error = err.Error()
		u.mu.Unlock()
		u.events.Emit("update.error", map[string]any{"stage": "install", "version": rel.Version, "error": err.Error()})
		u.log.ErrorContext(ctx, "install update", "version", rel.Version, "err", err)
		return false, u.current, rel.Version, err
	}
	u.mu.Lock()
	u.status.InstalledVersion = rel.Version
	u.mu.Unlock()
	u.events.Emit("update.installed", map[string]any{"old": u.current, "new": rel.Version, "binary": u.binary})
	u.log.InfoContext(ctx, "update installed", "old", u.current, "new", rel.Version, "binary", u.binary)
	return true, u.current, rel.Version, nil
}

// fetch reads and validates the feed.
func (u *Updater) fetch(ctx context.Context) (Release, error) {
	feed := strings.TrimSpace(u.settings.Config().AutoUpdate.FeedURL)
	if feed == "" {
		return Release{}, ErrNoFeed
	}
	if err := checkURL(feed); err != nil {
		return Release{}, fmt.Errorf("auto_update.feed_url: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, feedTimeout)
	defer cancel()
	body, err := u.get(ctx, feed)
	if err != nil {
		return Release{}, fmt.Errorf("fetch release feed: %w", err)
	}
	defer body.Close()
	var rel Release
	if err := json.NewDecoder(io.LimitReader(body, maxFeedBytes)).Decode(&rel); err != nil {
		return Release{}, fmt.Errorf("read release feed: %w", err)
	}
	if strings.TrimSpace(rel.Version) == "" {
		return Release{}, errors.New("read release feed: it has no version")
	}
	for i, a := range rel.Assets {
		ref, err := url.Parse(a.URL)
		if err != nil {
			return Release{}, fmt.Errorf("read release feed: asset %d: bad url: %w", i, err)
		}
		base, _ := url.Parse(feed)
		rel.Assets[i].URL = base.ResolveReference(ref).String() // relative to the feed
	}
	return rel, nil
}

func (u *Updater) get(ctx context.Context, rawURL string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "openagent/"+u.current)
	resp, err := u.client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("%s answered %s", redact(rawURL), resp.Status)
	}
	return resp.Body, nil
}

// checkURL allows https, and plain http only to this machine: the feed's
// checksums are what make the download trustworthy.
func checkURL(raw string) error {
	p, err := url.Parse(raw)
	if err != nil {
		return err
	}
	switch p.Scheme {
	case "https":
		return nil
	case "http":
		host := p.Hostname()
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
			return nil
		}
		return fmt.Errorf("%s must use https (plain http is allowed only for localhost)", redact(raw))
	}
	return fmt.Errorf("%q is not an http(s) URL", redact(raw))
}

// redact drops a URL's query and credentials, which may hold tokens.
func redact(raw string) string {
	p, err := url.Parse(raw)
	if err != nil {
		return "the URL"
	}
	p.User, p.RawQuery = nil, ""
	return p.String()
}

// asset picks this platform's asset.
func (u *Updater) asset(rel Release) (Asset, error) {
	for _, a := range rel.Assets {
		if strings.EqualFold(a.OS, u.goos) && strings.EqualFold(a.Arch, u.goarch) {
			return a, nil
		}
	}
	return Asset{}, fmt.Errorf("version %s has no binary for %s/%s in the release feed", rel.Version, u.goos, u.goarch)
}

// install downloads, verifies and swaps in the release's binary.
func (u *Updater) install(ctx context.Context, rel Release) error {
	a, err := u.asset(rel)
	if err != nil {
		return err
	}
	want := strings.ToLower(strings.TrimSpace(a.SHA256))
	if b, err := hex.DecodeString(want); err != nil || len(b) != sha256.Size {
		return fmt.Errorf("the release feed gives no valid sha256 for %s/%s", u.goos, u.goarch)
	}
	if err := checkURL(a.URL); err != nil {
		return fmt.Errorf("download: %w", err)
	}
	fi, err := os.Stat(u.binary)
	if err != nil {
		return fmt.Errorf("stat binary: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(u.binary), "."+filepath.Base(u.binary)+".new-*")
	if err != nil {
		return fmt.Errorf("create download file next to the binary: %w", err)
	}
	swapped := false
	defer func() {
		tmp.Close()
		if !swapped {
			os.Remove(tmp.Name())
		}
	}()
	body, err := u.get(ctx, a.URL)
	if err != nil {
		return fmt.Errorf("download %s: %w", rel.Version, err)
	}
	defer body.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(body, maxBinaryBytes+1))
	if err != nil {
		return fmt.Errorf("download %s: %w", rel.Version, err)
	}
	if n > maxBinaryBytes {
		return fmt.Errorf("download %s: larger than %d bytes", rel.Version, int64(maxBinaryBytes))
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("verify download: its sha256 is %s but the feed says %s; the binary was not replaced", got, want)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write download: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write download: %w", err)
	}
	if err := os.Chmod(tmp.Name(), fi.Mode().Perm()|0o700); err != nil {
		return fmt.Errorf("make download executable: %w", err)
	}
	if err := swap(u.binary, tmp.Name()); err != nil {
		return err
	}
	swapped = true
	return nil
}

// swap replaces bin with next, keeping the old binary as bin.old. Where the
// system allows it the replacement is one atomic rename, so bin always exists.
func swap(bin, next string) error {
	old := bin + ".old"
	if err := os.Remove(old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove previous rollback binary: %w", err)
	}
	if runtime.GOOS == "windows" {
		// A running .exe cannot be replaced or deleted, but it can be renamed.
		if err := os.Rename(bin, old); err != nil {
			return fmt.Errorf("keep old binary: %w", err)
		}
		if err := os.Rename(next, bin); err != nil {
			os.Rename(old, bin)
			return fmt.Errorf("swap in new binary: %w", err)
		}
		return nil
	}
	if err := os.Link(bin, old); err != nil {
		if err := copyFile(bin, old); err != nil {
			return fmt.Errorf("keep old binary: %w", err)
		}
	}
	if err := os.Rename(next, bin); err != nil {
		return fmt.Errorf("swap in new binary: %w", err)
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, fi.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	return out.Close()
}

// Run checks the feed daily while auto_update.enabled is set (read at each
// check). In notify mode (the default) a newer version is announced through
// the log, an update.available event, Status and OnAvailable; in auto mode it
// is installed and Restart is called; manual mode never checks by itself.
func (u *Updater) Run(ctx context.Context) error {
	t := time.NewTimer(firstCheckDelay)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		u.autoCheck(ctx)
		t.Reset(checkInterval)
	}
}

// autoCheck is one automatic check.
func (u *Updater) autoCheck(ctx context.Context) {
	au := u.settings.Config().AutoUpdate
	if !au.Enabled || strings.TrimSpace(au.FeedURL) == "" || mode(au.Mode) == ModeManual {
		return
	}
	if mode(au.Mode) == ModeAuto {
		updated, old, nv, err := u.Update(ctx)
		if err != nil {
			u.log.WarnContext(ctx, "automatic update", "err", err)
			return
		}
		if updated && u.Restart != nil {
			u.log.InfoContext(ctx, "restarting into the new version", "old", old, "new", nv)
			u.Restart()
		}
		return
	}
	rel, newer, err := u.Check(ctx)
	if err != nil {
		u.log.WarnContext(ctx, "check for updates", "err", err)
		return
	}
	if newer {
		u.log.InfoContext(ctx, "update available", "current", u.current, "latest", rel.Version)
		u.events.Emit("update.available", map[string]any{"current": u.current, "latest": rel.Version})
		if u.OnAvailable != nil {
			u.OnAvailable(u.Status())
		}
	}
}
