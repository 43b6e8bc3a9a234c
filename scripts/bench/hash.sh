#!/usr/bin/env bash
# Benchmark `modelseal hash` against the machine's SHA-256 limit and against sigstore's
# model-signing 1.1.1 (the peer tool), on the same warm (page-cached) files, in one run.
#
# Usage (from anywhere):
#   scripts/bench/hash.sh                       # 2 GiB model (default)
#   BENCH_SIZE_MIB=256 scripts/bench/hash.sh    # scaled down, for a quick run
#   BENCH_DIR=/some/dir scripts/bench/hash.sh   # where the temporary model goes (default /tmp)
#
# It builds `target/release/modelseal` (cargo build --release), creates the peer's venv under
# target/venv if missing, and generates in a temporary directory (removed at exit):
#   multi/   8 unique random files of BENCH_SIZE_MIB/8 MiB each, plus a few small files
#   single/  model.bin, one file of BENCH_SIZE_MIB MiB
# Every file is read once (cat >/dev/null) before timing; each measurement is repeated 3 times
# and the best (shortest wall time) is kept. Peak RSS is the maximum over the repetitions, from
# GNU time -v. Throughput is decimal GB/s (bytes / 1e9 / s) of the whole model directory.
#
# Measured:
#   - ceiling: `openssl dgst -sha256` over the 8 big files, split into nproc concurrent
#     processes (disjoint subsets); and openssl on one file, one core, for reference; and, as a
#     second reference, `openssl speed` (SHA-256 of data in memory, no reads) on nproc processes
#   - modelseal: files mode on multi/ and single/, shards mode on single/ (shard = one multi
#     file's size, i.e. 256 MiB by default; and the default 1 GB shards), --hash blake3
#   - peer: `model_signing sign key` end to end on multi/, and model_signing.hashing.hash()
#     alone (whole Python process, and just the call via time.perf_counter())
#   - start-up on a tiny model (examples/tiny-model), 10 runs each, median and best
#   - that our manifest for multi/ equals the statement in the peer's signature
# Exit status 1 if the manifests differ.
set -euo pipefail
export LC_ALL=C # EPOCHREALTIME and awk with a '.' decimal separator

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SIZE_MIB=${BENCH_SIZE_MIB:-2048}
REPS=3
STARTUP_REPS=10
NPROC=$(nproc)
OURS=$ROOT/target/release/modelseal
VENV=$ROOT/target/venv
PEER=$VENV/bin/model_signing

die() { echo "error: $*" >&2; exit 2; }
[[ $SIZE_MIB =~ ^[0-9]+$ ]] && ((SIZE_MIB >= 8)) || die "BENCH_SIZE_MIB must be an integer >= 8"
command -v /usr/bin/time >/dev/null || die "GNU time (/usr/bin/time) is needed"

# ---------------------------------------------------------------- build, venv, temp dir
echo "== building modelseal (cargo build --release)"
(cd "$ROOT" && cargo build --release --quiet)

if [[ ! -x $PEER ]]; then
    echo "== creating the peer venv in $VENV"
    (cd "$ROOT" && python3 -m venv target/venv && target/venv/bin/pip install --quiet model-signing==1.1.1 pyopenssl)
fi

