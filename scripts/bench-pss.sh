#!/usr/bin/env bash
# `make bench-pss`: memory of the idle station (release binary), all its processes counted (the app
# and the WebKit processes it starts), as PSS from /proc/PID/smaps_rollup:
#   1. started by autostart (`--autostart`): in the tray, no window;
#   2. the window opened (a second launch hands over to the running one) and idle on sign-in;
#   3. the window closed (WM_DELETE_WINDOW): back in the tray, the web view destroyed.
# Run it under Xvfb with a session bus: `xvfb-run -a scripts/with-test-session.sh scripts/bench-pss.sh`
# (the Makefile target does that). Linux only.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-${CARGO_TARGET_DIR:-target}/release/interlock-station}
settle=${SETTLE:-10}
data=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT
"$bin" --data-dir "$data" demo-seed --relay http://127.0.0.1:9 >/dev/null

tree() { # PID and all its descendants
  local p=$1
  echo "$p"
  for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do tree "$c"; done
}
pss() { # "<total MB> (<name> <MB>, ...)"
  local total=0 parts=""
  for p in $(tree "$pid"); do
    local kb name
    kb=$(awk '/^Pss:/ {print $2}' /proc/"$p"/smaps_rollup 2>/dev/null || echo 0)
    name=$(cat /proc/"$p"/comm 2>/dev/null || echo '?')
    total=$((total + kb))
    parts="$parts $name $((kb / 1024)) MB,"
  done
  echo "$((total / 1024)) MB PSS (${parts%,} )"
}

"$bin" --data-dir "$data" --autostart >/dev/null 2>&1 &
pid=$!
sleep "$settle"
echo "in the tray, no window (autostart): $(pss)"
"$bin" --data-dir "$data" >/dev/null 2>&1 || true
sleep "$settle"
echo "window open, idle on sign-in:       $(pss)"
python3 tests/e2e/wm-close.py "Interlock Station" >/dev/null
sleep "$settle"
echo "window closed, back in the tray:    $(pss)"
