#!/usr/bin/env bash
# Push and pull a model to the loopback registry (scripts/registry.sh) with modelseal and with
# oras-py (PyPI `oras`), in one run: throughput, peak RSS (GNU time -v), and the ratios.
#
#   scripts/bench/transfer.sh                      # 2 GiB model: 4 files of 512 MiB
#   BENCH_SIZE_MIB=256 scripts/bench/transfer.sh   # scaled down, for a quick run
#
# Each tool pushes to its own repository (distribution links blobs per repository, so neither
# tool finds the other's blobs already there) and pulls into its own empty directory.
set -euo pipefail
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SIZE_MIB=${BENCH_SIZE_MIB:-2048}
FILES=4
VENV=$ROOT/target/venv

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
read -r our_push our_push_rss < <(measure "$ROOT/target/release/modelseal" -q push "$R/bench/ours:v1" "${names[@]}" --artifact-type example/model)
read -r our_pull our_pull_rss < <(measure "$ROOT/target/release/modelseal" -q pull "$R/bench/ours:v1" -o "$work/ours-out")

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
awk -v b="$bytes" -v op="$our_push" -v opr="$our_push_rss" -v ol="$our_pull" -v olr="$our_pull_rss" \
    -v pp="$peer_push" -v ppr="$peer_push_rss" -v pl="$peer_pull" -v plr="$peer_pull_rss" 'BEGIN {
  printf "\n== %.2f GB over loopback to Debian docker-registry (%d files)\n", b/1e9, '"$FILES"'
  printf "%-22s %8s %9s %12s\n", "", "seconds", "GB/s", "peak RSS"
  printf "%-22s %8.2f %9.2f %9.1f MiB\n", "modelseal push", op, b/1e9/op, opr/1024
  printf "%-22s %8.2f %9.2f %9.1f MiB\n", "oras-py push", pp, b/1e9/pp, ppr/1024
  printf "%-22s %8.2f %9.2f %9.1f MiB\n", "modelseal pull", ol, b/1e9/ol, olr/1024
  printf "%-22s %8.2f %9.2f %9.1f MiB\n", "oras-py pull", pl, b/1e9/pl, plr/1024
  printf "\nspeed-up vs oras-py: push %.2fx, pull %.2fx; peak RSS oras-py/modelseal: push %.1fx, pull %.1fx\n", pp/op, pl/ol, ppr/opr, plr/olr
}'
