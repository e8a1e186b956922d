#!/usr/bin/env bash
# Instructions per evaluation, per policy, counted by callgrind: stable on a
# shared, noisy machine where times are not. Only the example's measured_*
# functions are counted (corpus loading is left out), then divided by the
# number of calls the example reports.
#
#   bench/callgrind.sh [iterations]        (default 20 passes over each corpus)
#   NO_BUILD=1 bench/callgrind.sh          (reuse target/release/examples/evaluate_loop)
#   NO_BUILD=1 BIN=path bench/callgrind.sh (measure that build of the example)
set -euo pipefail
cd "$(dirname "$0")/.."
iterations="${1:-20}"
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
if [[ -z "${NO_BUILD:-}" ]]; then
    cargo build --release --example evaluate_loop >&2
fi
bin="${BIN:-target/release/examples/evaluate_loop}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

count() { # mode policy -> "instructions calls"
    local log="$out/$1.$2.log"
    valgrind --tool=callgrind --callgrind-out-file="$out/$1.$2.cg" --toggle-collect='*measured_*' \
        "$bin" "$1" "$2" "$iterations" >"$log.stdout" 2>"$log" || { cat "$log" >&2; return 1; }
    local ir calls
    ir=$(grep -oE 'Collected : [0-9]+' "$log" | grep -oE '[0-9]+')
    calls=$(grep -oE 'calls [0-9]+' "$log.stdout" | grep -oE '[0-9]+')
    echo "$ir $calls"
}

# One corpus per policy: tests/cases/<policy id>.json (the floor's own
# corpus, statutory-floor.json, spans several policies and is left out).
policies=$(for f in tests/cases/*.json; do
    p=$(basename "$f" .json)
    if grep -q "\"policy_id\": \"$p\"" "$f"; then echo "$p"; fi
done)
ratio() { awk -v x="$1" -v e="$2" 'BEGIN { printf "%.2f", x / e }'; }
printf '| policy | evaluate (Ir/claim) | evaluate with explain (Ir/claim) | explain / evaluate | explain, details written (Ir/claim) | written / evaluate | quote (Ir/quote) | wire EvaluateClaim (Ir/request) | wire with explain (Ir/request) | explain / wire | claims | quotes |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'
for p in $policies; do
    read -r e_ir e_calls < <(count evaluate "$p")
    read -r x_ir x_calls < <(count evaluate-explain "$p")
    read -r t_ir t_calls < <(count evaluate-explain-written "$p")
    read -r q_ir q_calls < <(count quote "$p")
    read -r w_ir w_calls < <(count wire "$p")
    read -r v_ir v_calls < <(count wire-explain "$p")
    printf '| %s | %d | %d | %s | %d | %s | %d | %d | %d | %s | %d | %d |\n' "$p" \
        $((e_ir / e_calls)) $((x_ir / x_calls)) "$(ratio "$x_ir" "$e_ir")" \
        $((t_ir / t_calls)) "$(ratio "$t_ir" "$e_ir")" \
        $((q_ir / q_calls)) $((w_ir / w_calls)) $((v_ir / v_calls)) "$(ratio "$v_ir" "$w_ir")" \
        $((e_calls / iterations)) $((q_calls / iterations))
done
