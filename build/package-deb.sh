#!/usr/bin/env bash
# Builds a .deb from the desktop binary with dpkg-deb: the binary as
# /usr/bin/openagent, the launcher entry and the hicolor icons.
#
#   build/package-deb.sh BIN VERSION OUT_DIR
#
# Prints the path of the package. Dependencies are the runtime libraries the
# desktop build links (GTK 3, WebKitGTK 4.1, Ayatana AppIndicator).
set -euo pipefail

BIN=$1
VERSION=$2
OUT=$3
HERE=$(cd "$(dirname "$0")" && pwd)
ARCH=$(dpkg --print-architecture)
PKG=openagent_${VERSION}_${ARCH}

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
ROOT=$STAGE/$PKG

install -Dm755 "$BIN" "$ROOT/usr/bin/openagent"
install -Dm644 "$HERE/linux/openagent.desktop" "$ROOT/usr/share/applications/openagent.desktop"
(cd "$HERE/linux/icons" && find . -name '*.png' -print0) | while IFS= read -r -d '' icon; do
	install -Dm644 "$HERE/linux/icons/$icon" "$ROOT/usr/share/icons/$icon"
done

mkdir -p "$ROOT/DEBIAN"
cat >"$ROOT/DEBIAN/control" <<CONTROL
Package: openagent
Version: $VERSION
Section: net
Priority: optional
Architecture: $ARCH
Maintainer: OpenAgent developers <dev@openagent.invalid>
Depends: libgtk-3-0, libwebkit2gtk-4.1-0, libayatana-appindicator3-1
Installed-Size: $(du -sk "$ROOT/usr" | cut -f1)
Homepage: https://github.com/openagent-uno
Description: your own always-on AI agent, in the tray
 OpenAgent runs an AI agent's gateway on one port (WebSocket, REST and a
 web UI) and keeps it in the system tray: start, stop, let other devices
 in with a QR code, and start at login. "openagent serve" runs it headless.
CONTROL
cat >"$ROOT/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
	command -v update-desktop-database >/dev/null && update-desktop-database -q /usr/share/applications || true
	command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t /usr/share/icons/hicolor || true
fi
POSTINST
cp "$ROOT/DEBIAN/postinst" "$ROOT/DEBIAN/postrm"
sed -i 's/\[ "$1" = configure \]/[ "$1" = remove ] || [ "$1" = purge ]/' "$ROOT/DEBIAN/postrm"
chmod 755 "$ROOT/DEBIAN/postinst" "$ROOT/DEBIAN/postrm"

mkdir -p "$OUT"
dpkg-deb --root-owner-group --build "$ROOT" "$OUT/$PKG.deb" >/dev/null
echo "$OUT/$PKG.deb"
