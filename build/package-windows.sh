#!/usr/bin/env bash
# Cross-builds the Windows desktop app on Linux and wraps it in an NSIS
# installer, without the Wails CLI (whose `wails build -nsis` needs Windows
# or its own templates). Needs `apt-get install nsis`.
#
#   build/package-windows.sh VERSION OUT_DIR [LDFLAGS]
#
# The cross build has CGO_ENABLED=0: Wails (WebView2 via go-webview2) and
# getlantern/systray are pure Go on Windows, but go-autostart's Startup
# shortcut needs cgo (mingw), so "Start at login" answers "not supported"
# in this build; build on Windows (or with mingw-w64 and CGO_ENABLED=1) for it.
set -euo pipefail

VERSION=$1
OUT=$(mkdir -p "$2" && cd "$2" && pwd)
LDFLAGS=${3:-}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

EXE=$OUT/openagent.exe
(cd "$ROOT" && GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go build -tags desktop,production \
	-ldflags "-w -s -H windowsgui $LDFLAGS" -o "$EXE" .)
(cd "$HERE/windows" && makensis -V2 -DVERSION="$VERSION" -DEXE="$EXE" \
	-DOUT="$OUT/OpenAgent-$VERSION-windows-amd64-setup.exe" installer.nsi)
echo "$OUT/OpenAgent-$VERSION-windows-amd64-setup.exe"
