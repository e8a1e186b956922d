#!/usr/bin/env bash
# Heap allocations per served call, Health/Check and EvaluateClaim (issue 13):
# tests/served_allocations.rs in the release build (or PROFILE=debug), which
# starts the server in process on 127.0.0.1:0 with the default configuration,
# drives it with a raw HTTP/2 client that allocates nothing per call, and
# counts every allocation and reallocation with a counting global allocator.
# It prints the figures and fails if one is over its ceiling.
#
#   bench/allocs.sh                  release build (fat LTO: several minutes cold)
#   PROFILE=debug bench/allocs.sh    debug build, seconds
set -euo pipefail
cd "$(dirname "$0")/.."
case "${PROFILE:-release}" in
    release) profile=(--release) ;;
    debug) profile=() ;;
    *) echo "PROFILE is release or debug" >&2; exit 2 ;;
esac
cargo test "${profile[@]}" --test served_allocations -- --nocapture 2>&1 \
    | sed -n '/^heap allocations per served call/,/idle control/p; /panicked/,/^$/p'
