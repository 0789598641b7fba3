#!/usr/bin/env bash
# Everything `make test` runs, in order, with one closing line that counts passed and failed
# tests. Each stage's full output is kept in .test-logs/. A failing stage does not stop the others,
# so one run shows every problem.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
logs=.test-logs
rm -rf "$logs" && mkdir -p "$logs"

passed=0 failed=0
summary=()

record() { # name passed failed
  passed=$((passed + $2)); failed=$((failed + $3))
  summary+=("$1: $2 passed, $3 failed")
  if [ "$3" -gt 0 ]; then echo "== $1: FAILED ($3 failed; see $logs/)"; else echo "== $1: ok ($2)"; fi
}

check() { # name command... : a check counts as one test
  local name=$1; shift
  echo "== $name"
  if "$@" >"$logs/$name.log" 2>&1; then record "$name" 1 0; else tail -40 "$logs/$name.log"; record "$name" 0 1; fi
}

sum_cargo() { # log -> "passed failed"
  awk '/^test result:/ { for (i=1;i<=NF;i++) { if ($(i)~/^passed/) p+=$(i-1); if ($(i)~/^failed/) f+=$(i-1) } }
       END { print p+0, f+0 }' "$1"
}

check fmt cargo fmt --all --check
check ui-build npm run --silent ui:build
check clippy cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== rust tests (private D-Bus session with gnome-keyring)"
scripts/with-test-session.sh cargo test --workspace --locked --no-fail-fast >"$logs/rust.log" 2>&1
rust_rc=$?
read -r p f < <(sum_cargo "$logs/rust.log")
if [ "$rust_rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; tail -40 "$logs/rust.log"; fi
[ "$f" -gt 0 ] && grep -E '^(---- |test .* FAILED|failures:)' "$logs/rust.log" | head -20
record rust "$p" "$f"

check ui-typecheck npm run --silent ui:check
check ui-lint npm run --silent ui:lint

echo "== ui unit tests"
npx vitest run --config ui/vite.config.ts >"$logs/ui-test.log" 2>&1
ui_rc=$?
p=$(grep -E '^\s+Tests' "$logs/ui-test.log" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+' || echo 0)
f=$(grep -E '^\s+Tests' "$logs/ui-test.log" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+' || echo 0)
if [ "$ui_rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then f=1; tail -40 "$logs/ui-test.log"; fi
record ui "${p:-0}" "${f:-0}"

echo "== end to end (real window under Xvfb, tauri-driver)"
# `cargo test --no-run` leaves the app and relay-simulator binaries in target/debug built with the
# same (dev-dependency-unified) features as the Rust tests above, so nothing is compiled twice.
if cargo test --workspace --locked --no-run >"$logs/app-build.log" 2>&1; then
  timeout 1200 xvfb-run -a -s "-screen 0 1280x800x24" scripts/with-test-session.sh \
    node --test --test-reporter=tap --test-concurrency=1 tests/e2e/ >"$logs/e2e.log" 2>&1
  e2e_rc=$?
  p=$(awk '/^# pass/ {print $3}' "$logs/e2e.log"); f=$(awk '/^# fail/ {print $3}' "$logs/e2e.log")
  p=${p:-0}; f=${f:-0}
  if [ "$e2e_rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  [ "$f" -gt 0 ] && grep -E 'not ok|error|Error' "$logs/e2e.log" | head -30
  record e2e "$p" "$f"
else
  tail -40 "$logs/app-build.log"
  record e2e 0 1
fi

echo
for line in "${summary[@]}"; do echo "  $line"; done
echo "make test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
