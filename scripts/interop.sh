#!/usr/bin/env bash
# Interop tests: our output against the real peer tools from PyPI, and theirs against ours.
#
#   scripts/interop.sh            make/refresh the venv (cached in target/venv), run the interop tests (tests/it/interop*.rs)
#
# Peers: model-signing 1.1.1 (sigstore/model-transparency; it imports OpenSSL without declaring
# pyopenssl, so that is installed beside it), pycose 1.1.0 (generic COSE), scitt-cose 0.5.0 (a strict,
# independent COSE-receipt verifier), oras 0.2.43 (oras-py, an OCI client). pycose 1.1.0 breaks
# with cbor2 >= 6, hence the pin. OCI interop also runs skopeo (Debian) against a real registry.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${MODELSEAL_PEER_VENV:-$PWD/target/venv}
PEERS=(model-signing==1.1.1 pyopenssl pycose==1.1.0 scitt-cose==0.5.0 "cbor2<6" oras==0.2.43 jsonschema)
stamp="$VENV/.modelseal-peers"

if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "${PEERS[*]}" ]; then
  echo "interop: installing ${PEERS[*]} into $VENV" >&2
  if ! python3 -m venv "$VENV" 2>/dev/null; then
    # Debian's python3 needs python3-venv for `-m venv`.
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q python3-venv >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q python3-venv >/dev/null; }
    python3 -m venv "$VENV"
  fi
  "$VENV/bin/pip" install -q --disable-pip-version-check "${PEERS[@]}"
  echo "${PEERS[*]}" > "$stamp"
fi

export MODELSEAL_PEER_VENV=$VENV
echo "interop: peers $("$VENV/bin/model_signing" --version)" >&2
command -v skopeo >/dev/null || { export DEBIAN_FRONTEND=noninteractive; apt-get install -y -q skopeo >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q skopeo >/dev/null; }; }
scripts/registry.sh -- cargo test --test it -- --ignored interop
