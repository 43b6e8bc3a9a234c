#!/usr/bin/env bash
# The main job end to end, on embedded defaults (no registry, no service, no setup): build
# modelseal; make a dev key and an embedded transparency log; publish the bundled example model
# (hash → SCITT signed statement → registered in the log, receipt stapled → push manifest and
# files → attach the transparent statement) to a local OCI layout; write a trust policy that
# requires the receipt; verify the referrer tree; pull with verification; refuse a tampered model.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet
bin=target/release/modelseal
work=target/demo
rm -rf "$work" && mkdir -p "$work"
layout="$work/layout"

echo "== 1. a dev signing key, and an embedded transparency log that accepts its statements"
"$bin" key generate -o "$work/dev"
"$bin" ts init --dir "$work/ts" --issuer-key "$work/dev.pub"

echo "== 2. publish examples/tiny-model to the local OCI layout $layout"
"$bin" publish examples/tiny-model "$layout:v1" --oci-layout --files --key "$work/dev.key" \
  --issuer https://publisher.example --subject example/tiny-model --ts "local:$work/ts"

echo "== 3. a trust policy: statements by this key, claiming this issuer and subject, logged"
"$bin" policy init --issuer-key "$work/dev.pub" --issuer https://publisher.example \
  --subject example/tiny-model --ts-key "$work/ts/service.pub" --min-receipts 1 -o "$work/policy.toml"

echo "== 4. the referrer tree meets the policy"
"$bin" discover --oci-layout "$layout:v1" --verify --policy "$work/policy.toml"

echo "== 5. pull --verify: checked before anything is written"
"$bin" pull --oci-layout "$layout:v1" --verify --policy "$work/policy.toml" -o "$work/pulled"

echo "== 6. a tampered copy on disk is refused"
cp -r "$work/pulled" "$work/tampered"
printf '{"architectures": ["Backdoor"]}\n' > "$work/tampered/config.json"
set +e
"$bin" verify-model "$work/tampered" --oci-layout --manifest "$layout:v1" --policy "$work/policy.toml"
status=$?
set -e
if [ "$status" -ne 1 ]; then
  echo "demo: the tampered model was not refused (exit $status)" >&2
  exit 1
fi
echo "demo: ok (published, verified, pulled; tampered model refused with exit code 1 as documented)"