WORK=$(mktemp -d "${BENCH_DIR:-/tmp}/modelseal-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
OUT=$WORK/out # manifests, signatures, time logs: outside the models
mkdir -p "$OUT" "$WORK/multi" "$WORK/single"
cd "$WORK" # models are passed as relative paths (multi, single/model.bin), as a user would

# ---------------------------------------------------------------- model generation
FILE_MIB=$((SIZE_MIB / 8))
FILE_BYTES=$((FILE_MIB * 1024 * 1024))

# random_file PATH BYTES: AES-CTR keystream, fast and any size (openssl rand stops at 2^31-1)
random_file() {
    { openssl enc -aes-128-ctr -K "$(openssl rand -hex 16)" -iv "$(openssl rand -hex 16)" \
        -in /dev/zero 2>/dev/null || true; } | head -c "$2" >"$1"
    [[ $(stat -c %s "$1") -eq $2 ]] || die "could not generate $1"
}

echo "== generating models in $WORK (8 x $FILE_MIB MiB + small files; 1 x $((8 * FILE_MIB)) MiB)"
random_file multi/model-1-of-8.safetensors "$FILE_BYTES"
for i in 2 3 4 5 6 7 8; do
    f=multi/model-$i-of-8.safetensors
    cp multi/model-1-of-8.safetensors "$f"
    # a different first block makes every file unique
    head -c 4096 /dev/urandom | dd of="$f" conv=notrunc status=none
done
BIG_FILES=(multi/model-*-of-8.safetensors)
printf '{"architectures":["BenchModel"],"hidden_size":4096,"num_hidden_layers":32,"seed":"%s"}\n' \
    "$(openssl rand -hex 8)" >multi/config.json
printf '{"max_new_tokens":256,"temperature":0.7}\n' >multi/generation_config.json
head -c 6000 /dev/urandom | base64 >multi/tokenizer.json
printf '# bench model\nRandom weights for a hashing benchmark.\n' >multi/README.md
cat "${BIG_FILES[@]}" >single/model.bin

# (awk's print would switch to 2.1e+09 notation above 2^31: printf %.0f keeps every digit)
dir_bytes() { find "$1" -type f -printf '%s\n' | awk '{s += $1} END {printf "%.0f\n", s}'; }
MULTI_BYTES=$(dir_bytes multi)
SINGLE_BYTES=$(dir_bytes single)
BIG_BYTES=$(stat -c %s "${BIG_FILES[@]}" | awk '{s += $1} END {printf "%.0f\n", s}')
ONE_BYTES=$(stat -c %s "${BIG_FILES[0]}")

if [[ -d $ROOT/examples/tiny-model ]]; then
    TINY=$ROOT/examples/tiny-model
else
    TINY=$WORK/tiny-model
    mkdir -p "$TINY"
    printf '{"model_type":"tiny"}\n' >"$TINY/config.json"
    head -c 3000 /dev/urandom | base64 >"$TINY/tokenizer.json"
    head -c 4096 /dev/urandom >"$TINY/model.safetensors"
fi

echo "== warming the page cache (cat >/dev/null)"
find multi single "$TINY" -type f -exec cat {} + >/dev/null

openssl ecparam -name prime256v1 -genkey -noout -out "$OUT/ec.pem" 2>/dev/null
openssl pkcs8 -topk8 -nocrypt -in "$OUT/ec.pem" -out "$OUT/key.pem"
KEY=$OUT/key.pem

# ---------------------------------------------------------------- timing helpers
declare -A WALL RSS BYTES

# bench ID BYTES CMD...: run CMD $REPS times under GNU time; keep the best wall time (seconds,
# from bash's $EPOCHREALTIME) in WALL[ID] and the largest max RSS (KiB) in RSS[ID].
bench() {
    local id=$1 bytes=$2 t0 t1 wall rss best="" peak=0 i
    shift 2
    for ((i = 0; i < REPS; i++)); do
        t0=$EPOCHREALTIME
        if ! /usr/bin/time -v -o "$OUT/time.log" "$@" >"$OUT/cmd.out" 2>"$OUT/cmd.err"; then
            cat "$OUT/cmd.err" >&2
            die "failed: $*"
        fi
        t1=$EPOCHREALTIME
        wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f", b - a}')
        rss=$(awk -F': *' '/Maximum resident set size/ {print $2}' "$OUT/time.log")
        if [[ -z $best ]] || awk -v w="$wall" -v b="$best" 'BEGIN {exit !(w < b)}'; then best=$wall; fi
        if ((rss > peak)); then peak=$rss; fi
    done
    WALL[$id]=$best RSS[$id]=$peak BYTES[$id]=$bytes
    printf '  %-40s best %8.3f s  %6.2f GB/s  peak RSS %6.1f MiB\n' "$id" "$best" \
        "$(gbps "$id")" "$(awk -v k="$peak" 'BEGIN {print k / 1024}')"
}

gbps() { awk -v b="${BYTES[$1]}" -v s="${WALL[$1]}" 'BEGIN {printf "%.3f", b / 1e9 / s}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

# startup ID CMD...: run CMD $STARTUP_REPS times (no GNU time wrapper); milliseconds,
# median in STARTUP_MED[ID] and best in STARTUP_BEST[ID].
declare -A STARTUP_MED STARTUP_BEST
startup() {
    local id=$1 t0 t1 i times=()
    shift
    for ((i = 0; i < STARTUP_REPS; i++)); do
        t0=$EPOCHREALTIME
        "$@" >"$OUT/cmd.out" 2>"$OUT/cmd.err" || { cat "$OUT/cmd.err" >&2; die "failed: $*"; }
        t1=$EPOCHREALTIME
        times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) * 1000}')")
    done
    local sorted
    sorted=$(printf '%s\n' "${times[@]}" | sort -g)
    STARTUP_BEST[$id]=$(head -n1 <<<"$sorted")
    STARTUP_MED[$id]=$(awk '{v[NR] = $1} END {printf "%.3f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}' <<<"$sorted")
    printf '  %-40s median %9.1f ms  best %9.1f ms\n' "$id" "${STARTUP_MED[$id]}" "${STARTUP_BEST[$id]}"
}

