#!/usr/bin/env bash
# Fuzz the COSE/receipt parsers and the whole verifier with libFuzzer (cargo fuzz).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     default 300; seeds the corpus from the real vectors
#
# cargo-fuzz needs nightly flags; this machine has one stable toolchain, so RUSTC_BOOTSTRAP=1
# lets stable accept them (the sanitizer runtimes ship with it).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs=${1:-300}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
export RUSTC_BOOTSTRAP=1
for target in cose verify; do
  mkdir -p "corpus/$target"
  cp ../../shared/vectors/scitt-for-phi/*.scitt ../../shared/vectors/scitt-for-phi/*.receipt "corpus/$target/" 2>/dev/null || true
  echo "== fuzzing $target for ${secs}s"
  cargo fuzz run "$target" "corpus/$target" -- -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 2>&1 \
    | grep -E "^(#[0-9]+.*(DONE|pulse)|Done|==|SUMMARY|INFO: Running)|panicked|ERROR" || true
  [ ! -d "artifacts/$target" ] || [ -z "$(ls -A "artifacts/$target" 2>/dev/null)" ] || { echo "fuzz: crash artifacts in fuzz/artifacts/$target" >&2; exit 1; }
done
echo "fuzz: no crashes"
