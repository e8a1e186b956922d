#!/usr/bin/env bash
# Server instructions per request, Health/Check and EvaluateClaim, counted by
# callgrind on the release server (one worker thread) under N calls from a
# client process, minus a run that only starts, answers the readiness probe
# and stops. The client is examples/callmix.rs (tonic, 4 connections, 8 calls
# in flight): EvaluateClaim sends the corpus's served claims round-robin,
# Health/Check an empty service name.
#
#   bench/callgrind-server.sh [requests]              (default 10000)
#   PRELOAD=/usr/lib/x86_64-linux-gnu/libmimalloc.so.2 bench/callgrind-server.sh
#   NO_BUILD=1 BIN=path/to/refund-eligibility bench/callgrind-server.sh
#   SERVER_ARGS="--decision-log off" bench/callgrind-server.sh   (extra server flags)
#   CALLGRIND_OUT=dir bench/callgrind-server.sh      (keep the callgrind files there)
# Traffic goes to 127.0.0.1 only; the server is stopped by its PID.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-10000}"
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
if [[ -z "${NO_BUILD:-}" ]]; then
    cargo build --release --bin refund-eligibility --example callmix >&2
fi
bin="${BIN:-target/release/refund-eligibility}"
client="${CLIENT:-target/release/examples/callmix}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

run() { # mode -> instructions collected over the whole server run
    local mode=$1 port mport pid
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    mport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    env ${PRELOAD:+LD_PRELOAD=$PRELOAD} TOKIO_WORKER_THREADS=1 valgrind --tool=callgrind \
        --callgrind-out-file="$work/$mode.cg" "$bin" --listen "127.0.0.1:$port" \
        --metrics-listen "127.0.0.1:$mport" --shutdown-grace 1s ${SERVER_ARGS:-} >/dev/null 2>"$work/$mode.log" &
    pid=$!
    for _ in $(seq 1 300); do
        "$client" --addr "http://127.0.0.1:$port" --rpc health --calls 1 --concurrency 1 --connections 1 \
            >/dev/null 2>&1 && break
        sleep 0.2
    done
    case $mode in
        health) "$client" --addr "http://127.0.0.1:$port" --rpc health --calls "$n" >&2 ;;
        evaluate) "$client" --addr "http://127.0.0.1:$port" --rpc evaluate --calls "$n" >&2 ;;
    esac
    kill -TERM "$pid"
    wait "$pid" || true
    if [[ -n "${CALLGRIND_OUT:-}" ]]; then mkdir -p "$CALLGRIND_OUT"; cp "$work/$mode.cg" "$CALLGRIND_OUT/"; fi
    grep -oE 'Collected : [0-9]+' "$work/$mode.log" | grep -oE '[0-9]+'
}

base=$(run none)
health=$(run health)
evaluate=$(run evaluate)
h=$(( (health - base) / n ))
e=$(( (evaluate - base) / n ))
echo "| build | Health/Check Ir/request | EvaluateClaim Ir/request | ratio E/H |"
echo "|---|---:|---:|---:|"
printf '| %s%s%s | %d | %d | %s |\n' "$bin" "${PRELOAD:+ + $(basename "$PRELOAD")}" "${SERVER_ARGS:+ $SERVER_ARGS}" "$h" "$e" \
    "$(python3 -c "print(f'{$e/$h:.2f}')")"
