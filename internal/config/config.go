// Package config reads and writes openagent.yaml, the agent's settings file.
//
// The file is the source of truth. Config is the parsed, typed view of it with
// ${VAR} references resolved; the raw document (comments included) is kept by
// File so that REST edits can rewrite one section and leave the rest alone.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"

	"gopkg.in/yaml.v3"
)

// FileName is the settings file inside the agent directory.
const FileName = "openagent.yaml"

// DefaultPort is the port the gateway tries first.
const DefaultPort = 8765

// DefaultUploadMaxBytes bounds one upload when uploads.max_bytes is unset.
const DefaultUploadMaxBytes = 50 << 20

// Config is the typed view of openagent.yaml.
type Config struct {
	// Name is the agent's name, shown to clients in auth_ok and /api/health.
	Name string `yaml:"name" json:"name"`
	// SystemPrompt is prepended to every conversation.
	SystemPrompt string `yaml:"system_prompt" json:"system_prompt"`
	// Model selects the active model and the monthly budget.
	Model Model `yaml:"model" json:"model"`
	// Providers holds the LLM providers by name (openai, anthropic, ollama, …).
	Providers map[string]Provider `yaml:"providers" json:"providers"`
	// Memory says where the database and the vault live.
	Memory Memory `yaml:"memory" json:"memory"`
	// Channels configures the WebSocket gateway and the chat bridges.
	Channels Channels `yaml:"channels" json:"channels"`
	// Scheduler turns scheduled tasks on or off.
	Scheduler Scheduler `yaml:"scheduler" json:"scheduler"`
	// Uploads bounds and post-processes uploaded files.
	Uploads Uploads `yaml:"uploads" json:"uploads"`
	// Desktop holds the tray app's own settings.
	Desktop Desktop `yaml:"desktop" json:"desktop"`
	// AutoUpdate configures the release feed and the daily check.
	AutoUpdate AutoUpdate `yaml:"auto_update" json:"auto_update"`
	// Tools configures the builtin tools.
	Tools Tools `yaml:"tools" json:"tools"`
}

// Tools configures the builtin tools.
type Tools struct {
	// FetchPrivateNetworks lets the fetch tool reach addresses that are not
	// public: this machine, the LAN, link-local (cloud metadata) and the
	// like. Off by default, so a page the agent reads cannot steer it into
	// the local network.
	FetchPrivateNetworks bool `yaml:"fetch_private_networks" json:"fetch_private_networks"`
}

// Model is the active model (decision A20).
type Model struct {
	// Provider names an entry of Providers.
	Provider string `yaml:"provider" json:"provider"`
	// ModelID is the provider's id for the model, e.g. gpt-4o-mini.
	ModelID string `yaml:"model_id" json:"model_id"`
	// MonthlyBudget in US dollars; 0 means no budget.
	MonthlyBudget float64 `yaml:"monthly_budget" json:"monthly_budget"`
	// BudgetWarnOnly turns the refusal at 100 % of the budget into a warning.
	BudgetWarnOnly bool `yaml:"budget_warn_only" json:"budget_warn_only"`
	// MaxIterations bounds the tool loop of one turn; 0 means the default.
	MaxIterations int `yaml:"max_iterations" json:"max_iterations"`
}

// Provider is one LLM provider entry (decision A20).
type Provider struct {
	// Type is openai (any OpenAI-compatible server), anthropic or google.
	// It may be omitted for well-known provider names.
	Type string `yaml:"type" json:"type"`
	// APIKey is the provider key; ${VAR} references are resolved at load.
	APIKey string `yaml:"api_key" json:"api_key"`
	// BaseURL overrides the provider's endpoint.
	BaseURL string `yaml:"base_url" json:"base_url"`
	// Models lists the models offered, with prices.
	Models []ModelEntry `yaml:"models" json:"models"`
	// DisabledModels hides models from the catalog.
	DisabledModels []string `yaml:"disabled_models" json:"disabled_models"`
}

