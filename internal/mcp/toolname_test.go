package mcp

import (
	"regexp"
	"strings"
	"testing"
)

// TestToolName: names are what the model APIs accept (^[a-zA-Z0-9_-]{1,64}$),
// stable, and long names that share a start stay distinct.
func TestToolName(t *testing.T) {
	t.Parallel()
	valid := regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)
	long := strings.Repeat("very-long-server-name-", 3)
	tests := []struct{ server, tool, want string }{
		{"vault", "search", "vault__search"},
		{"my.server", "get/file", "my_server__get_file"},
		{"ünï", "tool name", "_n___tool_name"},
		{long, "read_resource_with_a_long_name", ""}, // cut: checked below
		{long, "read_resource_with_a_long_name_2", ""},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		got := ToolName(tt.server, tt.tool)
		if !valid.MatchString(got) {
			t.Errorf("ToolName(%q, %q) = %q: not a valid model tool name", tt.server, tt.tool, got)
		}
		if tt.want != "" && got != tt.want {
			t.Errorf("ToolName(%q, %q) = %q, want %q", tt.server, tt.tool, got, tt.want)
		}
		if again := ToolName(tt.server, tt.tool); again != got {
			t.Errorf("ToolName(%q, %q) is not stable: %q then %q", tt.server, tt.tool, got, again)
		}
		if seen[got] {
			t.Errorf("ToolName(%q, %q) = %q collides with another tool", tt.server, tt.tool, got)
		}
		seen[got] = true
	}
	if got := ToolName(long, "x"); !strings.HasPrefix(got, "very-long-server-name-very-long") || len(got) != MaxToolName {
		t.Errorf("a long name = %q (%d chars), want its start kept and %d chars", got, len(got), MaxToolName)
	}
}
