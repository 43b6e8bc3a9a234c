#!/usr/bin/env bash
# `pull --verify` against plain `pull` and `verify-model`, on the loopback registry
# (scripts/registry.sh), in one run: a model published with `publish --files` (signed, manifest
# files/sha256), then each command timed best of 4 (pull and pull --verify alternate which goes
# first; each pulls into a fresh directory) with its peak RSS (GNU time -v). Targets (issue 10,
# case 6): pull --verify peak RSS ≤ 100 MiB, and its time ≤ 1.1 × plain pull's. On a shared
# machine single runs vary a lot; the best of several is what compares.
#
#   scripts/bench/pull_verify.sh                      # 2 GiB model: 4 files of 512 MiB
#   BENCH_SIZE_MIB=256 scripts/bench/pull_verify.sh   # scaled down, for a quick run
set -euo pipefail
export LC_ALL=C
SIZE_MIB=${BENCH_SIZE_MIB:-2048}
FILES=4
RUNS=${BENCH_RUNS:-4}

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
on_loopback_registry pull-verify
mkdir -p "$work/model"
echo "== generating $SIZE_MIB MiB in $FILES files"
for i in $(seq 1 $FILES); do
  head -c $((SIZE_MIB / FILES * 1024 * 1024)) /dev/urandom > "$work/model/part-$i.bin"
done
bytes=$(du -cb "$work"/model/*.bin | tail -1 | cut -f1)

echo "== publishing (hash, sign, push with --files, attach)"
"$bin" -q key generate -o "$work/dev" >/dev/null
"$bin" -q publish "$work/model" "$R/bench/model:v1" --files --key "$work/dev.key" \
  --issuer https://publisher.example --subject bench/model >/dev/null
"$bin" -q policy init --scope "$R/bench/*" --issuer-key "$work/dev.pub" \
  --issuer https://publisher.example -o "$work/policy.toml" >/dev/null


: > "$work/pull.txt"; : > "$work/verify.txt"; : > "$work/model.txt"
for run in $(seq 1 "$RUNS"); do
  echo "== run $run/$RUNS"
  rm -rf "$work/pulled" "$work/verified"
  sync
  plain() { measure "$bin" -q pull "$R/bench/model:v1" -o "$work/pulled" >> "$work/pull.txt"; }
  verified() {
    measure "$bin" -q pull --verify "$R/bench/model:v1" --policy "$work/policy.toml" \
      -o "$work/verified" >> "$work/verify.txt"
  }
  # Alternate which goes first: the second one runs with the first one's writes still settling.
  if [ $((run % 2)) -eq 1 ]; then plain; sync; verified; else verified; sync; plain; fi
  sync
  echo "   pull $(tail -1 "$work/pull.txt" | cut -d' ' -f1) s, pull --verify $(tail -1 "$work/verify.txt" | cut -d' ' -f1) s"
  measure "$bin" -q verify-model "$work/verified" --manifest "$R/bench/model:v1" \
    --policy "$work/policy.toml" >> "$work/model.txt"
done
cmp -s "$work/verified/part-1.bin" "$work/model/part-1.bin" || { echo "pull --verify wrote different bytes" >&2; exit 1; }
read -r pull_s pull_rss < <(best < "$work/pull.txt")
read -r verify_s verify_rss < <(best < "$work/verify.txt")
read -r model_s model_rss < <(best < "$work/model.txt")

awk -v b="$bytes" -v ps="$pull_s" -v pr="$pull_rss" -v vs="$verify_s" -v vr="$verify_rss" \
    -v ms="$model_s" -v mr="$model_rss" -v runs="$RUNS" 'BEGIN {
  printf "\n== %.2f GB in '"$FILES"' files over loopback to Debian docker-registry (best of %d; peak RSS the max)\n", b/1e9, runs
  printf "%-24s %8s %9s %12s\n", "", "seconds", "GB/s", "peak RSS"
  printf "%-24s %8.2f %9.2f %9.1f MiB\n", "modelseal pull", ps, b/1e9/ps, pr/1024
  printf "%-24s %8.2f %9.2f %9.1f MiB\n", "modelseal pull --verify", vs, b/1e9/vs, vr/1024
  printf "%-24s %8.2f %9.2f %9.1f MiB\n", "modelseal verify-model", ms, b/1e9/ms, mr/1024
  ratio = vs/ps
  printf "\npull --verify / pull: %.2fx (target <= 1.10x: %s)\n", ratio, ratio <= 1.10 ? "met" : "NOT met"
  printf "pull --verify peak RSS: %.1f MiB (target <= 100 MiB: %s)\n", vr/1024, vr/1024 <= 100 ? "met" : "NOT met"
  printf "verify-model peak RSS: %.1f MiB\n", mr/1024
}'
