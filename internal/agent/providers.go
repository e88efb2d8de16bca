package agent

import (
	"context"
	"fmt"
	"strings"

	"openagent/internal/config"
	"openagent/internal/llm"
	"openagent/internal/llm/anthropic"
	"openagent/internal/llm/google"
	"openagent/internal/llm/openai"
)

// target is the model a turn runs on.
type target struct {
	provider string // entry name in providers
	typ      string // openai, anthropic or google
	modelID  string
	entry    config.Provider
}

// RuntimeID is "<provider>:<model_id>".
func (t target) RuntimeID() string { return t.provider + ":" + t.modelID }

// resolve picks the model for a channel: channels.<name>.model when set
// ("provider:model_id"), else the model section.
func resolve(cfg config.Config, channel string) (target, error) {
	var prov, model string
	if spec := cfg.Channels.ModelFor(channel); spec != "" {
		p, m, ok := strings.Cut(spec, ":")
		if !ok || p == "" || m == "" {
			return target{}, fmt.Errorf("channels.%s.model is %q; write it as provider:model_id", channel, spec)
		}
		if _, ok := cfg.Providers[p]; !ok {
			return target{}, fmt.Errorf("channels.%s.model names provider %q, which is not among providers in openagent.yaml", channel, p)
		}
		prov, model = p, m
	} else {
		prov, model = cfg.Model.Provider, cfg.Model.ModelID
	}
	if prov == "" || model == "" {
		return target{}, ErrNoModel
	}
	entry, ok := cfg.Providers[prov]
	if !ok {
		return target{}, ErrNoModel
	}
	return targetFor(prov, model, entry)
}

func targetFor(prov, model string, entry config.Provider) (target, error) {
	typ, err := config.ProviderType(prov, entry)
	if err != nil {
		return target{}, err
	}
	if entry.BaseURL == "" {
		entry.BaseURL = config.WellKnownBaseURL[prov]
	}
	return target{provider: prov, typ: typ, modelID: model, entry: entry}, nil
}

type providerKey struct{ name, typ, key, base string }

// provider returns a client for t, reusing one built for the same settings.
func (a *Agent) provider(ctx context.Context, t target) (llm.Provider, error) {
	k := providerKey{t.provider, t.typ, t.entry.APIKey, t.entry.BaseURL}
	a.mu.Lock()
	p, ok := a.clients[k]
	a.mu.Unlock()
	if ok {
		return p, nil
	}
	lc := llm.Config{Name: t.provider, APIKey: t.entry.APIKey, BaseURL: t.entry.BaseURL, HTTPClient: a.cfg.HTTPClient, MaxRetries: a.cfg.MaxRetries}
	p, err := a.open(ctx, t.typ, lc)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	if len(a.clients) > maxCachedClients {
		clear(a.clients) // keys rotate rarely; a full cache means stale entries
	}
	a.clients[k] = p
	a.mu.Unlock()
	return p, nil
}

// open builds the SDK-backed provider of a type.
func (a *Agent) open(ctx context.Context, typ string, lc llm.Config) (llm.Provider, error) {
	if a.cfg.OpenProvider != nil {
		return a.cfg.OpenProvider(ctx, typ, lc)
	}
	switch typ {
	case "openai":
		return openai.New(lc), nil
	case "anthropic":
		return anthropic.New(lc), nil
	case "google":
		return google.New(ctx, lc)
	}
	return nil, fmt.Errorf("provider %s: type %q is not supported", lc.Name, typ)
}

// maxCachedClients bounds the provider client cache.
const maxCachedClients = 32
