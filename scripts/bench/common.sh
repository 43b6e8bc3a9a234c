# Sourced by the benches that run against the loopback registry (scripts/registry.sh):
#
#   source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
#   on_loopback_registry NAME
#
# Outside the registry harness it builds the release binary and runs the calling script again
# under scripts/registry.sh; inside, it sets ROOT, bin (the release modelseal), R (the registry's
# host:port) and work (a scratch directory under $BENCH_DIR or /tmp, removed on exit), and
# checks for GNU time (the benches read peak RSS from `time -v`).
on_loopback_registry() {
  ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  if [ -z "${MODELSEAL_TEST_REGISTRY:-}" ]; then
    (cd "$ROOT" && cargo build --release --quiet)
    exec "$ROOT/scripts/registry.sh" -- bash "$0"
  fi
  command -v /usr/bin/time >/dev/null || { echo "needs GNU time (apt-get install time)" >&2; exit 2; }
  bin=$ROOT/target/release/modelseal
  R=$MODELSEAL_TEST_REGISTRY
  work=$(mktemp -d "${BENCH_DIR:-/tmp}/modelseal-$1.XXXXXX")
  trap 'rm -rf "$work"' EXIT
}
