#!/usr/bin/env bash
# Bulk evaluation, one command, one run: over one connection, streaming
# EvaluateClaims against unary EvaluateClaim at the same concurrency
# (examples/streambench.rs), then the JSON-lines CLI over the corpus claims
# repeated to a million lines under /usr/bin/time -v (peak RSS, CPU time).
# Prints the load average first and last: the machine may be shared.
#
#   bench/stream.sh [--concurrency 8] [--seconds 3] [--rounds 3] [--jobs 2] [--lines 1000000] [--only stream|cli]
# --only stream or --only cli runs one of the two phases.
# BIN_DIR=dir uses already built `refund-eligibility` and `streambench` there.
set -euo pipefail
cd "$(dirname "$0")/.."
concurrency=8 seconds=3 rounds=3 jobs=2 lines=1000000 only=
while [ $# -gt 0 ]; do
    case "$1" in
        --concurrency) concurrency=$2 ;;
        --seconds) seconds=$2 ;;
        --rounds) rounds=$2 ;;
        --jobs) jobs=$2 ;;
        --lines) lines=$2 ;;
        --only) only=$2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
    shift 2
done
case "$only" in ''|stream|cli) ;; *) echo "--only takes stream or cli" >&2; exit 2 ;; esac
if [ -z "${BIN_DIR:-}" ]; then
    cargo build --release --bin refund-eligibility --example streambench >&2
    BIN_DIR=${CARGO_TARGET_DIR:-target}/release
    bench_bin=$BIN_DIR/examples/streambench
else
    bench_bin=$BIN_DIR/streambench
fi
server_bin=$BIN_DIR/refund-eligibility
work=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
if [ "$only" != cli ]; then
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$server_bin" serve --listen "127.0.0.1:$port" --metrics-listen off --log-level warn &
server_pid=$!
for _ in $(seq 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    sleep 0.1
done
"$bench_bin" --addr "http://127.0.0.1:$port" --concurrency "$concurrency" --seconds "$seconds" --rounds "$rounds" --server-pid "$server_pid"
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
fi
if [ "$only" != stream ]; then

"$bench_bin" --write-jsonl "$work/claims.jsonl" --lines "$lines"
echo "JSON lines: $lines lines, $(du -m "$work/claims.jsonl" | cut -f1) MiB, --jobs $jobs"
# Answers counted by wc, not written to disk: the disk is not what is measured.
/usr/bin/time -v -o "$work/time.txt" "$server_bin" evaluate --jsonl "$work/claims.jsonl" --jobs "$jobs" \
    2> "$work/stderr.txt" | wc -l > "$work/answers.txt" || true
python3 - "$work/time.txt" "$lines" "$work/answers.txt" "$work/stderr.txt" <<'PY'
import sys
t = {}
for line in open(sys.argv[1]):
    if ':' in line:
        k, _, v = line.strip().rpartition(': ')
        t[k] = v
lines = int(sys.argv[2])
wall = t['Elapsed (wall clock) time (h:mm:ss or m:ss)'].split(':')
seconds = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall)))
cpu = float(t['User time (seconds)']) + float(t['System time (seconds)'])
answers = int(open(sys.argv[3]).read())
failed = open(sys.argv[4]).read().strip()
print(f"JSON lines CLI: {answers} answers in {seconds:.2f} s = {lines / seconds:.0f} claims/s; "
      f"CPU {cpu:.2f} s = {lines / cpu:.0f} claims per CPU-second; "
      f"peak RSS {int(t['Maximum resident set size (kbytes)']) / 1024:.1f} MiB; "
      f"CPU use {t['Percent of CPU this job got']}" + (f" ({failed})" if failed else ""))
PY
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
