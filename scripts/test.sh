#!/usr/bin/env bash
# All of modelseal's tests, on a fresh machine: installs what they need (Debian's docker-registry
# for the registry harness, a Python venv with the peer tools for interop), then runs
#   1. the registry harness (scripts/registry.sh, for real),
#   2. the library without default features: it builds, and has no CLI, server or log crate
#      (scripts/lib-features.sh; the layering of docs/architecture.md is tests/it/layering.rs),
#   3. every cargo test (unit and integration), with a real registry in MODELSEAL_TEST_REGISTRY,
#   4. the interop tests against model-signing (scripts/interop.sh),
#   5. sigstore-conformance's 140 verification cases through scripts/sigstore-conformance-client
#      (scripts/conformance.sh; the suite's requirements.txt goes into the same venv),
#   6. the Python bindings: `pip install ./bindings/python` into the same venv, then their pytest
#      suite with a real registry (scripts/python.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

# Each stage's time, and the total at the end (the budget is 30 minutes on 2 cores).
started=$SECONDS
stage_started=$SECONDS
stage_name=
stage_done() {
  if [ -n "$stage_name" ]; then echo "   ($stage_name: $((SECONDS - stage_started)) s)"; fi
}
stage() {
  stage_done
  stage_name=$1
  stage_started=$SECONDS
  echo "== $1"
}
trap 'stage_done; echo "== scripts/test.sh: $((SECONDS - started)) s in all"' EXIT

need_debs=()
command -v curl >/dev/null || need_debs+=(curl)
command -v openssl >/dev/null || need_debs+=(openssl)
command -v skopeo >/dev/null || need_debs+=(skopeo)   # reads our layouts and registry manifests
if [ ${#need_debs[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null && apt-get install -y -q "${need_debs[@]}" >/dev/null
fi

stage "registry harness"
bash tests/registry_harness.sh

stage "library without default features"
scripts/lib-features.sh

stage "cargo tests (with a real registry)"
scripts/registry.sh -- cargo test --all-targets

stage "doctests, and the API docs with warnings as errors"
cargo test --doc --quiet
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --lib --quiet

stage "interop with the peer tools"
scripts/interop.sh

stage "sigstore-conformance (verification cases)"
scripts/conformance.sh

stage "Python bindings (pip install ./bindings/python, pytest with a real registry)"
scripts/python.sh