// ModelEntry is one model of a provider, with its prices.
type ModelEntry struct {
	ID                   string  `yaml:"id" json:"id"`
	InputCostPerMillion  float64 `yaml:"input_cost_per_million" json:"input_cost_per_million"`
	OutputCostPerMillion float64 `yaml:"output_cost_per_million" json:"output_cost_per_million"`
	// ContextWindow in tokens; 0 means the known window or a default.
	ContextWindow int `yaml:"context_window,omitempty" json:"context_window,omitempty"`
}

// UnmarshalYAML accepts a bare string as a model entry with only an id.
func (m *ModelEntry) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		m.ID = n.Value
		return nil
	}
	type plain ModelEntry
	return n.Decode((*plain)(m))
}

// Memory locates the database and the vault, relative to the agent directory.
type Memory struct {
	DBPath    string `yaml:"db_path" json:"db_path"`
	VaultPath string `yaml:"vault_path" json:"vault_path"`
}

// Channels configures how clients reach the agent.
type Channels struct {
	WebSocket WebSocket `yaml:"websocket" json:"websocket"`
	Telegram  *Bridge   `yaml:"telegram,omitempty" json:"telegram,omitempty"`
	Discord   *Bridge   `yaml:"discord,omitempty" json:"discord,omitempty"`
	WhatsApp  *Bridge   `yaml:"whatsapp,omitempty" json:"whatsapp,omitempty"`
}

// ModelFor returns the per-channel model override ("provider:model_id") for a
// channel name (websocket, telegram, discord, whatsapp), or "".
func (c Channels) ModelFor(channel string) string {
	switch channel {
	case "websocket":
		return c.WebSocket.Model
	case "telegram":
		if c.Telegram != nil {
			return c.Telegram.Model
		}
	case "discord":
		if c.Discord != nil {
			return c.Discord.Model
		}
	case "whatsapp":
		if c.WhatsApp != nil {
			return c.WhatsApp.Model
		}
	}
	return ""
}

// WebSocket is the gateway's listener.
type WebSocket struct {
	// Host to bind; 127.0.0.1 unless other devices are allowed (decision A1).
	Host string `yaml:"host" json:"host"`
	// Port preferred; the next free one up to +99 is taken when it is busy.
	Port int `yaml:"port" json:"port"`
	// Token clients must present; required for a non-loopback host.
	Token string `yaml:"token" json:"token"`
	// AllowedOrigins lists extra browser origins allowed to call the gateway.
	AllowedOrigins []string `yaml:"allowed_origins" json:"allowed_origins"`
	// Model overrides the active model for this channel ("provider:model_id").
	Model string `yaml:"model" json:"model"`
}

// Bridge is a chat bridge's settings.
type Bridge struct {
	Token         string   `yaml:"token" json:"token"`
	AllowedUsers  []string `yaml:"allowed_users" json:"allowed_users"`
	Model         string   `yaml:"model" json:"model"`
	GreenAPIID    string   `yaml:"green_api_id,omitempty" json:"green_api_id,omitempty"`
	GreenAPIToken string   `yaml:"green_api_token,omitempty" json:"green_api_token,omitempty"`
}

// Scheduler switches scheduled tasks on or off.
type Scheduler struct {
	// Enabled defaults to true.
	Enabled *bool `yaml:"enabled" json:"enabled"`
}

// On reports whether the scheduler should run.
func (s Scheduler) On() bool { return s.Enabled == nil || *s.Enabled }

// Uploads bounds uploads and names the speech-to-text model.
type Uploads struct {
	// MaxBytes bounds one upload; 0 means 50 MiB.
	MaxBytes      int64         `yaml:"max_bytes" json:"max_bytes"`
	Transcription Transcription `yaml:"transcription" json:"transcription"`
}

// Transcription names the OpenAI-compatible speech-to-text provider and model.
type Transcription struct {
	Provider string `yaml:"provider" json:"provider"`
	Model    string `yaml:"model" json:"model"`
}

// Desktop holds the tray app's settings.
type Desktop struct {
	// LAN lets other devices connect (binds 0.0.0.0 with the token).
	LAN bool `yaml:"lan" json:"lan"`
	// StartHidden starts in the tray without opening the window.
	StartHidden bool `yaml:"start_hidden" json:"start_hidden"`
}

