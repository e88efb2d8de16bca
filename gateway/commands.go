package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// commandTimeout bounds the slow commands (usage, update).
const commandTimeout = 10 * time.Minute

// Command is one gateway command, for help texts and client menus.
type Command struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Menu        bool   `json:"menu"`
	Help        bool   `json:"help"`
}

// Commands is the command registry in the reference's order (contract §2.8).
var Commands = []Command{
	{"new", "Start a new conversation (fresh context)", true, true},
	{"reset", "same as new", false, false},
	{"stop", "Cancel the current operation", true, true},
	{"status", "Show agent status and queue", true, true},
	{"queue", "Show pending messages", false, true},
	{"clear", "Clear the conversation: stop, drop the queue and forget the context", true, true},
	{"usage", "Show current usage and budget", true, true},
	{"update", "Check for updates and install", true, true},
	{"restart", "Restart OpenAgent", true, true},
	{"help", "Show available commands", true, true},
}

const helpText = "Available commands:\n" +
	"• /new — start a fresh conversation (clears context)\n" +
	"• /stop — cancel the current operation\n" +
	"• /status — show agent status and queue depth\n" +
	"• /queue — show pending messages\n" +
	"• /clear — clear the message queue\n" +
	"• /usage — show current usage and budget\n" +
	"• /update — check for updates and install\n" +
	"• /restart — restart OpenAgent\n" +
	"• /help — show this help message"

// handleMessage queues a user message (contract §2.5 with decision A6).
func (s *Server) handleMessage(client, text, sid string) {
	text = strings.TrimSpace(text)
	if text == "" {
		return
	}
	s.hub.noteSession(client, sid)
	s.emit("message.received", map[string]any{"client_id": client, "session_id": sid, "chars": utf8.RuneCountInString(text)})
	if _, err := s.cfg.Settings.Reload(); err != nil {
		s.log.Warn("config reload", "err", err)
	}
	switch pos := s.lanes.enqueue(client, sid, text); {
	case pos == -2:
		s.hub.send(client, frame{Type: "error", Text: errShutdown.Error(), SessionID: sid})
	case pos < 0:
		s.hub.send(client, frame{Type: "error", Text: "Too many messages queued. Please wait.", SessionID: sid})
		s.emit("queue.full", map[string]any{"client_id": client, "session_id": sid})
	case pos > 0:
		s.hub.send(client, frame{Type: "queued", Position: pos, SessionID: sid})
		s.emit("queue.enqueue", map[string]any{"client_id": client, "session_id": sid, "position": pos})
	default:
		s.emit("queue.enqueue", map[string]any{"client_id": client, "session_id": sid, "position": 0})
	}
}

// runCommand answers one command with exactly one command_result (contract
// §2.8). Slow commands run off the connection's reader.
func (s *Server) runCommand(client, name, sid string) {
	s.emit("command.received", map[string]any{"client_id": client, "name": name, "session_id": sid})
	reply := func(text string) {
		s.hub.send(client, frame{Type: "command_result", Text: text})
		s.emit("command.result", map[string]any{"client_id": client, "name": name})
	}
	switch name {
	case "new", "reset", "clear":
		reply(s.wipe(client, sid))
	case "stop":
		stopped := s.lanes.stop(client, sid)
		cleared := s.lanes.clear(client, sid)
		var parts []string
		if stopped {
			parts = append(parts, "Stopped current operation")
		}
		if cleared > 0 {
			parts = append(parts, fmt.Sprintf("cleared %d queued message%s", cleared, plural(cleared)))
		}
		if len(parts) == 0 {
			reply("Nothing running.")
			return
		}
		reply(strings.Join(parts, ". ") + ".")
	case "status":
		busy, depth := s.lanes.state(client)
		state := "Idle"
		if busy {
			state = "Busy"
		}
		reply(fmt.Sprintf("%s | Queue: %d | Sessions: %d", state, depth, len(s.hub.sessions(client))))
	case "queue":
		_, depth := s.lanes.state(client)
		reply(fmt.Sprintf("Queue depth: %d", depth))
	case "usage":
		go func() { reply(s.usageText()) }()
	case "update":
		go func() { reply(s.updateText()) }()
	case "restart":
		if s.cfg.Restart == nil {
			reply("Restart failed: not supported by this process.")
			return
		}
		reply("Restarting...")
		s.emit("server.restart", map[string]any{"client_id": client})
		go func() {
			time.Sleep(restartDelay) // let the reply reach the client first
			s.cfg.Restart()
		}()
	case "help":
		reply(helpText)
	default:
		reply("Unknown command: " + name)
	}
}

