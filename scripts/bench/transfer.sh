#!/usr/bin/env bash
# Push and pull a model to the loopback registry (scripts/registry.sh) with modelseal and with
# oras-py (PyPI `oras`), in one run: throughput, peak RSS (GNU time -v), and the ratios; and the
# ceiling: curl moving the same blobs monolithically (one PUT each, then parallel GETs to disk).
# modelseal pushes twice: chunked (the default 32 MiB chunks) and monolithic (--chunk-size
# larger than any file), so the cost of chunking shows.
#
#   scripts/bench/transfer.sh                      # 2 GiB model: 4 files of 512 MiB
#   BENCH_SIZE_MIB=256 scripts/bench/transfer.sh   # scaled down, for a quick run
#   CARGO_TARGET_DIR, BENCH_VENV                   # where the release build and oras-py's venv are
#
# Bytes on the wire with cuts (a cut every BENCH_CUT_MIB, default 256; uploads cut between
# whole requests, downloads at the byte) are counted at the test front of tests/it/transfer.rs
# (`bytes_on_the_wire_with_cuts`, run here on the same size).
#
# Each tool pushes to its own repository (distribution links blobs per repository, so neither
# tool finds the other's blobs already there) and pulls into its own empty directory.
set -euo pipefail
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SIZE_MIB=${BENCH_SIZE_MIB:-2048}
FILES=4
VENV=${BENCH_VENV:-$ROOT/target/venv}
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/modelseal

