#!/usr/bin/env bash
# The wire contract guard (docs/contract.md): buf lint, buf breaking against
# the committed image of the released contract, and a proof that the check
# bites: scratch copies of proto/ with a field renumbered, with a field
# renamed, and with an enum value renumbered must fail `buf breaking`, and a
# copy with a field added must pass it (so the failures are not a broken setup).
#
# Usage: scripts/contract-check.sh   (installs the pinned buf with npm ci)
set -euo pipefail
cd "$(dirname "$0")/.."

(cd tools/buf && npm ci --no-audit --no-fund --silent)
buf=tools/buf/node_modules/.bin/buf
echo "buf $($buf --version)"

echo "-- buf lint proto"
$buf lint proto
echo "-- buf breaking proto --against proto/contract.binpb"
$buf breaking proto --against proto/contract.binpb

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
contract=refund/eligibility/v1/eligibility.proto

# edit NAME SED-EXPRESSION: a fresh copy of proto/ with one line changed; the
# edit must have changed the file, or the test would prove nothing.
edit() {
  rm -rf "${scratch:?}/$1" && cp -r proto "$scratch/$1"
  sed -i "$2" "$scratch/$1/$contract"
  if cmp -s "proto/$contract" "$scratch/$1/$contract"; then
    echo "scratch edit '$1' changed nothing: fix the pattern in $0"; exit 1
  fi
}

# must_fail NAME RULE: buf breaking fails on the copy, naming RULE.
must_fail() {
  local out
  if out=$($buf breaking "$scratch/$1" --against proto/contract.binpb --error-format=json 2>&1); then
    echo "FAIL: '$1' passed buf breaking"; exit 1
  fi
  grep -q "\"type\":\"$2\"" <<<"$out" || { echo "FAIL: '$1' did not report $2:"; echo "$out"; exit 1; }
  echo "ok: '$1' fails buf breaking with $2"
}

edit renumbered-field 's/^  string request_id = 6;/  string request_id = 60;/'
must_fail renumbered-field FIELD_NO_DELETE

edit renamed-field 's/^  string locale = 5;/  string language = 5;/'
must_fail renamed-field FIELD_SAME_NAME

edit renumbered-enum-value 's/^  DECISION_DENIED = 3;/  DECISION_DENIED = 30;/'
must_fail renumbered-enum-value ENUM_VALUE_NO_DELETE

edit added-field 's/^  string request_id = 6;/  string request_id = 6;\n  string contract_check_probe = 99;/'
$buf lint "$scratch/added-field"
$buf breaking "$scratch/added-field" --against proto/contract.binpb
echo "ok: 'added-field' passes buf lint and buf breaking"
