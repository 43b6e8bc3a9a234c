#!/usr/bin/env bash
# The main job end to end, on embedded defaults: build modelseal, make the manifest of the bundled
# example model, check the model against it, and show a tampered copy being refused.
# (Later issues extend this same script to sign, register, push and verify.)
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet
bin=target/release/modelseal
work=target/demo
rm -rf "$work" && mkdir -p "$work"

echo "== 1. manifest of examples/tiny-model (model-signing format)"
"$bin" hash examples/tiny-model -o "$work/tiny-model.manifest.json"

echo "== 2. the model checks against its manifest"
"$bin" hash --check "$work/tiny-model.manifest.json" examples/tiny-model

echo "== 3. a tampered copy is refused"
cp -r examples/tiny-model "$work/tampered"
printf '{"architectures": ["Backdoor"]}\n' > "$work/tampered/config.json"
if "$bin" hash --check "$work/tiny-model.manifest.json" "$work/tampered"; then
  echo "demo: the tampered model was accepted" >&2
  exit 1
fi
echo "demo: ok (tampered model refused, exit code 1 as documented)"
