#!/usr/bin/env bash
# sigstore-conformance's verification cases (140: every test/assets/bundle-verify case, given as a
# file and as a digest) against modelseal, through scripts/sigstore-conformance-client, offline.
#
#   scripts/conformance.sh [PYTEST ARGS...]
#
# The suite is the read-only copy in ../shared/conformance (see its README); its pinned
# requirements.txt goes into the interop venv (target/venv, as scripts/interop.sh makes it).
# Signing tests are skipped (they need Fulcio and Rekor online); so are the CPython release
# bundles, which need a checkout of cpython-release-tracker.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
shared=${MODELSEAL_SHARED:-$root/../shared}
suite=$shared/conformance/sigstore-conformance
[ -d "$suite/test/assets/bundle-verify" ] || { echo "conformance: no suite at $suite" >&2; exit 2; }

VENV=${MODELSEAL_PEER_VENV:-$root/target/venv}
reqs=$suite/requirements.txt
stamp="$VENV/.modelseal-conformance"
want=$(sha256sum "$reqs" | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ]; then
  if ! python3 -m venv "$VENV" 2>/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q python3-venv >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q python3-venv >/dev/null; }
    python3 -m venv "$VENV"
  fi
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "conformance: installing the suite's requirements.txt into $VENV" >&2
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$reqs"
  echo "$want" > "$stamp"
fi

cargo build -q --bin modelseal
export MODELSEAL=$root/target/debug/modelseal
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cd "$suite"
# The suite folder is read-only: no cache, no bytecode, reports elsewhere.
PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$shared/conformance" \
  "$VENV/bin/python" -m pytest -p offline_plugin -p no:cacheprovider \
  --entrypoint="$root/scripts/sigstore-conformance-client" --skip-signing \
  -k "test_verify and not cpython" -q -rfEx "$@"
