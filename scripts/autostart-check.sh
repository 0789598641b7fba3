#!/usr/bin/env bash
# Start at login, as the installed app does it (`make test-package` runs this under Xvfb inside
# scripts/with-test-session.sh): with the setting on (the default) the app writes its XDG
# autostart entry at start; after `interlock-station agent --start-at-login off` the next start
# removes it. A private HOME keeps the developer's own ~/.config/autostart out of it.
#   scripts/autostart-check.sh BINARY
# Prints one "ok"/"FAIL" line per check; exits non-zero when one fails.
set -uo pipefail
bin=${1:?usage: autostart-check.sh BINARY}
home=$(mktemp -d /tmp/interlock-autostart-home.XXXXXX)
data=$(mktemp -d /tmp/interlock-autostart-data.XXXXXX)
autostart="$home/.config/autostart"
entry_file() { ls "$autostart"/*.desktop 2>/dev/null | head -1; }
present() { [ -n "$(entry_file)" ]; }
absent() { [ -z "$(entry_file)" ]; }
failed=0
ok() { echo "ok   $*"; }
bad() { failed=1; echo "FAIL $*"; }

# Starts the app on $data with the private HOME, waits (up to 20 s) until the check $1 (present
# or absent) holds, then ends it by PID. Returns whether it came true.
launch_until() {
  HOME=$home "$bin" --data-dir "$data" >"$home/app.log" 2>&1 &
  local pid=$! held=1
  for _ in $(seq 1 200); do
    if "$1"; then held=0; break; fi
    sleep 0.1
  done
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return $held
}

if launch_until present; then
  entry=$(entry_file)
  ok "start at login on (default): the app wrote ${entry#"$home"/}"
  grep -q "^Exec=.*$bin.*--autostart" "$entry" && ok "the entry starts $bin --autostart" ||
    bad "the entry's Exec: $(grep '^Exec=' "$entry")"
else
  bad "no autostart entry after a start with the setting on; app log: $(tail -5 "$home/app.log")"
fi

out=$(HOME=$home "$bin" --data-dir "$data" agent --start-at-login off 2>&1)
grep -q '^start at login: off$' <<<"$out" && ok "agent --start-at-login off" || bad "agent: $out"
if launch_until absent; then
  ok "start at login off: the next start removed the entry"
else
  bad "the autostart entry is still there after a start with the setting off"
fi

rm -rf "$home" "$data"
exit $failed
