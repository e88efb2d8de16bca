# OpenAgent Desktop. `make help` lists the targets.
#
# On a fresh Debian 12 machine:
#   make run    builds and runs the headless gateway in ./my-agent
#   make test   installs what the tests need (apt, npm) and runs every test

SHELL       := /bin/bash
GO          ?= go
VERSION     ?= 0.1.0
LDFLAGS     := -X openagent/app.Version=$(VERSION)
AGENT_DIR   ?= ./my-agent
SUDO        := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export DEBIAN_FRONTEND := noninteractive

# Debian packages: GUI libraries for the desktop build and its tests, and the browser.
APT_PKGS := libgtk-3-dev libwebkit2gtk-4.1-dev libayatana-appindicator3-dev xvfb xauth dbus-x11 \
            imagemagick xdotool x11-utils chromium

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z][a-z0-9-]*:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

.PHONY: run
run: ui headless ## build the web UI and the gateway, then serve ./my-agent (AGENT_DIR=…)
	./bin/openagent serve $(AGENT_DIR)

.PHONY: headless
headless: ## build bin/openagent without cgo or GUI libraries
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o bin/openagent .

.PHONY: deps
deps: ## install the Debian packages the desktop build and the tests need
	@if dpkg -s $(APT_PKGS) >/dev/null 2>&1; then echo "apt packages present"; else \
	  $(SUDO) apt-get update && $(SUDO) apt-get install -y $(APT_PKGS); fi

.PHONY: fmt
fmt: ## fail if gofmt would change anything
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt: $$out"; exit 1; fi

.PHONY: vet
vet: ## go vet, also for windows and darwin
	CGO_ENABLED=0 $(GO) vet ./...
	GOOS=windows CGO_ENABLED=0 $(GO) vet ./...
	GOOS=darwin CGO_ENABLED=0 $(GO) vet ./...

.PHONY: test-go
test-go: ## go test -race ./... (CGO_ENABLED=0 build check first)
	CGO_ENABLED=0 $(GO) build ./...
	$(GO) test -race -count=1 -timeout 20m ./...

.PHONY: test
test: deps fmt vet test-go test-web test-desktop ## install dependencies and run every test (what CI runs)

.PHONY: bench
bench: ## run the Go benchmarks and print figures (gateway, then the 10,000-note vault)
	$(GO) test -run '^$$' -bench . -benchtime 2s ./gateway/
	$(GO) test -p 1 -run '^$$' -bench Vault -benchtime 1x ./internal/vault/

# -- web UI (issue 7) --
.PHONY: ui
ui: ## build the web UI into frontend/dist (npm ci && npm run build)
	cd frontend && npm ci --no-audit --no-fund && npm run build

.PHONY: test-web
test-web: ## web UI: vitest, svelte-check, build, then Playwright e2e on openagent serve (Debian chromium)
	cd frontend && npm ci --no-audit --no-fund && npx vitest run && npm run check && npm run build
	cd frontend && node e2e/run.mjs

# -- desktop (issue 5) --
DESKTOP_TAGS := desktop,production,webkit2_41
ARCH         = $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
DEB          = dist/openagent_$(VERSION)_$(ARCH).deb

.PHONY: desktop
desktop: ## build bin/openagent-desktop (window + tray; needs `make deps`) without the Wails CLI
	@if [ -f frontend/package.json ]; then cd frontend && npm ci --no-audit --no-fund && npm run build; \
	else echo "frontend/package.json is missing: the window will show the built-in status page"; fi
	$(GO) build -tags $(DESKTOP_TAGS) -ldflags "-w -s $(LDFLAGS)" -o bin/openagent-desktop .

.PHONY: deb
deb: desktop ## package the desktop binary, launcher entry and icons as dist/openagent_<version>_<arch>.deb
	build/package-deb.sh bin/openagent-desktop $(VERSION) dist

.PHONY: icons
icons: ## redraw the icons under build/ from app/icon.go
	$(GO) run ./tools/mkicons -o build

.PHONY: test-desktop
test-desktop: deb ## desktop smoke test: Xvfb + D-Bus, tray driven over D-Bus, screenshot, dpkg -i of the .deb
	$(GO) build -o bin/trayctl ./tools/trayctl
	xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- \
	  tools/desktop-smoke.sh bin/openagent-desktop bin/trayctl $(DEB)

.PHONY: nsis
nsis: ## cross-build the Windows app and its NSIS installer into dist/ (needs `apt-get install nsis`)
	@if [ -f frontend/package.json ]; then cd frontend && npm ci --no-audit --no-fund && npm run build; fi
	build/package-windows.sh $(VERSION) dist "$(LDFLAGS)"
