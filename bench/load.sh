#!/usr/bin/env bash
# Over-the-wire load benchmark, one command: builds the release server and the
# driver, then runs examples/loadbench.rs (see its header for what it measures).
# Traffic goes to 127.0.0.1 only; every phase is bounded in time.
#
#   bench/load.sh                         defaults: workers 1,2; 4 clients x 8 streams;
#                                         3 rounds x 3 s per RPC; latency at half of each
#                                         RPC's saturation rate (--rate N: N req/s)
#   bench/load.sh --workers 2 --seconds 5 --rounds 5 --rate 1000 --log-level warn
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v h2load >/dev/null; then
    echo "h2load is needed: apt-get install nghttp2-client" >&2
    exit 1
fi
cargo build --release --bin refund-eligibility --example loadbench >&2
exec target/release/examples/loadbench "$@"
