#!/usr/bin/env bash
# verify_model of a 2 GiB model from Python (the bindings, bindings/python) against the CLI's
# `verify-model`, in the same run, on the same files: wall time of each (median of
# BENCH_RUNS, alternating, page cache warm), their ratio, and each process's peak RSS — the
# Python process must not hold the model (no copy into Python memory). A bench, not a test.
#
#   scripts/bench/python_verify.sh                  # 2 GiB, 3 runs each
#   BENCH_SIZE_MIB=512 BENCH_RUNS=5 scripts/bench/python_verify.sh
#
# Builds target/release/modelseal and installs the bindings (release) into target/venv.
#
# Measured 2026-11-29 on the 2-core dev machine shared with other builds (load 6-9), 2 GiB:
# CLI 2.64 s, Python 2.66 s (ratio 1.01, interpreter start and import included); peak RSS
# 12.8 MiB (CLI) vs 16.5 MiB (Python). An earlier run at load ~9: 4.19 s vs 4.35 s (1.04).
set -euo pipefail
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SIZE_MIB=${BENCH_SIZE_MIB:-2048}
RUNS=${BENCH_RUNS:-3}
VENV=$ROOT/target/venv
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

(cd "$ROOT" && cargo build --release --quiet --bin modelseal)
bin=$CARGO_TARGET_DIR/release/modelseal
# A release build, as `pip install` makes it (scripts/python.sh installs a dev build for the tests).
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c 'import maturin' 2>/dev/null || "$VENV/bin/pip" install -q --disable-pip-version-check 'maturin>=1.9,<2'
PATH="$VENV/bin:$PATH" MATURIN_PEP517_ARGS="--profile release" "$VENV/bin/pip" install -q --disable-pip-version-check \
  --no-build-isolation --force-reinstall --no-deps "$ROOT/bindings/python"

work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
model=$work/model
mkdir -p "$model"
# Incompressible bytes, two shards of the weights and a config, as a checkpoint is laid out.
half=$((SIZE_MIB / 2))
for i in 1 2; do
  head -c $((half << 20)) /dev/urandom > "$model/model-0000$i-of-00002.safetensors"
done
printf '{"architectures": ["Bench"]}' > "$model/config.json"

"$bin" -q key generate --alg ES256 -o "$work/publisher"
"$bin" -q publish "$model" --oci-layout "$work/layout:v1" --key "$work/publisher.key" \
  --issuer https://publisher.example >/dev/null
"$bin" -q policy init --issuer-key "$work/publisher.pub" --issuer https://publisher.example \
  -o "$work/policy.toml"

"$VENV/bin/python" - "$bin" "$model" "$work/layout:v1" "$work/policy.toml" "$RUNS" "$SIZE_MIB" <<'PY'
import os, statistics, subprocess, sys, time

bin, model, ref, policy, runs, size_mib = sys.argv[1:7]
runs = int(runs)
cli = [bin, "verify-model", model, "--manifest", ref, "--oci-layout", "--policy", policy]
py = [sys.executable, "-c",
      "import modelseal, sys; v = modelseal.verify_model(sys.argv[1], sys.argv[2], policy=sys.argv[3], oci_layout=True); assert v.ok",
      model, ref, policy]

def run(argv):
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{argv[0]} failed")
    return wall, usage.ru_maxrss / 1024  # KiB -> MiB

run(cli)  # warm the page cache
times = {"cli": [], "python": []}
rss = {"cli": 0.0, "python": 0.0}
for _ in range(runs):
    for name, argv in (("cli", cli), ("python", py)):
        wall, peak = run(argv)
        times[name].append(wall)
        rss[name] = max(rss[name], peak)
cli_t, py_t = statistics.median(times["cli"]), statistics.median(times["python"])
gib = int(size_mib) / 1024
print(f"verify-model, {gib:.2f} GiB model (2 files), median of {runs}:")
print(f"  CLI     {cli_t:6.3f} s  {gib / cli_t:5.2f} GiB/s  peak RSS {rss['cli']:6.1f} MiB")
print(f"  Python  {py_t:6.3f} s  {gib / py_t:5.2f} GiB/s  peak RSS {rss['python']:6.1f} MiB")
print(f"  Python / CLI time: {py_t / cli_t:.3f}")
PY
