#!/usr/bin/env bash
# Tests of scripts/registry.sh, against the real docker-registry it starts.
set -uo pipefail
cd "$(dirname "$0")/.."
REG=scripts/registry.sh
passed=0 failed=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

check() { # NAME CONDITION-EXIT-CODE
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); echo "ok   $1"; else failed=$((failed + 1)); echo "FAIL $1"; fi
}
listening() { curl -s -o /dev/null --max-time 2 "$1/v2/"; }

# 1. A blob pushed through the distribution API comes back byte for byte; the env names the registry.
bash "$REG" -- bash -c '
  set -e
  url=http://$MODELSEAL_TEST_REGISTRY
  [ "$url" = "$MODELSEAL_TEST_REGISTRY_URL" ]
  [ "$(curl -s -o /dev/null -w "%{http_code}" "$url/v2/")" = 200 ]
  printf "hello registry" > "$0/blob"
  digest=sha256:$(sha256sum "$0/blob" | cut -d" " -f1)
  location=$(curl -s -D - -o /dev/null -X POST "$url/v2/harness/blobs/uploads/" | tr -d "\r" | sed -n "s/^[Ll]ocation: //p")
  case "$location" in http*) ;; *) location=$url$location ;; esac
  case "$location" in *\?*) sep="&" ;; *) sep="?" ;; esac
  [ "$(curl -s -o /dev/null -w "%{http_code}" -X PUT -H "Content-Type: application/octet-stream" \
        --data-binary @"$0/blob" "$location${sep}digest=$digest")" = 201 ]
  curl -sf "$url/v2/harness/blobs/$digest" | cmp - "$0/blob"
  echo "$url $MODELSEAL_TEST_REGISTRY_DIR" > "$0/seen"
' "$work"
check "push and fetch a blob" $?
read -r seen_url seen_dir < "$work/seen" 2>/dev/null || seen_url="" seen_dir=""

# 2. Once the command ends, the registry is stopped and its storage removed.
if [ -n "$seen_url" ] && ! listening "$seen_url" && [ ! -e "$seen_dir" ]; then r=0; else r=1; fi
check "stops the registry and removes its storage" $r

# 3. The command's exit code is the script's.
bash "$REG" -- bash -c 'exit 7'
check "propagates the command's exit code" $([ $? -eq 7 ]; echo $?)

# 4. With --auth, /v2/ wants the credentials, and only those.
bash "$REG" --auth alice:s3cret -- bash -c '
  set -e
  url=$MODELSEAL_TEST_REGISTRY_URL
  [ "$MODELSEAL_TEST_REGISTRY_USER" = alice ] && [ "$MODELSEAL_TEST_REGISTRY_PASSWORD" = s3cret ]
  [ "$(curl -s -o /dev/null -w "%{http_code}" "$url/v2/")" = 401 ]
  [ "$(curl -s -o /dev/null -w "%{http_code}" -u alice:wrong "$url/v2/")" = 401 ]
  [ "$(curl -s -o /dev/null -w "%{http_code}" -u alice:s3cret "$url/v2/")" = 200 ]
'
check "htpasswd auth" $?

# 5. Without a command it prints the URL, serves, and stops cleanly on SIGTERM.
bash "$REG" > "$work/fg.out" 2> "$work/fg.err" &
fg_pid=$!
for _ in $(seq 1 100); do [ -s "$work/fg.out" ] && break; sleep 0.1; done
fg_url=$(head -n1 "$work/fg.out")
if [[ "$fg_url" == http://127.0.0.1:* ]] && listening "$fg_url"; then r=0; else r=1; fi
check "foreground mode prints a URL that answers" $r
kill -TERM "$fg_pid"; wait "$fg_pid" 2>/dev/null
fg_dir=$(sed -n 's/.*(storage \(.*\)\/storage).*/\1/p' "$work/fg.err")
if [ -n "$fg_url" ] && ! listening "$fg_url" && [ -n "$fg_dir" ] && [ ! -e "$fg_dir" ]; then r=0; else r=1; fi
check "foreground mode stops on SIGTERM and cleans up" $r

# 6. Two registries at once get different ports (tests may run side by side).
bash "$REG" -- bash -c 'bash "$0" -- bash -c "[ \"\$MODELSEAL_TEST_REGISTRY\" != \"$MODELSEAL_TEST_REGISTRY\" ]"' "$REG"
check "two registries side by side" $?

# 7. Bad usage is exit 2 with the usage text.
bash "$REG" --auth nocolon -- true 2> "$work/usage.err"
if [ $? -eq 2 ] && grep -q "USER:PASS" "$work/usage.err"; then r=0; else r=1; fi
check "bad --auth is a usage error" $r

echo "registry harness: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
