#!/usr/bin/env bash
# What a slow log consumer does to the server: the release server's stdout
# piped into a reader that takes RATE bytes a second, against the same
# server with stdout on /dev/null. examples/callmix.rs sends N EvaluateClaim
# calls (the corpus's claims round-robin); during the slow run, five
# Health/Check calls are timed one by one. Prints the wall time of each run,
# the lines the reader got, and the health calls' times.
#
#   bench/slow-log.sh [calls] [rate bytes/s]      (defaults 20000, 200000)
#   NO_BUILD=1 BIN=... CLIENT=... bench/slow-log.sh
# Traffic goes to 127.0.0.1 only; every server is stopped by its PID.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-20000}"
rate="${2:-200000}"
if [[ -z "${NO_BUILD:-}" ]]; then
    cargo build --release --bin refund-eligibility --example callmix >&2
fi
bin="${BIN:-target/release/refund-eligibility}"
client="${CLIENT:-target/release/examples/callmix}"
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT

cat >"$work/reader.py" <<'PY'
import os, sys, time
rate = int(sys.argv[1]); total = lines = 0; t0 = time.time()
while True:
    chunk = os.read(0, 4096)
    if not chunk:
        break
    total += len(chunk); lines += chunk.count(b"\n")
    ahead = total / rate - (time.time() - t0)
    if ahead > 0:
        time.sleep(ahead)
print(f"reader: {lines} lines, {total} bytes in {time.time() - t0:.1f} s", file=sys.stderr)
PY

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_serving() {
    for _ in $(seq 1 100); do
        "$client" --addr "http://127.0.0.1:$1" --rpc health --calls 1 --concurrency 1 --connections 1 \
            >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "the server did not answer" >&2; exit 1
}
now() { date +%s.%N; }

# 1. stdout on /dev/null
port=$(free_port)
"$bin" --listen "127.0.0.1:$port" --metrics-listen off >/dev/null 2>&1 &
pids+=($!); fast_pid=$!
wait_serving "$port"
t0=$(now)
"$client" --addr "http://127.0.0.1:$port" --rpc evaluate --calls "$n" >/dev/null
t1=$(now)
kill -TERM "$fast_pid"; wait "$fast_pid" || true
echo "stdout on /dev/null: $n EvaluateClaim calls in $(python3 -c "print(f'{$t1-$t0:.2f}')") s"

# 2. stdout into a reader taking $rate bytes/s
port=$(free_port)
mkfifo "$work/pipe"
python3 "$work/reader.py" "$rate" <"$work/pipe" 2>"$work/reader.log" &
pids+=($!); reader_pid=$!
"$bin" --listen "127.0.0.1:$port" --metrics-listen off >"$work/pipe" 2>/dev/null &
pids+=($!); slow_pid=$!
wait_serving "$port"
t0=$(now)
"$client" --addr "http://127.0.0.1:$port" --rpc evaluate --calls "$n" >/dev/null &
load_pid=$!
sleep 2
for _ in 1 2 3 4 5; do
    h0=$(now)
    "$client" --addr "http://127.0.0.1:$port" --rpc health --calls 1 --concurrency 1 --connections 1 >/dev/null
    h1=$(now)
    echo "  Health/Check during the slow run: $(python3 -c "print(f'{($h1-$h0)*1000:.0f}')") ms (client start included)"
done
wait "$load_pid"
t1=$(now)
kill -TERM "$slow_pid"; wait "$slow_pid" || true
wait "$reader_pid" || true
echo "stdout into a reader at $rate bytes/s: $n EvaluateClaim calls in $(python3 -c "print(f'{$t1-$t0:.2f}')") s"
cat "$work/reader.log"