if [ -z "${MODELSEAL_TEST_REGISTRY:-}" ]; then
  (cd "$ROOT" && cargo build --release --quiet)
  [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import oras' 2>/dev/null || "$ROOT/scripts/interop.sh" >/dev/null
  exec "$ROOT/scripts/registry.sh" -- bash "$0"
fi
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (apt-get install time)" >&2; exit 2; }

work=$(mktemp -d "${BENCH_DIR:-/tmp}/modelseal-transfer.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/model"
echo "== generating $SIZE_MIB MiB in $FILES files"
for i in $(seq 1 $FILES); do
  head -c $((SIZE_MIB / FILES * 1024 * 1024)) /dev/urandom > "$work/model/part-$i.bin"
done
bytes=$(du -cb "$work"/model/*.bin | tail -1 | cut -f1)
files=("$work"/model/*.bin)
R=$MODELSEAL_TEST_REGISTRY

# measure NAME CMD... → "seconds rss_kib"
measure() {
  local out=$work/time.txt
  /usr/bin/time -v -o "$out" "$@" >/dev/null
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$out")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out")
  echo "$wall $rss"
}

cd "$work/model"
names=(); for f in "${files[@]}"; do names+=("$(basename "$f"):application/octet-stream"); done
read -r our_push our_push_rss < <(measure "$BIN" -q push "$R/bench/ours:v1" "${names[@]}" --artifact-type example/model)
read -r our_pull our_pull_rss < <(measure "$BIN" -q pull "$R/bench/ours:v1" -o "$work/ours-out")
read -r mono_push mono_push_rss < <(measure "$BIN" -q push "$R/bench/mono:v1" "${names[@]}" --artifact-type example/model --chunk-size 64G)

# The ceiling: curl, one monolithic PUT per blob (sequential, as uploads to one session go),
# then all GETs at once to disk.
declare -A sums
for f in "${files[@]}"; do sums[$f]=$(sha256sum "$f" | cut -d' ' -f1); done
curl_push_real() {
  for f in "${files[@]}"; do
    local loc
    loc=$(curl -s -D - -o /dev/null -X POST "http://$R/v2/bench/curl/blobs/uploads/" | awk -F': ' 'tolower($1)=="location" {print $2}' | tr -d '\r')
    case "$loc" in http*) ;; *) loc="http://$R$loc" ;; esac
    curl -s -f -o /dev/null -T "$f" -H 'Content-Type: application/octet-stream' "$loc&digest=sha256:${sums[$f]}"
  done
}
curl_pull() {
  mkdir -p "$work/curl-out"
  local pids=()
  for f in "${files[@]}"; do
    curl -s -f -o "$work/curl-out/$(basename "$f")" "http://$R/v2/bench/curl/blobs/sha256:${sums[$f]}" & pids+=($!)
  done
  wait "${pids[@]}"
}
t0=$EPOCHREALTIME; curl_push_real; t1=$EPOCHREALTIME; curl_pull; t2=$EPOCHREALTIME
curl_push_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b-a}')
curl_pull_s=$(awk -v a="$t1" -v b="$t2" 'BEGIN {print b-a}')
cmp -s "$work/curl-out/part-1.bin" "$work/model/part-1.bin" || { echo "curl pull differs" >&2; exit 1; }

cat > "$work/peer_transfer.py" <<PY
import sys, oras.client
c = oras.client.OrasClient(hostname="$R", insecure=True)
if sys.argv[1] == "push":
    c.push(target="$R/bench/theirs:v1", files=sys.argv[2:], disable_path_validation=True)
else:
    c.pull(target="$R/bench/theirs:v1", outdir=sys.argv[2])
PY
read -r peer_push peer_push_rss < <(measure "$VENV/bin/python" "$work/peer_transfer.py" push "${names[@]}")
read -r peer_pull peer_pull_rss < <(measure "$VENV/bin/python" "$work/peer_transfer.py" pull "$work/theirs-out")

cmp -s "$work/ours-out/part-1.bin" "$work/model/part-1.bin" || { echo "our pull differs" >&2; exit 1; }
wire=$(cd "$ROOT" && BENCH_WIRE_MIB=$SIZE_MIB BENCH_CUT_MIB=${BENCH_CUT_MIB:-256} \
  cargo test --quiet --test it -- --ignored --nocapture transfer::bytes_on_the_wire_with_cuts 2>/dev/null | grep '^wire:' || echo "wire: (not measured)")
awk -v b="$bytes" -v op="$our_push" -v opr="$our_push_rss" -v ol="$our_pull" -v olr="$our_pull_rss" \
    -v pp="$peer_push" -v ppr="$peer_push_rss" -v pl="$peer_pull" -v plr="$peer_pull_rss" \
    -v mp="$mono_push" -v mpr="$mono_push_rss" -v cp="$curl_push_s" -v cl="$curl_pull_s" 'BEGIN {
  printf "\n== %.2f GB over loopback to Debian docker-registry (%d files)\n", b/1e9, '"$FILES"'
  printf "%-22s %8s %9s %12s\n", "", "seconds", "GB/s", "peak RSS"
  printf "%-22s %8.2f %9.2f %9.1f MiB\n", "modelseal push", op, b/1e9/op, opr/1024
  printf "%-22s %8.2f %9.2f %9.1f MiB\n", "oras-py push", pp, b/1e9/pp, ppr/1024
  printf "%-22s %8.2f %9.2f %9.1f MiB\n", "modelseal pull", ol, b/1e9/ol, olr/1024
  printf "%-22s %8.2f %9.2f %9.1f MiB\n", "oras-py pull", pl, b/1e9/pl, plr/1024
  printf "%-22s %8.2f %9.2f %9.1f MiB\n", "modelseal push mono", mp, b/1e9/mp, mpr/1024
  printf "%-22s %8.2f %9.2f %12s\n", "curl PUT (ceiling)", cp, b/1e9/cp, "-"
  printf "%-22s %8.2f %9.2f %12s\n", "curl GET x4 (ceiling)", cl, b/1e9/cl, "-"
  printf "\nspeed-up vs oras-py: push %.2fx, pull %.2fx; peak RSS oras-py/modelseal: push %.1fx, pull %.1fx\n", pp/op, pl/ol, ppr/opr, plr/olr
  printf "share of the curl ceiling: push %.0f%% (monolithic %.0f%%), pull %.0f%%\n", 100*cp/op, 100*cp/mp, 100*cl/ol
}'
echo "$wire"
