# Interlock Station: the two commands are `make run` and `make test`; each installs what is missing.
.PHONY: run test setup ui build bindings demo bench bench-stall bench-feeds package test-package bench-app bench-pss

DATA_DIR ?=
RUN_ARGS := $(if $(DATA_DIR),--data-dir $(DATA_DIR),)

setup:
	@scripts/setup.sh

ui: setup
	npm run --silent ui:build

build: ui
	cargo build

## Opens the app on the default database in the OS app-data folder (DATA_DIR=... to use another).
run: build
	./target/debug/interlock-station $(RUN_ARGS)

## Runs every check and test; ends with a line counting passed and failed tests.
test: setup
	@scripts/test-all.sh

## The relay simulator and the app on a throwaway demo station (sign-ins are printed).
demo: build
	cargo build -p interlock-relay-sim
	@scripts/demo.sh

## Delivery benchmark (release build, loopback nginx): 5,000 queued deliveries/s, connections,
## pwrite calls per delivery, the peers (the station's HTTP client alone, aiohttp at 50, requests, curl
## loop), head of line, fan-out.
bench:
	@scripts/bench-delivery.sh

## Calendar feeds: first sync of 20 feeds (5,240 occurrences a year) and an unchanged (304) sync.
bench-feeds:
	cargo run --release -q -p interlock-core --example bench_feed

## Lock command to relay while a keyring call is blocked / sign-ins hash (release build).
bench-stall:
	cargo run --release -p interlock-core --example bench_stall

## Regenerates ui/src/lib/ipc/bindings.ts from the Rust commands and types.
bindings:
	UPDATE_BINDINGS=1 cargo test --lib -p interlock-station committed_bindings

## Release .deb with the Tauri bundler (target/release/bundle/deb/); checks its desktop entry.
package: setup
	@scripts/package.sh

## Builds the .deb, installs it with apt-get (root or sudo), starts it under Xvfb, removes it.
test-package: setup
	@scripts/test-package.sh

## Release binary, .deb and installed sizes; launch to first screen fully drawn under Xvfb.
bench-app: setup
	@scripts/bench-app.sh

## PSS of the idle release app (all its processes): in the tray, window open, window closed again.
bench-pss: setup
	@test -x target/release/interlock-station || scripts/package.sh
	@xvfb-run -a -s "-screen 0 1280x800x24" scripts/with-test-session.sh scripts/bench-pss.sh