// wipe implements new, reset and clear: stop, drop the queue, forget context.
func (s *Server) wipe(client, sid string) string {
	stopped := s.lanes.stop(client, sid)
	cleared := s.lanes.clear(client, sid)
	forgotten := 0
	sessions := []string{sid}
	if sid == "" {
		sessions = s.hub.sessions(client)
	}
	ctx, cancel := context.WithTimeout(s.base(), 10*time.Second)
	defer cancel()
	for _, id := range sessions {
		if err := s.forget(ctx, id); err != nil {
			s.log.Warn("forget session", "session_id", id, "err", err)
			continue
		}
		forgotten++
	}
	if sid == "" {
		s.hub.forgetSessions(client)
	}
	var parts []string
	if stopped {
		parts = append(parts, "stopped current operation")
	}
	if cleared > 0 {
		parts = append(parts, fmt.Sprintf("cleared %d queued message%s", cleared, plural(cleared)))
	}
	if forgotten > 0 {
		parts = append(parts, fmt.Sprintf("forgot %d prior conversation%s", forgotten, plural(forgotten)))
	}
	fresh := s.name() + ":" + client + ":" + randomHex(4)
	s.emit("session.create", map[string]any{"client_id": client})
	parts = append(parts, "fresh session: "+fresh[len(fresh)-8:])
	return capitalize(strings.Join(parts, ". ")) + "."
}

func (s *Server) forget(ctx context.Context, sid string) error {
	if s.cfg.Agent == nil {
		return nil
	}
	return s.cfg.Agent.Forget(ctx, sid)
}

func (s *Server) usageText() string {
	if s.cfg.Usage == nil {
		return "Usage is not available: usage tracking is not set up in this build."
	}
	ctx, cancel := context.WithTimeout(s.base(), commandTimeout)
	defer cancel()
	spend, budget, models, err := s.cfg.Usage.MonthSummary(ctx)
	if err != nil {
		return "Usage is not available: " + err.Error()
	}
	if budget > 0 {
		return fmt.Sprintf("Usage: $%.4f / $%.4f this month across %d model(s).", spend, budget, models)
	}
	return fmt.Sprintf("Usage tracking available for %d model(s); monthly spend is $%.4f.", models, spend)
}

func (s *Server) updateText() string {
	if s.cfg.Updater == nil {
		return "Update failed: not supported yet: this build has no updater."
	}
	ctx, cancel := context.WithTimeout(s.base(), commandTimeout)
	defer cancel()
	updated, old, nv, err := s.cfg.Updater.Update(ctx)
	if err != nil {
		return "Update failed: " + err.Error()
	}
	if !updated {
		return fmt.Sprintf("Already up-to-date (v%s).", strings.TrimPrefix(old, "v"))
	}
	if s.cfg.Restart != nil {
		go func() {
			time.Sleep(restartDelay)
			s.cfg.Restart()
		}()
	}
	return fmt.Sprintf("Updated: v%s → v%s. Restarting...", strings.TrimPrefix(old, "v"), strings.TrimPrefix(nv, "v"))
}

// restartDelay lets a reply flush before a restart begins.
const restartDelay = 300 * time.Millisecond

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// capitalize is Python's str.capitalize: first rune upper, the rest lower.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return strings.ToUpper(string(r)) + strings.ToLower(s[n:])
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Server) name() string { return s.cfg.Settings.Config().Name }

func (s *Server) token() string { return s.cfg.Settings.Config().Channels.WebSocket.Token }
