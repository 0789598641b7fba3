#!/usr/bin/env bash
# `make package`: the release .deb, built by the Tauri bundler (`tauri build --bundles deb`, which
# first builds the UI). Prints the package's control fields and checks its desktop entry with
# desktop-file-validate. The relay simulator is its own workspace package and is not in it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
target=${CARGO_TARGET_DIR:-target}

npx tauri build --bundles deb

version=$(node -p 'require("./tauri.conf.json").version')
deb=$(ls "$target"/release/bundle/deb/*_"${version}"_*.deb | head -1)
echo "package: $deb ($(stat -c %s "$deb") bytes)"
dpkg-deb -f "$deb" Package Version Architecture Installed-Size Depends Recommends

if dpkg-deb -c "$deb" | grep -q relay-sim; then
  echo "package: the relay simulator is in the package" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$deb" "$tmp"
for entry in "$tmp"/usr/share/applications/*.desktop; do
  desktop-file-validate "$entry"
  echo "package: desktop entry valid: ${entry#"$tmp"}"
done
