#!/usr/bin/env bash
# Issue 17's bench, in one run: a model pushed to and pulled from the loopback registry
# (scripts/registry.sh) by modelseal and by oras-py (PyPI `oras`, in the venv of
# scripts/interop.sh), and the ceiling: curl moving the same blobs monolithically (one PUT per
# blob, then one GET per blob to disk, all blobs at once, as both clients move 4 at a time),
# the same GETs each followed by a sync of its file (durable, as a pull is before it renames),
# and curl's GETs piped through `openssl dgst -sha256`. modelseal also pushes monolithically
# (--chunk-size 64G), so the cost of chunking shows. For each: seconds, throughput, peak RSS,
# and CPU seconds of the client and of the registry (GNU time -v, /proc); then the ratios, and
# the floor the machine sets for a client that checks digests (curl's CPU + the registry's +
# SHA-256 of the bytes, over the cores: on 2 cores that floor is far above curl's time). Then
# bytes on the wire with a cut every BENCH_CUT_MIB (default 256; uploads cut between whole requests, as
# behind nginx, downloads at the byte), counted at the test front of tests/it/transfer.rs
# (`bytes_on_the_wire_with_cuts`, run on the same files).
#
#   scripts/bench/transfer.sh                        # 4 GiB model: 4 files of 1 GiB, one round
#   BENCH_SIZE_MIB=512 scripts/bench/transfer.sh     # scaled down, for a quick run
#   BENCH_ROUNDS=3                                   # rounds (tools in a rotating order); medians
#   BENCH_BASELINE=/tmp/modelseal-before             # another modelseal build, measured beside
#                                                    # this one (before/after in the same run)
#   BENCH_CHUNKS="8M 32M"                            # extra push rounds at these --chunk-size
#   CARGO_TARGET_DIR, BENCH_VENV, BENCH_DIR          # release build, oras-py venv, scratch (/tmp)
#
# Each tool pushes to repositories of its own (distribution links blobs per repository, so no
# tool finds another's blobs there) and pulls into an empty directory. The page cache is
# flushed (`sync`) before each measurement, outside it, so no run pays for another's writes.
# On a shared machine timings are noisy: use rounds and read the medians.
set -euo pipefail
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SIZE_MIB=${BENCH_SIZE_MIB:-4096}
ROUNDS=${BENCH_ROUNDS:-1}
FILES=4
VENV=${BENCH_VENV:-$ROOT/target/venv}
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/modelseal
BASE=${BENCH_BASELINE:-}
ORAS_PIN=oras==0.2.43 # as scripts/interop.sh

