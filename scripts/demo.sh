#!/usr/bin/env bash
# `make demo`: the relay simulator and the app on a throwaway database with a demo instrument
# tagged has_interlock, webhooks pointing at the simulator, demo accounts and a booking open now.
set -euo pipefail
cd "$(dirname "$0")/.."
data=$(mktemp -d /tmp/interlock-demo.XXXXXX)
port=${DEMO_RELAY_PORT:-8765}
./target/debug/interlock-relay-sim --port "$port" --tls-port $((port + 1)) --ca-out "$data/relay-ca.pem" &
sim=$!
trap 'kill "$sim" 2>/dev/null; wait "$sim" 2>/dev/null || true' EXIT
sleep 0.5
./target/debug/interlock-station --data-dir "$data" demo-seed --relay "http://127.0.0.1:$port"
echo "data folder: $data (throwaway); relay simulator: http://127.0.0.1:$port (state: /sim/state)"
echo "make the relay fail: curl -X POST -H 'content-type: application/json' -d '{\"mode\":\"fail\"}' http://127.0.0.1:$port/sim/mode"
./target/debug/interlock-station --data-dir "$data"
