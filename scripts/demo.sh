#!/usr/bin/env bash
# The main job end to end, on embedded defaults: build modelseal, hash the bundled example model,
# sign its manifest as a SCITT signed statement with a fresh dev key, verify the statement and the
# model files, and show a tampered copy being refused.
# (Later issues extend this same script to register, push and verify from a registry.)
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet
bin=target/release/modelseal
work=target/demo
rm -rf "$work" && mkdir -p "$work"

echo "== 1. manifest of examples/tiny-model (model-signing format)"
"$bin" hash examples/tiny-model -o "$work/tiny-model.manifest.json"
"$bin" hash --check "$work/tiny-model.manifest.json" examples/tiny-model

echo "== 2. a dev key, and the model signed as a SCITT statement (COSE_Sign1, ES256)"
"$bin" key generate -o "$work/dev"
"$bin" sign examples/tiny-model --key "$work/dev.key" \
  --issuer https://publisher.example --subject example/tiny-model -o "$work/tiny-model.cose"

echo "== 3. the statement and every model file verify"
"$bin" verify "$work/tiny-model.cose" --key "$work/dev.pub" --model examples/tiny-model

echo "== 4. a tampered copy is refused"
cp -r examples/tiny-model "$work/tampered"
printf '{"architectures": ["Backdoor"]}\n' > "$work/tampered/config.json"
set +e
"$bin" verify "$work/tiny-model.cose" --key "$work/dev.pub" --model "$work/tampered"
status=$?
set -e
if [ "$status" -ne 1 ]; then
  echo "demo: the tampered model was not refused (exit $status)" >&2
  exit 1
fi
echo "demo: ok (tampered model refused, exit code 1 as documented)"
