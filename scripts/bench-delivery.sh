#!/usr/bin/env bash
# `make bench`: webhook delivery against a loopback nginx (Debian's; `return 200 '{}'`), release
# build. Drains 5,000 queued deliveries (3 runs) and reports deliveries/s over the process wall and
# over the send span (first to last request in nginx's log), the TCP connections opened (distinct
# nginx $connection), and pwrite calls per delivery (strace -c -f). In the same invocation the
# peers send 5,000 POSTs to the same nginx: the station's HTTP client alone (reqwest, 64 loops, no
# outbox or database), a Python aiohttp loop at concurrency 50, Python requests (one kept-alive
# session) and a curl loop (one process per request; 500 requests);
# then head of line (300 fast deliveries beside one 2 s webhook) and fan-out (10 webhooks x 200 ms).
set -euo pipefail
cd "$(dirname "$0")/.."

N=${BENCH_N:-5000}
RUNS=${BENCH_RUNS:-3}
PY=/usr/bin/python3

need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
$PY -c 'import aiohttp' 2>/dev/null || need+=(python3-aiohttp)
$PY -c 'import requests' 2>/dev/null || need+=(python3-requests)
command -v strace >/dev/null 2>&1 || need+=(strace)
if ((${#need[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "bench: installing Debian packages: ${need[*]}"
  $sudo apt-get update -qq -o DPkg::Lock::Timeout=600
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
    --no-install-recommends "${need[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# BENCH_BIN=path: measure that (already built) bench_delivery instead, e.g. an older build for a
# side-by-side comparison under the same load.
if [ -n "${BENCH_BIN:-}" ]; then
  BIN=$BENCH_BIN
else
  cargo build --release -q -p interlock-core --example bench_delivery
  BIN=${CARGO_TARGET_DIR:-target}/release/examples/bench_delivery
fi

work=$(mktemp -d)
port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/nginx/logs" "$work/nginx/tmp"
cat >"$work/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events { worker_connections 4096; }
http {
  log_format bench '\$connection \$msec';
  access_log $work/nginx/logs/access.log bench buffer=1m flush=50ms;
  keepalive_requests 1000000;
  client_body_temp_path $work/nginx/tmp/body;
  proxy_temp_path $work/nginx/tmp/proxy;
  fastcgi_temp_path $work/nginx/tmp/fastcgi;
  uwsgi_temp_path $work/nginx/tmp/uwsgi;
  scgi_temp_path $work/nginx/tmp/scgi;
  server {
    listen 127.0.0.1:$port;
    location / { return 200 '{}'; }
  }
}
EOF
"$NGINX" -p "$work/nginx" -c "$work/nginx/nginx.conf"
cleanup() {
  [ -f "$work/nginx/nginx.pid" ] && kill "$(cat "$work/nginx/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
URL="http://127.0.0.1:$port/hook"
LOG="$work/nginx/logs/access.log"
sleep 0.3

# Lines of the access log written since line $1: "count connections span_ms first_ms last_ms".
log_since() {
  sleep 0.2 # the log is flushed every 50 ms
  tail -n +"$(($1 + 1))" "$LOG" | awk '{c[$1]=1; t=$2*1000; if(n==0||t<lo)lo=t; if(t>hi)hi=t; n++}
    END {k=0; for(x in c)k++; printf "%d %d %.0f %.0f %.0f\n", n, k, hi-lo, lo, hi}'
}
lines() { wc -l <"$LOG"; }

echo "bench: $N queued deliveries, loopback nginx on :$port, $(nproc) cores, release build"
rates=()
spans=()
for run in $(seq 1 "$RUNS"); do
  d="$work/run$run"
  mkdir -p "$d"
  "$BIN" seed "$d" "$URL" "$N"
  before=$(lines)
  out=$("$BIN" drain "$d")
  read -r count conns span _ _ <<<"$(log_since "$before")"
  wall=$($PY -c "import json,sys; print(json.loads(sys.argv[1])['wall_s'])" "$out")
  rate=$($PY -c "print(round($N/$wall))")
  srate=$($PY -c "print(round($count/max($span,1)*1000))")
  rates+=("$rate")
  spans+=("$srate")
  printf '  run %d: %d delivered, wall %.3f s = %d/s; send span %d ms = %d/s; %d connections opened\n' \
    "$run" "$count" "$wall" "$rate" "$span" "$srate" "$conns"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
station_rate=$(median "${rates[@]}")
station_span=$(median "${spans[@]}")

# pwrite calls per delivery (a separate run under strace, which slows it down).
d="$work/strace"
mkdir -p "$d"
"$BIN" seed "$d" "$URL" "$N"
strace -c -f -o "$work/strace.txt" "$BIN" drain "$d" >/dev/null
pwrites=$(awk '$NF=="pwrite64"{print $4}' "$work/strace.txt")
fsyncs=$(awk '$NF=="fdatasync"||$NF=="fsync"{s+=$4} END {print s+0}' "$work/strace.txt")
per=$($PY -c "print(round(${pwrites:-0}/$N, 2))")

# Peers, same receiver, same body.
body='{"site":"B2","order_id":null,"event_id":"01J0000000000000000000000"}'
peer() { # name, command...; prints the rate of $N (or $2 requests) over the span in the log
  local name=$1 n=$2
  shift 2
  local before start end
  before=$(lines)
  start=$($PY -c 'import time; print(time.time())')
  "$@" >/dev/null
  end=$($PY -c 'import time; print(time.time())')
  read -r count conns _ _ _ <<<"$(log_since "$before")"
  $PY -c "
n=$count; w=$end-$start
print('%s %d %.3f %d %d' % ('$name', n, w, round(n/w), $conns))"
}
aio=$(peer aiohttp-50 "$N" $PY -c "
import asyncio, aiohttp
async def main():
    sem = asyncio.Semaphore(50)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=50)) as s:
        async def one():
            async with sem:
                async with s.post('$URL', data='$body', headers={'content-type': 'application/json'}) as r:
                    await r.read()
        await asyncio.gather(*(one() for _ in range($N)))
asyncio.run(main())")
req=$(peer requests "$N" $PY -c "
import requests
s = requests.Session()
for _ in range($N):
    s.post('$URL', data='$body', headers={'content-type': 'application/json'}).content")
# The station's own HTTP client (reqwest) alone, 64 concurrent loops, no outbox: the ceiling the
# drain works under on this machine.
hbefore=$(lines)
hout=$("$BIN" http "$URL" "$N")
read -r hcount hconns _ _ _ <<<"$(log_since "$hbefore")"
hwall=$($PY -c "import json,sys; print(json.loads(sys.argv[1])['wall_s'])" "$hout")
http_alone="client-alone-64 $hcount $hwall $($PY -c "print(round($hcount/$hwall))") $hconns"
crl=$(peer curl-loop 500 bash -c "for i in \$(seq 500); do curl -s -o /dev/null -X POST -H 'content-type: application/json' -d '$body' '$URL'; done")

# Head of line: 300 fast deliveries beside one webhook that answers after 2 s.
before=$(lines)
hol=$("$BIN" hol "$URL")
read -r _ _ _ _ last <<<"$(log_since "$before")"
hstart=$($PY -c "import json,sys; print(json.loads(sys.argv[1])['start_ms'])" "$hol")
late=$(tail -n +"$((before + 1))" "$LOG" | awk -v s="$hstart" '$2*1000 - s > 1000 {n++} END {print n+0}')
hol_last=$($PY -c "print(round($last - $hstart))")

fan=$("$BIN" fanout)

echo
echo "| what | deliveries/s | vs station send span | connections |"
echo "|---|---:|---:|---:|"
printf '| station drain, process wall (median of %d) | %d | | |\n' "$RUNS" "$station_rate"
printf '| station drain, send span (median of %d) | %d | 1.00 | %s |\n' "$RUNS" "$station_span" "$conns"
for p in "$http_alone" "$aio" "$req" "$crl"; do
  read -r name n wall rate c <<<"$p"
  printf '| %s (%d requests, %.2f s) | %d | %.2f | %d |\n' "$name" "$n" "$wall" "$rate" \
    "$($PY -c "print($station_span/$rate)")" "$c"
done
echo
echo "pwrite64 calls per delivery: $per ($pwrites for $N; fsync/fdatasync: $fsyncs)"
echo "head of line: 300 fast beside a 2 s webhook: last fast one $hol_last ms after the drain started; $late started after 1 s"
echo "$fan"
