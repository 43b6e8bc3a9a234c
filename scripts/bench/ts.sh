#!/usr/bin/env bash
# Registrations per second with durable receipts: `modelseal ts serve` on loopback, driven by
# examples/ts_load.rs with 1 client (every registration its own fsync) and with N concurrent
# clients (group commit shares fsyncs), and the in-process `local:` log, in one run.
#
#   scripts/bench/ts.sh                 # 2000 registrations, 1 and 32 clients
#   BENCH_TOTAL=5000 BENCH_CLIENTS=64 scripts/bench/ts.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TOTAL=${BENCH_TOTAL:-2000}
CLIENTS=${BENCH_CLIENTS:-32}
cd "$ROOT"
cargo build --release --quiet --bin modelseal --example ts_load
work=$(mktemp -d); trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for n in 1 "$CLIENTS"; do
  rm -rf "$work/ts"
  target/release/modelseal -q ts init --dir "$work/ts" --accept-any-issuer 2>/dev/null
  target/release/modelseal -q ts serve --dir "$work/ts" --listen 127.0.0.1:0 > "$work/url" 2>/dev/null &
  server=$!
  for _ in $(seq 1 100); do [ -s "$work/url" ] && break; sleep 0.05; done
  target/release/examples/ts_load "$(head -n1 "$work/url")" "$n" "$TOTAL"
  kill "$server"; wait "$server" 2>/dev/null || true
done
rm -rf "$work/ts"
target/release/modelseal -q ts init --dir "$work/ts" --accept-any-issuer 2>/dev/null
target/release/examples/ts_load "local:$work/ts" 1 "$TOTAL"
echo "(filesystem: $(df -T "$work" | awk 'NR==2 {print $2}'); each registration is acknowledged only after its commit's fsync)"