# ---------------------------------------------------------------- measurements
printf '\n== machine: %s, %s cores; model: multi %s bytes (8 x %s MiB + %d small), single %s bytes\n' \
    "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)" "$NPROC" "$MULTI_BYTES" "$FILE_MIB" \
    $(($(find multi -type f | wc -l) - 8)) "$SINGLE_BYTES"
echo "   (best of $REPS runs each)"

echo "== ceiling: openssl dgst -sha256"
PROCS=$((NPROC < 8 ? NPROC : 8))
PER_PROC=$(((8 + PROCS - 1) / PROCS))
# xargs runs PROCS openssl processes at once, each on its own PER_PROC files
bench "sha256 ceiling (openssl, $PROCS procs)" "$BIG_BYTES" \
    sh -c 'n=$1 p=$2; shift 2; printf "%s\0" "$@" | xargs -0 -n "$n" -P "$p" openssl dgst -sha256' \
    sh "$PER_PROC" "$PROCS" "${BIG_FILES[@]}"
CEIL_ID="sha256 ceiling (openssl, $PROCS procs)"
bench "openssl sha256, 1 core (one file)" "$ONE_BYTES" openssl dgst -sha256 "${BIG_FILES[0]}"
# Reference: SHA-256 on data already in memory, no file reading (openssl dgst reads 8 KiB at a
# time, so a tool reading larger blocks can beat the ceiling above). Speed in 1000s of bytes/s.
SPEED_ID="sha256 in memory (openssl speed, $PROCS procs)"
SPEED_BPS=$(openssl speed -seconds 1 -bytes 1048576 -multi "$PROCS" -evp sha256 2>/dev/null |
    awk '$1 == "sha256" {v = $NF; sub(/k$/, "", v); printf "%.0f\n", v * 1000}')
[[ -n $SPEED_BPS ]] || die "could not parse openssl speed"
WALL[$SPEED_ID]=1 BYTES[$SPEED_ID]=$SPEED_BPS # one second's worth of bytes
printf '  %-40s %17.2f GB/s  (openssl speed -evp sha256 -bytes 1048576 -multi %s)\n' \
    "$SPEED_ID" "$(gbps "$SPEED_ID")" "$PROCS"

echo "== modelseal ($OURS)"
bench "modelseal files, multi" "$MULTI_BYTES" "$OURS" hash multi -q -o "$OUT/ours-multi.json"
SHARD_LABEL="${FILE_MIB}MiB"
bench "modelseal shards $SHARD_LABEL, single" "$SINGLE_BYTES" \
    "$OURS" hash single/model.bin -q -o "$OUT/x.json" --shard-size "$FILE_BYTES"
bench "modelseal shards 1GB (default), single" "$SINGLE_BYTES" \
    "$OURS" hash single/model.bin -q -o "$OUT/x.json" --serialization shards
bench "modelseal files, single (1 core)" "$SINGLE_BYTES" \
    "$OURS" hash single/model.bin -q -o "$OUT/x.json"
bench "modelseal blake3, multi" "$MULTI_BYTES" "$OURS" hash multi -q -o "$OUT/x.json" --hash blake3
bench "modelseal blake3, single" "$SINGLE_BYTES" \
    "$OURS" hash single/model.bin -q -o "$OUT/x.json" --hash blake3

echo "== peer: model-signing $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("model-signing"))')"
bench "peer CLI end-to-end, multi" "$MULTI_BYTES" \
    "$PEER" sign key multi --private_key "$KEY" --signature "$OUT/peer-multi.sig"
: >"$OUT/inner.txt"
# shellcheck disable=SC2016 # Python code, not shell
PY_HASH='
import sys, time
import model_signing
t0 = time.perf_counter()
model_signing.hashing.hash(sys.argv[1])
t1 = time.perf_counter()
with open(sys.argv[2], "a") as f:
    print(f"{t1 - t0:.6f}", file=f)
'
bench "peer hashing.hash(), multi (process)" "$MULTI_BYTES" \
    "$VENV/bin/python" -c "$PY_HASH" multi "$OUT/inner.txt"
WALL["peer hashing.hash(), multi (call only)"]=$(sort -g "$OUT/inner.txt" | head -n1)
BYTES["peer hashing.hash(), multi (call only)"]=$MULTI_BYTES
printf '  %-40s best %8.3f s  %6.2f GB/s  (time.perf_counter() around the call)\n' \
    "peer hashing.hash(), multi (call only)" "${WALL["peer hashing.hash(), multi (call only)"]}" \
    "$(gbps "peer hashing.hash(), multi (call only)")"

