#!/usr/bin/env bash
# Desktop smoke test: the real desktop binary under Xvfb and a D-Bus session,
# its tray driven over D-Bus by tools/trayctl, the way a panel does.
#
#   xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- \
#     tools/desktop-smoke.sh BIN TRAYCTL [DEB]
#
# BIN is bin/openagent-desktop, TRAYCTL is tools/trayctl built, DEB (optional)
# is the package to install with dpkg -i. Prints one line per check, figures
# (timings, PSS memory) as "figure:" lines, and last "N passed, M failed";
# exits non-zero when anything failed.
set -u

BIN=$(readlink -f "$1")
TRAYCTL=$(readlink -f "$2")
DEB=${3:-}
WAIT_PORT=${WAIT_PORT:-60}   # seconds; CI machines can be slow
WAIT_UI=${WAIT_UI:-90}

pass=0
fail=0
ok() { echo "ok    $*"; pass=$((pass + 1)); }
bad() { echo "FAIL  $*"; fail=$((fail + 1)); }
check() { # check NAME COMMAND...
	local name=$1
	shift
	if "$@"; then ok "$name"; else bad "$name"; fi
}

WORK=$(mktemp -d)
export XDG_CONFIG_HOME=$WORK/xdg # keep "Start at login" entries out of the real home
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# wait_file FILE SECS
wait_file() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

health() { curl -fsS -m 3 -o /dev/null "http://127.0.0.1:$1/api/health"; }
health_body() { curl -fsS -m 3 "http://127.0.0.1:$1/api/health"; }

# wait_exit PID SECS: waits for PID to end and sets rc (124 on timeout,
# after which PID is killed)
wait_exit() {
	local i
	rc=124
	for ((i = 0; i < $2 * 10; i++)); do
		if ! kill -0 "$1" 2>/dev/null; then
			wait "$1"
			rc=$?
			return 0
		fi
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
	return 1
}

# wait_clients PORT SECS: until the window's UI holds a WebSocket
wait_clients() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		health_body "$1" 2>/dev/null | grep -Eq '"connected_clients":[1-9]' && return 0
		sleep 0.1
	done
	return 1
}

port_closed() { ! curl -s -m 2 -o /dev/null "http://127.0.0.1:$1/api/health"; }

# pss PID: kB of PSS of PID and its WebKit child processes, one per line
pss() {
	local p
	for p in "$1" $(pgrep -P "$1"); do
		[ -r "/proc/$p/smaps_rollup" ] || continue
		printf '%s %s\n' "$(cat "/proc/$p/comm")" "$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup")"
	done
}
report_pss() { # report_pss LABEL PID
	local total=0 line name kb
	while read -r name kb; do
		echo "figure: PSS $1: $name $((kb / 1024)) MB"
		total=$((total + kb))
	done < <(pss "$2")
	echo "figure: PSS $1: total $((total / 1024)) MB"
}

visible_window() { xdotool search --onlyvisible --name '^OpenAgent' >/dev/null 2>&1; }

screenshot_not_blank() {
	import -window root "$WORK/shot.png" 2>/dev/null || return 1
	local sd colors
	sd=$(convert "$WORK/shot.png" -format '%[fx:standard_deviation]' info:)
	colors=$(convert "$WORK/shot.png" -format '%k' info:)
	echo "figure: screenshot: $colors colours, standard deviation $sd"
	[ -n "${SHOT_OUT:-}" ] && cp "$WORK/shot.png" "$SHOT_OUT"
	awk -v s="$sd" -v c="$colors" 'BEGIN { exit !(s > 0.02 && c > 16) }'
}

# --- the StatusNotifierWatcher, before any tray appears --------------------
"$TRAYCTL" watch 2>"$WORK/watcher.log" &
pids+=($!)
sleep 0.5

# --- launch with the window open -----------------------------------------
AGENT=$WORK/agent
t0=$(now)
"$BIN" --dir "$AGENT" >"$WORK/app.log" 2>&1 &
APP=$!
pids+=($APP)
if wait_file "$AGENT/.port" "$WAIT_PORT"; then
	t1=$(now)
	PORT=$(cat "$AGENT/.port")
	ok "launch: .port written (port $PORT)"
	echo "figure: launch to .port: $(elapsed "$t0" "$t1") s"
else
	bad "launch: no .port within ${WAIT_PORT}s"
	sed 's/^/    app: /' "$WORK/app.log" | tail -20
	echo "$pass passed, $((fail + 1)) failed"
	exit 1
fi
check "GET /api/health answers" health "$PORT"
if wait_clients "$PORT" "$WAIT_UI"; then
	t2=$(now)
	ok "the window's UI connected to the gateway (connected_clients >= 1)"
	echo "figure: launch to UI connected: $(elapsed "$t0" "$t2") s"
else
	bad "the window's UI did not connect within ${WAIT_UI}s"
fi
check "the window is visible" visible_window
sleep 1
check "screenshot is not blank" screenshot_not_blank
report_pss "window open" "$APP"

check "tray item registered with the watcher" "$TRAYCTL" wait "Running on port $PORT" 20
"$TRAYCTL" menu | sed 's/^/    menu: /'

# --- single instance -----------------------------------------------------
out=$(timeout 30 "$BIN" --dir "$AGENT" 2>&1)
rc=$?
check "second launch on the same directory exits 0" test "$rc" = 0
check "second launch says already running on port $PORT" grep -q "already running on port $PORT" <<<"$out"
check "first instance still serves after the second launch" health "$PORT"

