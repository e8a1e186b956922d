#!/bin/sh
# Writes empty stand-ins for the crate's targets next to Cargo.toml, so that
# `cargo build` can compile every dependency before the real source is
# copied in (the Dockerfile's cached dependency layer). Targets: src/main.rs,
# src/lib.rs, and every [[bin]], [[bench]], [[test]] and [[example]] the
# manifest declares (at its `path`, or where Cargo looks for it by name).
set -eu
mkdir -p src
echo 'fn main() {}' > src/main.rs
: > src/lib.rs
awk '
  /^\[\[(bin|bench|test|example)\]\]/ {
    kind = $0; gsub(/[][]/, "", kind); name = ""; path = ""; inside = 1; next
  }
  /^\[/ { if (inside) emit(); inside = 0; next }
  inside && /^name *=/ { name = $0; sub(/^name *= *"/, "", name); sub(/".*/, "", name) }
  inside && /^path *=/ { path = $0; sub(/^path *= *"/, "", path); sub(/".*/, "", path) }
  END { if (inside) emit() }
  function emit() {
    if (path == "") {
      dir = (kind == "bin") ? "src/bin" : (kind == "bench") ? "benches" : (kind == "test") ? "tests" : "examples"
      path = dir "/" name ".rs"
    }
    print path
  }
' Cargo.toml | while read -r target; do
  mkdir -p "$(dirname "$target")"
  [ -e "$target" ] || echo 'fn main() {}' > "$target"
done
