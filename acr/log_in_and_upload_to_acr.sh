#!/usr/bin/env bash
# The seed demo's ACR flow with modelseal: log in with the Azure CLI's identity token, push the
# model manifest as an in-toto/model-manifest artifact, attach the transparent statement as a
# referrer, and show the referrer tree.
#
#   cp acr/acr_env.example acr/acr_env && $EDITOR acr/acr_env
#   az login && acr/log_in_and_upload_to_acr.sh
#
# The token is passed on stdin, never on the command line, and is never printed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null
source "${ACR_ENV:-$here/acr_env}"
: "${ACR_NAME:?} ${REPOSITORY:?} ${TAG:?} ${MANIFEST:?} ${STATEMENT:?}"
bin=${MODELSEAL:-modelseal}
registry="${ACR_REGISTRY:-$ACR_NAME.azurecr.io}"   # ACR_REGISTRY: tests point it elsewhere
ref="$registry/$REPOSITORY:$TAG"

# ACR identity tokens are used as the password of the all-zero user.
token=$(az acr login --name "$ACR_NAME" --expose-token --output tsv --query accessToken)
user=00000000-0000-0000-0000-000000000000

printf '%s\n' "$token" | "$bin" push "$ref" "$MANIFEST" -u "$user" --password-stdin
printf '%s\n' "$token" | "$bin" attach "$ref" "$STATEMENT" -u "$user" --password-stdin
printf '%s\n' "$token" | "$bin" discover "$ref" -u "$user" --password-stdin