echo "== start-up, tiny model ($TINY, $STARTUP_REPS runs each)"
startup "modelseal hash" "$OURS" hash "$TINY" -q -o "$OUT/t.json"
startup "peer sign key" "$PEER" sign key "$TINY" --private_key "$KEY" --signature "$OUT/t.sig"

echo "== manifest check: ours (multi) vs the statement in the peer's signature"
EQUAL=$(python3 - "$OUT/ours-multi.json" "$OUT/peer-multi.sig" <<'EOF'
import base64, json, sys
ours = json.load(open(sys.argv[1]))
peer = json.loads(base64.b64decode(json.load(open(sys.argv[2]))["dsseEnvelope"]["payload"]))
diffs = []
if ours.get("subject") != peer.get("subject"):
    diffs.append("subject")
op, pp = ours.get("predicate", {}), peer.get("predicate", {})
if op.get("resources") != pp.get("resources"):
    diffs.append("predicate.resources")
oi = set(op.get("serialization", {}).get("ignore_paths", []))
pi = set(pp.get("serialization", {}).get("ignore_paths", []))
if oi != pi:
    diffs.append(f"ignore_paths (ours only {sorted(oi - pi)}, peer only {sorted(pi - oi)})")
print("yes" if not diffs else "no (" + "; ".join(diffs) + ")")
EOF
)
echo "  manifests equal: $EQUAL"

# ---------------------------------------------------------------- summary
CEIL=$(gbps "$CEIL_ID")
row() { # row ID: GB/s, % of the SHA-256 ceiling, peak RSS
    local rss="-"
    local wall=${WALL[$1]}
    [[ $1 == "$SPEED_ID" ]] && wall="-"
    if [[ -n ${RSS[$1]:-} && $1 != "$CEIL_ID" ]]; then
        rss=$(awk -v k="${RSS[$1]}" 'BEGIN {printf "%.0f MiB", k / 1024}')
    fi
    [[ $wall == - ]] || wall=$(printf '%.3f' "$wall")
    printf '%-42s %8s %7.2f %7.0f%%  %10s\n' "$1" "$wall" "$(gbps "$1")" \
        "$(awk -v a="$(gbps "$1")" -v c="$CEIL" 'BEGIN {print 100 * a / c}')" "$rss"
}
printf '\n== summary (%s, %s cores; multi = %s bytes in %d files, single = %s bytes)\n' \
    "$(date -u +%Y-%m-%dT%H:%MZ)" "$NPROC" "$MULTI_BYTES" "$(find multi -type f | wc -l)" "$SINGLE_BYTES"
printf '%-42s %8s %7s %8s  %10s\n' "" "best s" "GB/s" "vs ceil" "peak RSS"
for id in "$CEIL_ID" "openssl sha256, 1 core (one file)" "$SPEED_ID" \
    "modelseal files, multi" "modelseal shards $SHARD_LABEL, single" \
    "modelseal shards 1GB (default), single" "modelseal files, single (1 core)" \
    "modelseal blake3, multi" "modelseal blake3, single" \
    "peer CLI end-to-end, multi" "peer hashing.hash(), multi (process)" \
    "peer hashing.hash(), multi (call only)"; do
    row "$id"
done
echo "(vs ceil: throughput / the openssl dgst ceiling, the first row. It is a file-reading ceiling:"
echo " the in-memory row and BLAKE3 rows (another hash) can exceed 100%, and so can a tool with larger reads)"
echo
echo "speed-up vs peer CLI (multi, end to end):      $(ratio "${WALL["peer CLI end-to-end, multi"]}" "${WALL["modelseal files, multi"]}")x"
echo "speed-up vs peer hashing.hash() (multi, call): $(ratio "${WALL["peer hashing.hash(), multi (call only)"]}" "${WALL["modelseal files, multi"]}")x"
echo "peak RSS, peer CLI / modelseal (multi):        $(ratio "${RSS["peer CLI end-to-end, multi"]}" "${RSS["modelseal files, multi"]}")x"
printf 'start-up, tiny model (median of %d): modelseal %.1f ms, peer %.1f ms -> %.0fx (best: %.1f ms vs %.1f ms)\n' \
    "$STARTUP_REPS" "${STARTUP_MED["modelseal hash"]}" "${STARTUP_MED["peer sign key"]}" \
    "$(ratio "${STARTUP_MED["peer sign key"]}" "${STARTUP_MED["modelseal hash"]}")" \
    "${STARTUP_BEST["modelseal hash"]}" "${STARTUP_BEST["peer sign key"]}"
echo "manifests equal: $EQUAL"
[[ $EQUAL == yes ]]
