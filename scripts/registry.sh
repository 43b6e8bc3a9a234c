#!/usr/bin/env bash
# A real OCI registry (Debian's docker-registry, i.e. CNCF distribution) on 127.0.0.1, for tests and demos.
#
#   scripts/registry.sh [--auth USER:PASS] -- CMD [ARG...]
#       start a registry, run CMD with it, stop it; exits with CMD's exit code. CMD sees
#         MODELSEAL_TEST_REGISTRY=127.0.0.1:PORT     (host:port, plain HTTP)
#         MODELSEAL_TEST_REGISTRY_URL=http://127.0.0.1:PORT
#         MODELSEAL_TEST_REGISTRY_USER / _PASSWORD   (only with --auth)
#         MODELSEAL_TEST_REGISTRY_DIR                (its temp dir: storage, config, log)
#   scripts/registry.sh [--auth USER:PASS]
#       start a registry, print its URL, serve until interrupted.
#
# Storage lives in a fresh temp dir that is removed when the registry stops. docker-registry (and
# apache2-utils for htpasswd with --auth) are installed from Debian's packages when missing.
set -euo pipefail

usage() { sed -n '2,14s/^# \{0,1\}//p' "$0" >&2; exit 2; }

auth=""
while [ $# -gt 0 ]; do
  case "$1" in
    --auth) [ $# -ge 2 ] || usage; auth=$2; shift 2 ;;
    --auth=*) auth=${1#--auth=}; shift ;;
    --) shift; [ $# -gt 0 ] || usage; break ;;
    -h|--help) usage ;;
    *) echo "registry.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
if [ -n "$auth" ] && [[ "$auth" != ?*:?* ]]; then
  echo "registry.sh: --auth wants USER:PASS" >&2; exit 2
fi

install_debs() {
  echo "registry.sh: installing $* from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  # The package's post-install may try to start a system service; policy-rc.d 101 forbids that.
  local rc_d=/usr/sbin/policy-rc.d made_rc_d=""
  if [ ! -e "$rc_d" ]; then printf '#!/bin/sh\nexit 101\n' > "$rc_d"; chmod +x "$rc_d"; made_rc_d=1; fi
  { apt-get install -y -q "$@" >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q "$@" >/dev/null; }; } \
    || { [ -n "$made_rc_d" ] && rm -f "$rc_d"; echo "registry.sh: could not install $*" >&2; exit 2; }
  [ -n "$made_rc_d" ] && rm -f "$rc_d"
  return 0
}

REGISTRY_BIN=$(command -v docker-registry || true)
[ -n "$REGISTRY_BIN" ] || { install_debs docker-registry; REGISTRY_BIN=$(command -v docker-registry); }
command -v curl >/dev/null || install_debs curl
if [ -n "$auth" ]; then command -v htpasswd >/dev/null || install_debs apache2-utils; fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/modelseal-registry.XXXXXX")
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

write_config() {
  local port=$1
  mkdir -p "$dir/storage"
  {
    echo "version: 0.1"
    echo "log: {level: warn}"
    echo "storage:"
    echo "  filesystem: {rootdirectory: $dir/storage}"
    echo "  delete: {enabled: true}"
    echo "http:"
    echo "  addr: 127.0.0.1:$port"
    echo "  secret: $(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
    if [ -n "$auth" ]; then
      echo "auth:"
      echo "  htpasswd: {realm: modelseal-test, path: $dir/htpasswd}"
    fi
  } > "$dir/config.yml"
  if [ -n "$auth" ]; then
    htpasswd -Bbn "${auth%%:*}" "${auth#*:}" > "$dir/htpasswd" 2>/dev/null
  fi
}

# The port is free when asked but could be taken before the registry binds it: try a few.
url=""
for attempt in 1 2 3 4 5; do
  port=$(free_port)
  write_config "$port"
  "$REGISTRY_BIN" serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/" || true)
    if [ "$code" = 200 ] || { [ -n "$auth" ] && [ "$code" = 401 ]; }; then
      url="http://127.0.0.1:$port"; break
    fi
    sleep 0.1
  done
  [ -n "$url" ] && break
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""
done
if [ -z "$url" ]; then
  echo "registry.sh: docker-registry did not answer on /v2/; its log:" >&2
  cat "$dir/registry.log" >&2 || true
  exit 2
fi

export MODELSEAL_TEST_REGISTRY=127.0.0.1:$port
export MODELSEAL_TEST_REGISTRY_URL=$url
export MODELSEAL_TEST_REGISTRY_DIR=$dir
if [ -n "$auth" ]; then
  export MODELSEAL_TEST_REGISTRY_USER=${auth%%:*}
  export MODELSEAL_TEST_REGISTRY_PASSWORD=${auth#*:}
fi

if [ $# -eq 0 ]; then
  echo "$url"
  echo "registry.sh: serving $url (storage $dir/storage); Ctrl-C stops it" >&2
  wait "$pid"
  exit $?
fi

set +e
"$@"
status=$?
set -e
exit "$status"
