#!/usr/bin/env bash
# Runs today's case corpus against the code of the first edition of the
# rulings and reports, for each row of the second edition's change table,
# how many of the cases tagged "2nd ed. #N" fail there (and pass here, where
# `cargo test --test cases` runs them). Evidence that every change is covered
# by cases on its boundary.
#
#   scripts/first-edition-check.sh [COMMIT]   (default: the last first-edition commit)
#
# Builds the old code in a scratch worktree under target/ (a debug build with
# its own target directory: a few minutes on 2 cores the first time).
set -euo pipefail
cd "$(dirname "$0")/.."
commit="${1:-c3a01da}"
root=$(pwd)
work="$root/target/first-edition"
rm -rf "$work/tree"
mkdir -p "$work"
git worktree prune
git worktree add --force --detach "$work/tree" "$commit" >/dev/null
trap 'git worktree remove --force "$work/tree" >/dev/null 2>&1 || true' EXIT
# Today's corpora, less the contract field the old code does not know.
python3 - "$root/tests/cases" "$work/tree/tests/cases" <<'PY'
import glob, json, os, sys
src, dst = sys.argv[1], sys.argv[2]
def strip(o):
    if isinstance(o, dict):
        o.pop("withdrawal_information_given", None)
        for v in o.values():
            strip(v)
    elif isinstance(o, list):
        for v in o:
            strip(v)
for f in glob.glob(os.path.join(src, "*.json")):
    corpus = json.load(open(f, encoding="utf-8"))
    strip(corpus)
    json.dump(corpus, open(os.path.join(dst, os.path.basename(f)), "w", encoding="utf-8"), ensure_ascii=False)
PY
printf '\n#[test]\nfn statutory_floor() {\n    support::run_corpus("statutory-floor.json");\n}\n' >>"$work/tree/tests/cases.rs"
(cd "$work/tree" && CARGO_TARGET_DIR="$work/target" cargo test --test cases --no-fail-fast >"$work/log" 2>&1) || true
python3 - "$root/tests/cases" "$work/log" <<'PY'
import glob, json, os, re, sys
cases_dir, log = sys.argv[1], open(sys.argv[2], encoding="utf-8").read()
failed, current = {}, None
for line in log.splitlines():
    m = re.search(r"cases failed in (\S+\.json)", line)
    if m:
        current = m.group(1)
        failed.setdefault(current, set())
        continue
    m = re.match(r'(?:case|quote) "(.*)":', line)
    if m and current:
        failed[current].add(m.group(1))
rows = {}
for f in sorted(glob.glob(os.path.join(cases_dir, "*.json"))):
    name = os.path.basename(f)
    corpus = json.load(open(f, encoding="utf-8"))
    for case in corpus["cases"] + corpus.get("quotes", []):
        for group in re.findall(r"2nd ed\. ((?:#\d+(?:, )?)+)", case.get("rule", "")):
            for n in re.findall(r"#(\d+)", group):
                rows.setdefault(int(n), []).append(case["name"] in failed.get(name, set()))
print("| change | cases tagged | fail on the first edition |")
print("|---:|---:|---:|")
for n in sorted(rows):
    print(f"| #{n} | {len(rows[n])} | {sum(rows[n])} |")
missing = [n for n in range(1, 13) if not any(rows.get(n, []))]
if missing:
    print(f"changes with no case failing on the first edition: {missing}")
    sys.exit(1)
PY