// AutoUpdate configures self-update (decision A18).
type AutoUpdate struct {
	Enabled bool   `yaml:"enabled" json:"enabled"`
	FeedURL string `yaml:"feed_url" json:"feed_url"`
	// Mode is notify (default) or auto.
	Mode string `yaml:"mode" json:"mode"`
}

// Default returns the settings used when openagent.yaml says nothing.
func Default() Config {
	return Config{
		Name:     "openagent",
		Channels: Channels{WebSocket: WebSocket{Host: "127.0.0.1", Port: DefaultPort}},
		Memory:   Memory{DBPath: "openagent.db", VaultPath: "memories"},
		Uploads:  Uploads{MaxBytes: DefaultUploadMaxBytes},
	}
}

// ValidationError says what is wrong with a setting.
type ValidationError struct {
	Field string
	Msg   string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Msg }

// Validate checks the settings a process cannot start without.
func (c *Config) Validate() error {
	if p := c.Channels.WebSocket.Port; p < 0 || p > 65535 {
		return &ValidationError{"channels.websocket.port", fmt.Sprintf("%d is not a TCP port", p)}
	}
	if c.Uploads.MaxBytes < 0 {
		return &ValidationError{"uploads.max_bytes", "must not be negative"}
	}
	if c.Model.MonthlyBudget < 0 {
		return &ValidationError{"model.monthly_budget", "must not be negative"}
	}
	if c.Model.Provider != "" {
		if _, ok := c.Providers[c.Model.Provider]; !ok {
			return &ValidationError{"model.provider", fmt.Sprintf("%q is not among providers", c.Model.Provider)}
		}
	}
	for name, p := range c.Providers {
		if _, err := ProviderType(name, p); err != nil {
			return err
		}
	}
	return nil
}

// wellKnown maps provider names whose type may be omitted to their type.
var wellKnown = map[string]string{
	"openai": "openai", "anthropic": "anthropic", "google": "google", "openrouter": "openai",
	"groq": "openai", "deepseek": "openai", "mistral": "openai", "xai": "openai",
	"cerebras": "openai", "ollama": "openai", "lmstudio": "openai",
}

// WellKnownBaseURL is the default endpoint of well-known OpenAI-compatible providers.
var WellKnownBaseURL = map[string]string{
	"openrouter": "https://openrouter.ai/api/v1",
	"groq":       "https://api.groq.com/openai/v1",
	"deepseek":   "https://api.deepseek.com/v1",
	"mistral":    "https://api.mistral.ai/v1",
	"xai":        "https://api.x.ai/v1",
	"cerebras":   "https://api.cerebras.ai/v1",
	"ollama":     "http://127.0.0.1:11434/v1",
	"lmstudio":   "http://127.0.0.1:1234/v1",
}

// ProviderType resolves a provider's type, defaulting it for well-known names.
func ProviderType(name string, p Provider) (string, error) {
	t := p.Type
	if t == "" {
		t = wellKnown[name]
	}
	switch t {
	case "openai", "anthropic", "google":
		return t, nil
	case "":
		return "", &ValidationError{"providers." + name + ".type", "missing: set it to openai, anthropic or google"}
	}
	return "", &ValidationError{"providers." + name + ".type", fmt.Sprintf("%q is not one of openai, anthropic, google", t)}
}

// IsLoopback reports whether host only accepts local connections.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// Parse decodes a YAML document over the defaults, resolving ${VAR} references.
func Parse(r io.Reader) (Config, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return Config{}, err
	}
	return parseBytes(b)
}

