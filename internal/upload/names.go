package upload

import (
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	// maxNameBytes bounds a stored file name, well under every file system's 255.
	maxNameBytes = 150
	// maxExtBytes is the longest extension kept when a name is shortened.
	maxExtBytes = 16
)

// blocked are the executable and script types bridges and uploads refuse
// (contract §6.1).
var blocked = map[string]bool{
	".exe": true, ".bat": true, ".cmd": true, ".com": true, ".msi": true, ".scr": true, ".pif": true,
	".vbs": true, ".vbe": true, ".jse": true, ".ws": true, ".wsf": true, ".wsh": true, ".ps1": true,
	".hta": true, ".cpl": true, ".lnk": true, ".reg": true, ".jar": true,
}

// Blocked reports whether name has a blocked extension, and which.
func Blocked(name string) (string, bool) {
	ext := strings.ToLower(fileExt(name))
	return ext, blocked[ext]
}

// windowsReserved are device names Windows will not create as files.
var windowsReserved = map[string]bool{
	"CON": true, "PRN": true, "AUX": true, "NUL": true,
	"COM1": true, "COM2": true, "COM3": true, "COM4": true, "COM5": true, "COM6": true, "COM7": true, "COM8": true, "COM9": true,
	"LPT1": true, "LPT2": true, "LPT3": true, "LPT4": true, "LPT5": true, "LPT6": true, "LPT7": true, "LPT8": true, "LPT9": true,
}

// SanitizeName turns a client's file name into one that is safe on every
// platform: the last path element only, no control or invisible formatting
// characters (NUL, bidi overrides), none of <>:"|?*, no leading or trailing
// dots and spaces, not a Windows device name, and at most 150 bytes with the
// extension kept. An empty result becomes "upload".
func SanitizeName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.ToValidUTF8(name, "")
	var b strings.Builder
	for _, r := range name {
		switch {
		case r < 0x20 || r == 0x7f || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Cc, r):
		case strings.ContainsRune(`<>:"|?*`, r):
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	name = strings.Trim(b.String(), " .")
	if name == "" {
		return "upload"
	}
	stem, _, _ := strings.Cut(name, ".")
	if windowsReserved[strings.ToUpper(strings.TrimSpace(stem))] {
		name = "_" + name
	}
	if len(name) > maxNameBytes {
		ext := fileExt(name)
		if len(ext) > maxExtBytes {
			ext = ""
		}
		name = strings.TrimRight(truncate(strings.TrimSuffix(name, ext), maxNameBytes-len(ext)), " .") + ext
	}
	return name
}

// fileExt is filepath.Ext, except that a name that is only an extension
// (".env") has none.
func fileExt(name string) string {
	ext := filepath.Ext(name)
	if ext == name {
		return ""
	}
	return ext
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
