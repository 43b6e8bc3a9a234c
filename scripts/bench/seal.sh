#!/usr/bin/env bash
# `seal` of a ModelPack artifact another tool pushed, against `publish` of the same model, on the
# loopback registry (scripts/registry.sh), in one run. The model (2 GiB by default: 4 random files
# and a config.json) is pushed unsigned with `push --modelpack` (what modctl or KitOps
# would do), then timed best of BENCH_RUNS (default 3), with peak RSS (GNU time -v):
#   - `seal REF --also-sigstore-bundle` of it (hash from the layers' descriptors, sign, attach the
#     statement and the cosign-shaped bundle: no byte of the weights is read),
#   - the same `seal` of a 2 MiB ModelPack artifact: seal must not grow with the model's size,
#   - `publish DIR REF --modelpack --also-sigstore-bundle` of the 2 GiB model to a fresh
#     repository each run (hash every byte, push every byte, sign, attach).
# Issue 15: seal's time is the small artifact's, whatever the model's size. On distribution (no
# referrers API) each attach waits at least a second for the tag-schema index to settle
# (oci/registry.rs INDEX_SETTLE), so a seal with the bundle, two attaches, costs about 2 s.
# Measured 2026-11-29 (2 shared cores, loopback): seal 2.10 s (2 GiB) and 2.08 s (2 MiB), 14.8 MiB
# peak RSS; publish 12.91 s, 26.1 MiB. Later the same day, publish reading each file once (its
# layers take the model manifest's digests) and hashing on the blocking pool: 8.35 s, 25.5 MiB.
#
#   scripts/bench/seal.sh                      # 2 GiB
#   BENCH_SIZE_MIB=256 scripts/bench/seal.sh   # scaled down, for a quick run
set -euo pipefail
export LC_ALL=C
SIZE_MIB=${BENCH_SIZE_MIB:-2048}
FILES=4
RUNS=${BENCH_RUNS:-3}

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
on_loopback_registry seal
make_model() { # DIR MIB
  mkdir -p "$1"
  for i in $(seq 1 $FILES); do
    head -c $(($2 * 1024 * 1024 / FILES)) /dev/urandom > "$1/part-$i.safetensors"
  done
  printf '{"torch_dtype":"bfloat16"}' > "$1/config.json"
}
echo "== generating $SIZE_MIB MiB in $FILES files, and a 2 MiB model"
make_model "$work/big" "$SIZE_MIB"
make_model "$work/small" 2
bytes=$(du -cb "$work"/big/* | tail -1 | cut -f1)
"$bin" -q key generate -o "$work/dev" >/dev/null

echo "== pushing both unsigned (push --modelpack), as another tool would"
"$bin" -q push --modelpack "$work/big" "$R/bench/big:v1" >/dev/null
"$bin" -q push --modelpack "$work/small" "$R/bench/small:v1" >/dev/null

sign=(--key "$work/dev.key" --issuer https://publisher.example --also-sigstore-bundle)

: > "$work/seal-big.txt"; : > "$work/seal-small.txt"; : > "$work/publish.txt"
for run in $(seq 1 "$RUNS"); do
  echo "== run $run/$RUNS"
  measure "$bin" -q seal "$R/bench/big:v1" "${sign[@]}" >> "$work/seal-big.txt"
  measure "$bin" -q seal "$R/bench/small:v1" "${sign[@]}" >> "$work/seal-small.txt"
  sync
  measure "$bin" -q publish "$work/big" "$R/bench/publish-$run:v1" --modelpack "${sign[@]}" \
    >> "$work/publish.txt"
  echo "   seal 2 GiB $(tail -1 "$work/seal-big.txt" | cut -d' ' -f1) s, seal 2 MiB $(tail -1 "$work/seal-small.txt" | cut -d' ' -f1) s, publish $(tail -1 "$work/publish.txt" | cut -d' ' -f1) s"
done
# The sealed artifact verifies (statement and bundle), and its digest is the one pushed.
cat > "$work/policy.toml" <<EOF
version = 2
[[policy]]
name = "bench"
scopes = ["$R/bench/*"]
required_artifact_types = ["scitt/transparent-statement", "application/vnd.dev.sigstore.bundle.v0.3+json"]
[[policy.issuers]]
key = "$work/dev.pub"
iss = "https://publisher.example"
EOF
"$bin" -q discover --verify "$R/bench/big:v1" --policy "$work/policy.toml" >/dev/null \
  || { echo "the sealed artifact does not verify" >&2; exit 1; }

read -r big_s big_rss < <(best < "$work/seal-big.txt")
read -r small_s small_rss < <(best < "$work/seal-small.txt")
read -r pub_s pub_rss < <(best < "$work/publish.txt")
awk -v b="$bytes" -v bs="$big_s" -v br="$big_rss" -v ss="$small_s" -v sr="$small_rss" \
    -v ps="$pub_s" -v pr="$pub_rss" -v runs="$RUNS" 'BEGIN {
  printf "\n== ModelPack, %.2f GB in '"$FILES"' files, loopback Debian docker-registry (best of %d; peak RSS the max)\n", b/1e9, runs
  printf "%-52s %8s %12s\n", "", "seconds", "peak RSS"
  printf "%-52s %8.2f %9.1f MiB\n", "seal --also-sigstore-bundle, the 2 GiB artifact", bs, br/1024
  printf "%-52s %8.2f %9.1f MiB\n", "seal --also-sigstore-bundle, a 2 MiB artifact", ss, sr/1024
  printf "%-52s %8.2f %9.1f MiB\n", "publish --modelpack --also-sigstore-bundle", ps, pr/1024
  printf "seal(2 GiB) / seal(2 MiB) = %.2f; publish / seal = %.0f\n", bs/ss, ps/bs
}'
