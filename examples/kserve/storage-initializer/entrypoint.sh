#!/bin/sh
# KServe storage initializer: KServe runs it as an init container with two arguments, the
# InferenceService's storageUri and the directory the model server reads (/mnt/models):
#
#   entrypoint.sh modelseal://REGISTRY/REPO:TAG /mnt/models
#
# It writes the model there only if the artifact meets the trust policy (signatures, receipts,
# bindings) and every file matches the signed manifest: `modelseal pull --verify` stages and
# checks everything before a byte reaches DEST. Anything else fails the pod's init, so the model
# server never starts on an unverified model.
#
# MODELSEAL_POLICY   the trust policy (default /etc/modelseal/policy.toml: the ConfigMap mount;
#                    key paths in it are relative to it, so the keys ship in the same ConfigMap)
# DOCKER_CONFIG      registry credentials (a mounted dockerconfigjson Secret), as for docker
set -eu

if [ $# -ne 2 ]; then
  echo "usage: $0 modelseal://REGISTRY/REPO:TAG|@DIGEST DEST_DIR" >&2
  exit 2
fi
src=$1
dest=$2
case "$src" in
  modelseal://*) reference=${src#modelseal://} ;;
  *)
    echo "storage-initializer: '$src' is not a modelseal:// URI" >&2
    exit 2
    ;;
esac
policy=${MODELSEAL_POLICY:-/etc/modelseal/policy.toml}

echo "storage-initializer: pulling $reference into $dest (verified under $policy)" >&2
exec modelseal pull --verify "$reference" -o "$dest" --policy "$policy"
