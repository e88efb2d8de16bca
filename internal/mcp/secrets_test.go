package mcp

import "testing"

func TestMaskAndKeepSecrets(t *testing.T) {
	stored := map[string]string{"GITHUB_TOKEN": "ghp_abcdef123456", "PATH": "/usr/bin", "Authorization": "Bearer xyz98765"}
	shown := maskValues(stored)
	want := map[string]string{"GITHUB_TOKEN": "****3456", "PATH": "/usr/bin", "Authorization": "****8765"}
	for k, v := range want {
		if shown[k] != v {
			t.Errorf("masked %s = %q, want %q", k, shown[k], v)
		}
	}
	back := map[string]string{"GITHUB_TOKEN": "****3456", "PATH": "/bin", "Authorization": "Bearer new"}
	keepMasked(back, stored)
	if back["GITHUB_TOKEN"] != "ghp_abcdef123456" || back["PATH"] != "/bin" || back["Authorization"] != "Bearer new" {
		t.Fatalf("after keepMasked: %v", back)
	}
}
