#!/usr/bin/env bash
# `make test-package` (not part of `make test`: it builds the release .deb, ~10 min cold, and
# installs it system-wide with apt-get, so it needs root or sudo):
#   1. `make package` (skipped with SKIP_BUILD=1 when the .deb is already built; DEB=FILE tests
#      another .deb);
#   2. `apt-get install ./the.deb` succeeds (its Depends resolve on this machine);
#   3. the package holds the app, its desktop entry and icons, and not the relay simulator;
#   4. the installed desktop entry passes desktop-file-validate;
#   5. /usr/bin/interlock-station starts under Xvfb (private D-Bus session with gnome-keyring) on
#      an empty --data-dir and shows the first-run screen (WebDriver through tauri-driver; a
#      screenshot is saved in .test-logs/package-first-run.png);
#   6. start at login: the installed app writes its autostart entry (setting on, the default)
#      and removes it at the next start once the setting is off (scripts/autostart-check.sh);
#   7. `apt-get remove interlock-station` removes it: the binary, desktop entry and icons are gone.
# Ends with `make test-package: N passed, M failed`.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
target=${CARGO_TARGET_DIR:-target}
logs=.test-logs
mkdir -p "$logs"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
apt=($sudo env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=600)

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
finish() { echo "make test-package: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  if scripts/package.sh >"$logs/package.log" 2>&1; then ok "make package"; else
    tail -30 "$logs/package.log"; bad "make package"; finish; fi
fi
version=$(node -p 'require("./tauri.conf.json").version')
deb=${DEB:-$(ls "$target"/release/bundle/deb/*_"${version}"_*.deb 2>/dev/null | head -1)}
[ -n "$deb" ] || { bad "no .deb in $target/release/bundle/deb"; finish; }
pkg=$(dpkg-deb -f "$deb" Package)
echo "     $deb: $(stat -c %s "$deb") bytes, Installed-Size $(dpkg-deb -f "$deb" Installed-Size) KiB"

# Install (the path must start with ./ or / for apt-get to take it as a file).
deb_abs=$(realpath "$deb")
if "${apt[@]}" install "$deb_abs" >"$logs/package-install.log" 2>&1; then ok "apt-get install $deb"; else
  tail -20 "$logs/package-install.log"; bad "apt-get install $deb"; finish; fi
files=$(dpkg -L "$pkg")

[ -x /usr/bin/interlock-station ] && ok "/usr/bin/interlock-station installed" || bad "/usr/bin/interlock-station missing"
if grep -q relay-sim <<<"$files"; then bad "the relay simulator is in the package"; else ok "no relay simulator in the package"; fi
grep -q '^/usr/share/icons/hicolor/.*\.png$' <<<"$files" && ok "icons installed" || bad "no icons in the package"

desktop=$(grep '^/usr/share/applications/.*\.desktop$' <<<"$files" | head -1)
if [ -n "$desktop" ] && desktop-file-validate "$desktop" >"$logs/package-desktop.log" 2>&1 && [ ! -s "$logs/package-desktop.log" ]; then
  ok "desktop entry $desktop validates"
else
  cat "$logs/package-desktop.log" 2>/dev/null; bad "desktop entry ${desktop:-missing} does not validate"
fi
grep -q '^Exec=interlock-station' "$desktop" 2>/dev/null && ok "desktop entry runs interlock-station" || bad "desktop entry Exec"

if timeout 180 xvfb-run -a -s "-screen 0 1280x800x24" scripts/with-test-session.sh \
  node scripts/first-screen.mjs /usr/bin/interlock-station --screenshot "$logs/package-first-run.png" \
  >"$logs/package-first-run.log" 2>&1; then
  ok "installed binary shows the first-run screen ($(grep -o '"first_screen_drawn_ms":[0-9]*' "$logs/package-first-run.log" | cut -d: -f2) ms)"
else
  tail -20 "$logs/package-first-run.log"; bad "installed binary did not show the first-run screen"
fi

if timeout 120 xvfb-run -a -s "-screen 0 1280x800x24" scripts/with-test-session.sh \
  scripts/autostart-check.sh /usr/bin/interlock-station >"$logs/package-autostart.log" 2>&1; then
  ok "start at login: the autostart entry appears with the setting on and goes with it off"
else
  cat "$logs/package-autostart.log"; bad "start at login (autostart entry)"
fi

if "${apt[@]}" remove "$pkg" >"$logs/package-remove.log" 2>&1; then ok "apt-get remove $pkg"; else
  tail -20 "$logs/package-remove.log"; bad "apt-get remove $pkg"; fi
left=$(while read -r f; do [ -f "$f" ] && echo "$f"; done <<<"$files")
[ -z "$left" ] && ok "every file of the package is gone" || bad "left behind: $left"
[ ! -e /usr/bin/interlock-station ] && ok "/usr/bin/interlock-station gone" || bad "/usr/bin/interlock-station still there"
finish
