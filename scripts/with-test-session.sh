#!/usr/bin/env bash
# Runs a command inside a private D-Bus session bus with an unlocked gnome-keyring (the real
# Secret Service), so tests use the real OS keyring and notification bus without touching the
# developer's own. Usage: scripts/with-test-session.sh CMD [ARGS...]
set -uo pipefail

if [ -z "${INTERLOCK_TEST_SESSION:-}" ]; then
  exec dbus-run-session -- env INTERLOCK_TEST_SESSION=1 "$0" "$@"
fi

scratch=$(mktemp -d /tmp/interlock-session.XXXXXX)
export XDG_DATA_HOME="$scratch/data" XDG_CONFIG_HOME="$scratch/config" XDG_CACHE_HOME="$scratch/cache"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME"

# --unlock creates the login collection with this password and unlocks it.
eval "$(printf 'interlock-test' | gnome-keyring-daemon --unlock --components=secrets 2>/dev/null)" || true

has_owner() {
  dbus-send --session --print-reply --dest=org.freedesktop.DBus / \
    org.freedesktop.DBus.NameHasOwner "string:$1" 2>/dev/null | grep -q 'boolean true'
}
for _ in $(seq 1 100); do has_owner org.freedesktop.secrets && break; sleep 0.05; done
if ! has_owner org.freedesktop.secrets; then
  echo "with-test-session: gnome-keyring did not come up on the test bus" >&2
  exit 1
fi
keyring_pid=$(dbus-send --session --print-reply --dest=org.freedesktop.DBus / \
  org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.secrets | awk '/uint32/ {print $2}')

# Prove the keyring stores and returns a secret before any test relies on it.
printf 'probe-value' | secret-tool store --label='interlock probe' service interlock-probe username probe
if [ "$(secret-tool lookup service interlock-probe username probe)" != "probe-value" ]; then
  echo "with-test-session: the Secret Service on the test bus did not round-trip a secret" >&2
  kill "$keyring_pid" 2>/dev/null
  exit 1
fi
secret-tool clear service interlock-probe username probe

"$@"
rc=$?
kill "$keyring_pid" 2>/dev/null
rm -rf "$scratch"
exit $rc