# --- tray: stop, start, other devices ------------------------------------
"$TRAYCTL" click "Stop gateway"
"$TRAYCTL" wait "Stopped" 20 >/dev/null
check "tray Stop: status Stopped and port $PORT closed" port_closed "$PORT"
check "tray Stop: .port removed" test ! -e "$AGENT/.port"
"$TRAYCTL" click "Start gateway"
check "tray Start: status Running on port $PORT" "$TRAYCTL" wait "Running on port $PORT" 30
check "tray Start: same port $PORT answers" health "$PORT"

"$TRAYCTL" click "Allow other devices"
"$TRAYCTL" wait "Running on port $PORT" 30 >/dev/null
sleep 0.5
TOKEN=$(awk '/^  websocket:/ { ws = 1 } ws && /^    token:/ { print $2; exit }' "$AGENT/openagent.yaml" | tr -d '"')
check "Allow other devices: a token was generated and saved" test -n "$TOKEN"
check "Allow other devices: listening on every interface" bash -c "ss -Hltn 'sport = :$PORT' | grep -Eq '(\\*|0\\.0\\.0\\.0|\\[::\\]):$PORT'"
LANIP=$(hostname -I 2>/dev/null | awk '{ print $1 }')
if [ -n "$LANIP" ]; then
	check "Allow other devices: reachable on $LANIP with the token" \
		curl -fsS -m 3 -o /dev/null "http://$LANIP:$PORT/api/agent-info?token=$TOKEN"
fi
check "Allow other devices: GET /api/pairing says lan with a QR code" bash -c \
	"curl -fsS -m 3 -H 'Authorization: Bearer $TOKEN' http://127.0.0.1:$PORT/api/pairing | grep -q '\"lan\":true.*\"qr_png\":\"data:image/png;base64,'"
check "Allow other devices: the UI reconnected with the token" wait_clients "$PORT" 30
check "Allow other devices: check box checked" bash -c "'$TRAYCTL' menu | grep -q '\\[x\\] Allow other devices'"

# --- quit --------------------------------------------------------------------
"$TRAYCTL" click "Quit"
wait_exit "$APP" 30
check "tray Quit: exit code 0 (got $rc)" test "$rc" = 0
check "tray Quit: .port removed" test ! -e "$AGENT/.port"
check "tray Quit: port $PORT closed" port_closed "$PORT"

# --- hidden start (what "Start at login" runs) ----------------------------
HID=$WORK/hidden
t0=$(now)
"$BIN" --hidden --dir "$HID" >"$WORK/hidden.log" 2>&1 &
APP=$!
pids+=($APP)
if wait_file "$HID/.port" "$WAIT_PORT"; then
	HPORT=$(cat "$HID/.port")
	ok "--hidden: gateway up on port $HPORT"
	echo "figure: --hidden launch to .port: $(elapsed "$t0" "$(now)") s"
	"$TRAYCTL" wait "Running on port $HPORT" 20 >/dev/null
	sleep 2
	check "--hidden: no visible window" bash -c "! xdotool search --onlyvisible --name '^OpenAgent' >/dev/null 2>&1"
	report_pss "hidden in the tray" "$APP"
	"$TRAYCTL" click "Open OpenAgent"
	shown=1
	for ((i = 0; i < 100; i++)); do visible_window && shown=0 && break; sleep 0.1; done
	check "--hidden: tray Open OpenAgent shows the window" test "$shown" = 0
	check "--hidden: the UI connected" wait_clients "$HPORT" "$WAIT_UI"
	"$TRAYCTL" click "Quit"
	wait_exit "$APP" 30
	check "--hidden: Quit exits 0 (got $rc)" test "$rc" = 0
else
	bad "--hidden: no .port within ${WAIT_PORT}s"
fi

# --- no display: falls back to serve --------------------------------------
NOD=$WORK/nodisplay
env -u DISPLAY -u WAYLAND_DISPLAY "$BIN" --dir "$NOD" >"$WORK/nodisplay.log" 2>&1 &
APP=$!
pids+=($APP)
if wait_file "$NOD/.port" "$WAIT_PORT"; then
	ok "no display: the headless gateway serves"
	check "no display: says so" grep -q "running the headless gateway instead" "$WORK/nodisplay.log"
	kill -TERM "$APP"
	wait_exit "$APP" 30
	check "no display: SIGTERM exits 0 (got $rc)" test "$rc" = 0
else
	bad "no display: no .port within ${WAIT_PORT}s"
	sed 's/^/    app: /' "$WORK/nodisplay.log" | tail -5
fi

# --- the .deb ---------------------------------------------------------------
if [ -n "$DEB" ]; then
	SUDO=
	[ "$(id -u)" = 0 ] || SUDO=sudo
	if $SUDO dpkg -i "$DEB" >"$WORK/dpkg.log" 2>&1; then
		ok "dpkg -i $(basename "$DEB")"
	else
		bad "dpkg -i $(basename "$DEB")"
		sed 's/^/    dpkg: /' "$WORK/dpkg.log" | tail -10
	fi
	check "deb: launcher entry installed" test -f /usr/share/applications/openagent.desktop
	check "deb: launcher entry runs /usr/bin/openagent" grep -q '^Exec=/usr/bin/openagent' /usr/share/applications/openagent.desktop
	check "deb: icon installed" test -f /usr/share/icons/hicolor/256x256/apps/openagent.png
	v=$(/usr/bin/openagent version 2>&1)
	check "deb: openagent version runs ($v)" grep -q '^openagent ' <<<"$v"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
