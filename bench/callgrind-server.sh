#!/usr/bin/env bash
# Server instructions per request, Health/Check and EvaluateClaim, counted by
# callgrind on the release server (one worker thread) under N requests from
# h2load, minus a run that only starts, answers the readiness probe and stops.
#
#   bench/callgrind-server.sh [requests]              (default 10000)
#   PRELOAD=/usr/lib/x86_64-linux-gnu/libmimalloc.so.2 bench/callgrind-server.sh
#   NO_BUILD=1 BIN=path/to/refund-eligibility bench/callgrind-server.sh
# Traffic goes to 127.0.0.1 only; the server is stopped by its PID.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-10000}"
for tool in valgrind h2load; do
    command -v "$tool" >/dev/null || { echo "$tool is needed (apt-get install valgrind nghttp2-client)" >&2; exit 1; }
done
if [[ -z "${NO_BUILD:-}" ]]; then
    cargo build --release --bin refund-eligibility --example loadbench >&2
fi
bin="${BIN:-target/release/refund-eligibility}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
target/release/examples/loadbench --frames-only "$work" >/dev/null
headers=(-H 'content-type: application/grpc' -H 'te: trailers')

run() { # mode -> instructions collected over the whole server run
    local mode=$1 port mport pid
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    mport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    env ${PRELOAD:+LD_PRELOAD=$PRELOAD} TOKIO_WORKER_THREADS=1 valgrind --tool=callgrind \
        --callgrind-out-file="$work/$mode.cg" "$bin" --listen "127.0.0.1:$port" \
        --metrics-listen "127.0.0.1:$mport" --shutdown-grace 1s >/dev/null 2>"$work/$mode.log" &
    pid=$!
    for _ in $(seq 1 300); do
        h2load -n1 -c1 -d "$work/health_check.grpc" "${headers[@]}" \
            "http://127.0.0.1:$port/grpc.health.v1.Health/Check" 2>/dev/null | grep -q "1 succeeded" && break
        sleep 0.2
    done
    case $mode in
        health) h2load -n "$n" -c 4 -m 8 -d "$work/health_check.grpc" "${headers[@]}" \
            "http://127.0.0.1:$port/grpc.health.v1.Health/Check" | grep -E "^requests:" >&2 ;;
        evaluate) h2load -n "$n" -c 4 -m 8 -d "$work/evaluate_claim.grpc" "${headers[@]}" \
            "http://127.0.0.1:$port/refund.eligibility.v1.EligibilityService/EvaluateClaim" | grep -E "^requests:" >&2 ;;
    esac
    kill -TERM "$pid"
    wait "$pid" || true
    grep -oE 'Collected : [0-9]+' "$work/$mode.log" | grep -oE '[0-9]+'
}

base=$(run none)
health=$(run health)
evaluate=$(run evaluate)
h=$(( (health - base) / n ))
e=$(( (evaluate - base) / n ))
echo "| build | Health/Check Ir/request | EvaluateClaim Ir/request | ratio H/E |"
echo "|---|---:|---:|---:|"
printf '| %s%s | %d | %d | %s |\n' "$bin" "${PRELOAD:+ + $(basename "$PRELOAD")}" "$h" "$e" \
    "$(python3 -c "print(f'{$h/$e:.2f}')")"
