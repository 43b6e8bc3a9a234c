#!/usr/bin/env bash
# The Python bindings (bindings/python): built and installed with pip into the interop venv
# (target/venv), the way a user installs them, then their pytest suite against a real registry
# (scripts/registry.sh) with fixtures published by the real CLI.
#
#   scripts/python.sh [PYTEST ARGS...]
#
# The extension is built in target/ (CARGO_TARGET_DIR) with the dev profile: its dependencies are
# then exactly those `cargo build --lib --no-default-features` (scripts/lib-features.sh) already
# built, and only PyO3 and the extension are compiled. A user's `pip install ./bindings/python`
# builds release; MATURIN_PEP517_ARGS="--profile release" here does the same
# (scripts/bench/python_verify.sh measures that build).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${MODELSEAL_PEER_VENV:-$PWD/target/venv}
reqs=bindings/python/requirements-test.txt
stamp="$VENV/.modelseal-python"

if [ ! -x "$VENV/bin/python" ]; then
  if ! python3 -m venv "$VENV" 2>/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q python3-venv >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q python3-venv >/dev/null; }
    python3 -m venv "$VENV"
  fi
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$(sha256sum < "$reqs")" ]; then
  echo "python: installing $reqs into $VENV" >&2
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$reqs"
  sha256sum < "$reqs" > "$stamp"
fi

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
export MATURIN_PEP517_ARGS=${MATURIN_PEP517_ARGS:---profile dev}
# maturin's build hook runs `maturin` from PATH (without build isolation: the venv's).
export PATH="$VENV/bin:$PATH"
echo "python: pip install ./bindings/python" >&2
"$VENV/bin/pip" install -q --disable-pip-version-check --no-build-isolation --force-reinstall --no-deps ./bindings/python

# The fixtures are published by the CLI that `cargo test` built.
cargo build --quiet --bin modelseal
export MODELSEAL_BIN=${MODELSEAL_BIN:-$CARGO_TARGET_DIR/debug/modelseal}
scripts/registry.sh -- "$VENV/bin/python" -m pytest -p no:cacheprovider bindings/python/tests "$@"
