#!/usr/bin/env bash
# The library without default features (what a model server depends on with
# `default-features = false`): it must build, and its dependency tree must have none of the
# CLI's, the server's or the log's crates. Run by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --lib --no-default-features

forbidden=(clap anyhow indicatif axum redb)
tree=$(cargo tree -e normal --no-default-features --prefix none --format '{p}')
found=()
for crate in "${forbidden[@]}"; do
  if grep -qE "^${crate} v" <<<"$tree"; then
    found+=("$crate")
  fi
done
if [ ${#found[@]} -gt 0 ]; then
  echo "error: 'cargo tree -e normal --no-default-features' has ${found[*]}:" >&2
  echo "       the library without features must not depend on the CLI, server or log crates." >&2
  echo "       Make the dependency optional behind its feature (Cargo.toml, docs/architecture.md);" >&2
  echo "       who pulls it in: cargo tree -e normal --no-default-features -i ${found[0]}" >&2
  exit 1
fi
echo "library without default features: builds; none of ${forbidden[*]} in its tree"
