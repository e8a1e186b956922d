#!/usr/bin/env bash
# deploy/monitoring/ checked by the real tools (Debian's prometheus package:
# promtool and prometheus 2.42): the rules parse, their unit tests pass, and
# tests/monitoring.rs runs a live Prometheus against the service and checks
# every metric name the rules and the dashboard use against /metrics.
#
# Usage: scripts/monitoring-check.sh   (installs the package when missing)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
promtool --version | head -1

echo "-- promtool check rules"
promtool check rules deploy/monitoring/rules.yaml
echo "-- promtool test rules"
promtool test rules deploy/monitoring/rules.test.yaml
echo "-- dashboard JSON parses"
python3 -m json.tool deploy/monitoring/dashboard.json >/dev/null
echo "-- live Prometheus and metric names (tests/monitoring.rs; CI=true: no skipping)"
CI=true cargo test --test monitoring
