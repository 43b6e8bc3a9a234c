#!/usr/bin/env bash
# `discover --verify` over a wide referrer index: the seed's model manifest with its real
# transparent statement and N-1 other referrers (default N=100), on the loopback registry and in
# an OCI layout. Prints wall time (target: under 1 s on loopback) — a bench, not a test.
#
#   scripts/bench/verify.sh            # N=100
#   BENCH_REFERRERS=300 scripts/bench/verify.sh
set -euo pipefail
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
N=${BENCH_REFERRERS:-100}
if [ -z "${MODELSEAL_TEST_REGISTRY:-}" ]; then
  (cd "$ROOT" && cargo build --release --quiet)
  exec "$ROOT/scripts/registry.sh" -- bash "$0"
fi
bin=$ROOT/target/release/modelseal
V=$ROOT/../shared/vectors/scitt-for-phi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cp "$V/model-manifest.json" "$V/2ts-statement.scitt" "$V"/*.pem "$work/"
# The trusted root: the last certificate of the statement's x5chain (cbor2 from the interop venv).
[ -x "$ROOT/target/venv/bin/python" ] || "$ROOT/scripts/interop.sh" >/dev/null
"$ROOT/target/venv/bin/python" - "$V/signed-statement.scitt" "$work/root.der" <<'PY'
import sys, cbor2
s = cbor2.loads(open(sys.argv[1], 'rb').read()).value
open(sys.argv[2], 'wb').write(cbor2.loads(s[0])[33][2])
PY
cat > "$work/policy.toml" <<POL
version = 1
[[policy]]
name = "phi"
scopes = ["*"]
min_receipts = 2
[[policy.issuers]]
root = "root.der"
[[policy.transparency_services]]
name = "ccf"
key = "ccf-service-key.pem"
[[policy.transparency_services]]
name = "mmr"
key = "mmr-service-key.pem"
POL
for target in "registry:$MODELSEAL_TEST_REGISTRY/bench/verify:v1" "layout:$work/layout:v1"; do
  kind=${target%%:*}; ref=${target#*:}
  flags=(); [ "$kind" = layout ] && flags=(--oci-layout)
  "$bin" -q push "${flags[@]}" "$ref" "$work/model-manifest.json" >/dev/null
  "$bin" -q attach "${flags[@]}" "$ref" "$work/2ts-statement.scitt" >/dev/null
  for i in $(seq 2 "$N"); do
    printf '{"sbom": %d}' "$i" > "$work/sbom.json"
    "$bin" -q attach "${flags[@]}" "$ref" "$work/sbom.json:application/json" --artifact-type example/sbom >/dev/null
  done
  start=$EPOCHREALTIME
  "$bin" discover "${flags[@]}" --verify "$ref" --policy "$work/policy.toml" > "$work/out.txt"
  end=$EPOCHREALTIME
  grep -q "policy met" "$work/out.txt" || { cat "$work/out.txt"; exit 1; }
  awk -v s="$start" -v e="$end" -v n="$N" -v k="$kind" 'BEGIN { printf "discover --verify, %s, %d referrers: %.3f s\n", k, n, e - s }'
done
