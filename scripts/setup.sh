#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build, run and test Interlock Station: Debian
# packages, the Rust components, npm packages and tauri-driver. Each step checks first, so a second
# run costs a second or two.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*"; }

build_packages=(libwebkit2gtk-4.1-dev build-essential pkg-config libssl-dev librsvg2-dev
  libayatana-appindicator3-dev libxdo-dev libdbus-1-dev file curl)
test_packages=(xvfb xauth webkit2gtk-driver dbus dbus-user-session gnome-keyring libsecret-tools
  dunst libnotify-bin imagemagick desktop-file-utils python3)

missing=()
for p in "${build_packages[@]}" "${test_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  say "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq -o DPkg::Lock::Timeout=600
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
    --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  say "Rust is missing: install it with rustup (https://rustup.rs), then run this again." >&2
  exit 1
fi
if command -v rustup >/dev/null 2>&1; then
  for c in rustfmt clippy; do
    rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c"
  done
fi

if ! command -v node >/dev/null 2>&1; then
  say "Node.js 20 or newer is missing: install it (e.g. from nodesource or nvm), then run this again." >&2
  exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  say "Node.js $(node -v) is too old; the UI build (Vite 7) needs Node.js 20.19 or newer." >&2
  exit 1
fi

# npm packages: reinstall only when package-lock.json changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi

if ! command -v tauri-driver >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
  say "installing tauri-driver (about a minute)"
  cargo install tauri-driver --version '^2' --locked --quiet
fi

# Python packages the iCalendar tests use as independent oracles (fixture generator, expansion
# cross-check): icalendar and recurring-ical-events, pinned.
if ! python3 -c 'import icalendar, recurring_ical_events' >/dev/null 2>&1; then
  say "installing Python packages for the iCalendar tests"
  python3 -m pip install --quiet --disable-pip-version-check -r tests/fixtures/ical/requirements.txt 2>/dev/null ||
    python3 -m pip install --quiet --disable-pip-version-check --user --break-system-packages \
      -r tests/fixtures/ical/requirements.txt
fi
