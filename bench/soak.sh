#!/usr/bin/env bash
# Soak (issue 15, case 6): the release server at a steady 50 % of its measured
# saturation, mixed EvaluateClaim / QuoteRefund / ListPolicies over every
# policy, over clients whose connections the server ages (--max-connection-age),
# with RSS, file descriptors and threads sampled. Exits non-zero on a failed
# call, RSS drifting beyond ±10 % after warm-up, or fds / threads not back to
# their level before the load. Traffic goes to 127.0.0.1 only.
#
#   bench/soak.sh            10 minutes (the figures in docs/reliability.md)
#   bench/soak.sh 30         30 seconds (what .ci/run runs)
#   bench/soak.sh 600 --clients 8 --max-connection-age 10s
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
shift || true
cargo build --release --locked --bin refund-eligibility --example soak >&2
target_dir="${CARGO_TARGET_DIR:-target}"
exec "$target_dir/release/examples/soak" --binary "$target_dir/release/refund-eligibility" --seconds "$seconds" "$@"