if [ -z "${MODELSEAL_TEST_REGISTRY:-}" ]; then
  (cd "$ROOT" && cargo build --release --quiet && cargo test --no-run --quiet --test it)
  if ! { [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import oras' 2>/dev/null; }; then
    echo "== installing $ORAS_PIN into $VENV" >&2
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "$ORAS_PIN"
  fi
  exec "$ROOT/scripts/registry.sh" -- bash "$0"
fi
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (apt-get install time)" >&2; exit 2; }
command -v openssl >/dev/null || { echo "needs openssl (apt-get install openssl)" >&2; exit 2; }
[ -z "$BASE" ] || [ -x "$BASE" ] || { echo "BENCH_BASELINE=$BASE is not an executable" >&2; exit 2; }

work=$(mktemp -d "${BENCH_DIR:-/tmp}/modelseal-transfer.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/model"
echo "== generating $SIZE_MIB MiB in $FILES files under $work"
for i in $(seq 1 $FILES); do
  head -c $((SIZE_MIB / FILES * 1024 * 1024)) /dev/urandom > "$work/model/part-$i.bin"
done
bytes=$(du -cb "$work"/model/*.bin | tail -1 | cut -f1)
files=("$work"/model/*.bin)
R=$MODELSEAL_TEST_REGISTRY
declare -A sums
for f in "${files[@]}"; do sums[$f]=$(sha256sum "$f" | cut -d' ' -f1); done
cd "$work/model"
names=(); for f in "${files[@]}"; do names+=("$(basename "$f"):application/octet-stream"); done

# The registry's CPU seconds so far (user + system), to count what each measurement cost it.
registry_pid=$(pgrep -f "serve $MODELSEAL_TEST_REGISTRY_DIR/config.yml" | head -1 || true)
registry_cpu() {
  if [ -n "$registry_pid" ] && [ -r "/proc/$registry_pid/stat" ]; then
    awk -v t="$(getconf CLK_TCK)" '{sub(/.*\) /, ""); printf "%.2f\n", ($12 + $13) / t}' "/proc/$registry_pid/stat"
  else echo 0; fi
}

# One line per measurement in $work/results: "NAME SECONDS RSS_KIB CLIENT_CPU REGISTRY_CPU"
# (CPU in seconds, user + system; the client's counts its children, curl's included).
results=$work/results
: > "$results"
measure() { # NAME CMD...
  local name=$1 out=$work/time.txt before; shift
  sync
  before=$(registry_cpu)
  /usr/bin/time -v -o "$out" "$@" >/dev/null
  awk -v n="$name" -v r0="$before" -v r1="$(registry_cpu)" -F': ' '
    /Elapsed \(wall clock\)/ {k=split($2,p,":"); s=0; for(i=1;i<=k;i++) s=s*60+p[i]}
    /Maximum resident set size/ {r=$2}
    /User time \(seconds\)|System time \(seconds\)/ {c+=$2}
    END {printf "%s %s %s %.2f %.2f\n", n, s, r, c, r1-r0}' "$out" | tee -a "$results"
}
same_as_model() { # DIR
  for f in "${files[@]}"; do cmp -s "$1/$(basename "$f")" "$f" || { echo "$1: $(basename "$f") differs" >&2; exit 1; }; done
}

cat > "$work/peer_transfer.py" <<PY
import sys, oras.client
c = oras.client.OrasClient(hostname="$R", insecure=True)
if sys.argv[1] == "push":
    c.push(target="$R/" + sys.argv[2], files=sys.argv[3:], disable_path_validation=True)
else:
    c.pull(target="$R/" + sys.argv[2], outdir=sys.argv[3])
PY

# The ceiling, as a script of its own so that GNU time measures it like the others.
{
  echo "set -euo pipefail; R=$R"
  declare -p sums files
  cat <<'SH'
if [ "$1" = push ]; then # push REPO: one monolithic PUT per blob, all at once
  for f in "${files[@]}"; do
    (
      loc=$(curl -s -f -D - -o /dev/null -X POST "http://$R/v2/$2/blobs/uploads/" | awk -F': ' 'tolower($1)=="location" {print $2}' | tr -d '\r')
      case "$loc" in http*) ;; *) loc="http://$R$loc" ;; esac
      case "$loc" in *\?*) sep='&' ;; *) sep='?' ;; esac
      curl -s -f -o /dev/null -T "$f" -H 'Content-Type: application/octet-stream' "$loc${sep}digest=sha256:${sums[$f]}"
    ) &
  done
elif [ "$1" = pull ]; then # pull REPO OUT: one GET per blob to disk, all at once
  mkdir -p "$3"
  for f in "${files[@]}"; do
    curl -s -f -o "$3/$(basename "$f")" "http://$R/v2/$2/blobs/sha256:${sums[$f]}" &
  done
elif [ "$1" = pull-durable ]; then # pull-durable REPO OUT: the same, then each file synced to
  mkdir -p "$3"                      # disk (as a pull does before it moves blobs into place)
  for f in "${files[@]}"; do
    ( curl -s -f -o "$3/$(basename "$f")" "http://$R/v2/$2/blobs/sha256:${sums[$f]}" && sync "$3/$(basename "$f")" ) &
  done
else # pull-hashed REPO OUT: the same, each blob hashed on its way to disk (tee | openssl dgst)
  mkdir -p "$3"
  for f in "${files[@]}"; do
    ( set -o pipefail
      got=$(curl -s -f "http://$R/v2/$2/blobs/sha256:${sums[$f]}" | tee "$3/$(basename "$f")" | openssl dgst -sha256 -r | cut -d' ' -f1)
      [ "$got" = "${sums[$f]}" ] ) &
  done
fi
for job in $(jobs -p); do wait "$job"; done
SH
} > "$work/curl.sh"

# One tool's push then pull, in round $1.
run_tool() { # TOOL ROUND
  local t=$1 r=$2 out=$work/out-$1-$2
  case $t in
    ours|base)
      local bin=$BIN; [ "$t" = base ] && bin=$BASE
      measure "$t-push" "$bin" -q push "$R/bench/$t-$r:v1" "${names[@]}" --artifact-type example/model
      measure "$t-pull" "$bin" -q pull "$R/bench/$t-$r:v1" -o "$out" ;;
    oras)
      measure "oras-push" "$VENV/bin/python" "$work/peer_transfer.py" push "bench/oras-$r:v1" "${names[@]}"
      measure "oras-pull" "$VENV/bin/python" "$work/peer_transfer.py" pull "bench/oras-$r:v1" "$out" ;;
    curl)
      measure curl-push bash "$work/curl.sh" push "bench/curl-$r"
      measure curl-pull bash "$work/curl.sh" pull "bench/curl-$r" "$out"
      same_as_model "$out"; rm -rf "$out"
      measure curl-sync-pull bash "$work/curl.sh" pull-durable "bench/curl-$r" "$out"
      same_as_model "$out"; rm -rf "$out"
      measure curl-sha-pull bash "$work/curl.sh" pull-hashed "bench/curl-$r" "$out" ;;
  esac
  same_as_model "$out"
  rm -rf "$out"
}

tools=(ours oras curl); [ -n "$BASE" ] && tools=(ours base oras curl)
for r in $(seq 1 "$ROUNDS"); do
  echo "== round $r of $ROUNDS"
  n=${#tools[@]}
  for k in $(seq 0 $((n - 1))); do run_tool "${tools[$(( (k + r - 1) % n ))]}" "$r"; done
  measure ours-push-mono "$BIN" -q push "$R/bench/mono-$r:v1" "${names[@]}" --artifact-type example/model --chunk-size 64G
  for c in ${BENCH_CHUNKS:-}; do
    measure "ours-push-$c" "$BIN" -q push "$R/bench/chunk-$(echo "$c" | tr A-Z a-z)-$r:v1" "${names[@]}" --artifact-type example/model --chunk-size "$c"
  done
done

echo "== bytes on the wire, a cut every ${BENCH_CUT_MIB:-256} MiB"
wire_of() { # BIN [CHUNK]
  (cd "$ROOT" && BENCH_MODELSEAL=$1 BENCH_CHUNK=${2:-} BENCH_MODEL_DIR=$work/model BENCH_CUT_MIB=${BENCH_CUT_MIB:-256} \
    cargo test --quiet --test it -- --ignored --nocapture transfer::bytes_on_the_wire_with_cuts 2>&1 | grep '^wire:' || echo "wire: (failed)")
}
wire=$(wire_of "$BIN")
[ -n "$BASE" ] && wire_base=$(wire_of "$BASE")

median() { # NAME COLUMN (2: seconds, 3: RSS in KiB)
  awk -v n="$1" -v c="$2" '$1==n {print $c}' "$results" | sort -n |
    awk '{v[NR]=$1} END {if (NR % 2) print v[(NR+1)/2]; else if (NR) print (v[NR/2]+v[NR/2+1])/2}'
}
declare -A S M C G
for n in $(awk '{print $1}' "$results" | sort -u); do
  S[$n]=$(median "$n" 2); M[$n]=$(median "$n" 3); C[$n]=$(median "$n" 4); G[$n]=$(median "$n" 5)
done
# SHA-256 of the model's bytes (OpenSSL, which uses the CPU's SHA instructions; coreutils'
# sha256sum is 4-5x slower here), from the page cache: what checking the digests costs any
# client, whatever it does besides.
sha_cpu=$(sync; /usr/bin/time -f '%U %S' openssl dgst -sha256 "${files[@]}" 2>&1 >/dev/null | awk '{print $1 + $2}')

printf '\n== %.2f GB in %d files over loopback to Debian docker-registry, %d round(s), medians; %s cores, load %s\n' \
  "$(awk -v b="$bytes" 'BEGIN {print b/1e9}')" "$FILES" "$ROUNDS" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-24s %8s %8s %12s %11s %13s\n' "" seconds GB/s "peak RSS" "client CPU" "registry CPU"
for n in ours-push base-push oras-push curl-push ours-pull base-pull oras-pull curl-pull curl-sync-pull curl-sha-pull ours-push-mono $(for c in ${BENCH_CHUNKS:-}; do echo "ours-push-$c"; done); do
  [ -n "${S[$n]:-}" ] || continue
  label=${n/ours/modelseal}; label=${label/base/modelseal (baseline)}; label=${label/oras/oras-py}
  label=${label/curl-sha-pull/curl-pull | openssl dgst}; label=${label/curl-sync-pull/curl-pull + sync}
  awk -v l="$label" -v s="${S[$n]}" -v m="${M[$n]}" -v b="$bytes" -v c="${n%%-*}" -v u="${C[$n]}" -v g="${G[$n]}" 'BEGIN {
    rss = (c == "curl") ? "-" : sprintf("%.1f MiB", m/1024)
    printf "%-24s %8.2f %8.2f %12s %10.2fs %12.2fs\n", l, s, b/1e9/s, rss, u, g }'
done
echo "SHA-256 of the same bytes (openssl dgst): ${sha_cpu}s of CPU"
ratio() { awk -v a="${S[$1]:-0}" -v b="${S[$2]:-0}" 'BEGIN {if (a > 0 && b > 0) printf "%.2f", b/a; else printf "-"}'; }
share() { awk -v a="${S[$1]:-0}" -v b="${S[$2]:-0}" 'BEGIN {if (a > 0 && b > 0) printf "%.0f%%", 100*b/a; else printf "-"}'; }
echo
echo "speed-up vs oras-py (target push >= 1.5x, pull >= 1.0x): push $(ratio ours-push oras-push)x, pull $(ratio ours-pull oras-pull)x"
echo "share of the curl ceiling (target >= 80%): push $(share ours-push curl-push), pull $(share ours-pull curl-pull)"
echo "  pull against curl that also syncs each file to disk: $(share ours-pull curl-sync-pull); that also hashes (tee | openssl dgst): $(share ours-pull curl-sha-pull)"
# Where the machine, not the client, sets the limit: curl's and the registry's CPU plus SHA-256
# of the bytes, spread over every core, is the least time any client that checks digests needs.
if [ -n "${S[curl-pull]:-}" ]; then
  floor=$(awk -v c="${C[curl-pull]}" -v g="${G[curl-pull]}" -v h="$sha_cpu" -v n="$(nproc)" -v w="${S[curl-pull]}" \
    'BEGIN {f = (c + g + h) / n; if (f < w) f = w; printf "%.2f", f}')
  echo "  a client that checks digests needs >= ${floor}s here (curl's CPU + the registry's + SHA-256's, over $(nproc) cores):" \
    "the best share of curl it can reach is $(awk -v f="$floor" -v w="${S[curl-pull]}" 'BEGIN {printf "%.0f%%", 100*w/f}'); modelseal pull is" \
    "$(awk -v f="$floor" -v s="${S[ours-pull]:-0}" 'BEGIN {if (s > 0) printf "%.0f%%", 100*f/s; else printf "-"}') of that floor"
fi
if [ -n "$BASE" ]; then
  echo "this build vs the baseline: push $(ratio ours-push base-push)x, pull $(ratio ours-pull base-pull)x (baseline: push $(share base-push curl-push), pull $(share base-pull curl-pull) of curl)"
fi
echo "$wire"
[ -n "$BASE" ] && echo "baseline $wire_base"
exit 0