func parseBytes(b []byte) (Config, error) {
	c := Default()
	var n yaml.Node
	if err := yaml.Unmarshal(b, &n); err != nil {
		return c, fmt.Errorf("parse %s: %w", FileName, err)
	}
	if len(n.Content) == 0 {
		return c, nil
	}
	expandEnv(&n)
	if err := n.Decode(&c); err != nil {
		return c, fmt.Errorf("parse %s: %w", FileName, err)
	}
	if c.Name == "" {
		c.Name = "openagent"
	}
	ws := &c.Channels.WebSocket
	if ws.Host == "" {
		ws.Host = "127.0.0.1"
	}
	if ws.Port == 0 {
		ws.Port = DefaultPort
	}
	if ws.Token == "" {
		ws.Token = os.Getenv("OPENAGENT_WS_TOKEN")
	}
	if c.Memory.DBPath == "" {
		c.Memory.DBPath = "openagent.db"
	}
	if c.Memory.VaultPath == "" {
		c.Memory.VaultPath = "memories"
	}
	if c.Uploads.MaxBytes == 0 {
		c.Uploads.MaxBytes = DefaultUploadMaxBytes
	}
	return c, nil
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces ${VAR} in every scalar of the tree.
func expandEnv(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "${") {
		n.Value = envRef.ReplaceAllStringFunc(n.Value, func(m string) string {
			return os.Getenv(m[2 : len(m)-1])
		})
	}
	for _, c := range n.Content {
		expandEnv(c)
	}
}

// Resolve turns a path from the config into an absolute one under dir.
func Resolve(dir, p string) string {
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, p[2:])
		}
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}

// DefaultDir is the platform data directory used when no agent directory is given:
// $XDG_DATA_HOME/openagent, ~/Library/Application Support/OpenAgent or %APPDATA%\OpenAgent.
func DefaultDir() (string, error) {
	switch runtime.GOOS {
	case "windows":
		if d := os.Getenv("APPDATA"); d != "" {
			return filepath.Join(d, "OpenAgent"), nil
		}
		return "", errors.New("APPDATA is not set")
	case "darwin":
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(home, "Library", "Application Support", "OpenAgent"), nil
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "openagent"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".local", "share", "openagent"), nil
}

// defaultYAML is written on first start: every section, commented.
const defaultYAML = `# openagent.yaml: settings for this agent. Edit here or in Settings; the file is
# rewritten atomically by the app and keeps your comments outside the edited section.

# The agent's name, shown to every client.
name: openagent

# Prepended to every conversation.
system_prompt: ""

# The active model. provider names an entry of providers below.
# monthly_budget is in US dollars (0 = none): a warning at 80 %, turns refused at 100 %
# unless budget_warn_only is true.
model:
  provider: ""
  model_id: ""
  monthly_budget: 0

# LLM providers. type is openai (any OpenAI-compatible server), anthropic or google;
# it may be left out for well-known names (openai, anthropic, google, openrouter, groq,
# deepseek, mistral, xai, cerebras, ollama, lmstudio). Use ${ENV_VAR} for keys.
#   openai:
#     api_key: ${OPENAI_API_KEY}
#     models:
#       - {id: gpt-4o-mini, input_cost_per_million: 0.15, output_cost_per_million: 0.6}
#   ollama:
#     base_url: http://127.0.0.1:11434/v1
#     models: [llama3.2]
providers: {}

# Where the database and the Obsidian-compatible vault live (relative to this folder).
memory:
  db_path: openagent.db
  vault_path: memories

channels:
  websocket:
    # 127.0.0.1 keeps the agent on this machine. 0.0.0.0 lets other devices in and
    # needs a token (one is generated and saved here when missing).
    host: 127.0.0.1
    port: 8765
    token: ""
    # Extra browser origins allowed to call the gateway, e.g. http://localhost:5173.
    allowed_origins: []

scheduler:
  enabled: true

uploads:
  max_bytes: 52428800
  # Speech-to-text for voice notes: an OpenAI-compatible provider from providers.
  transcription: {provider: "", model: ""}

desktop:
  lan: false
  start_hidden: false

auto_update:
  enabled: false
  feed_url: ""
  mode: notify

tools:
  # The fetch tool reaches public addresses only. true lets it reach this machine and
  # the LAN too (a router page, a home server), and so lets any page the agent reads
  # point it there.
  fetch_private_networks: false
`

// DefaultYAML returns the commented default file.
func DefaultYAML() []byte { return bytes.Clone([]byte(defaultYAML)) }
