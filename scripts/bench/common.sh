# Sourced by the benches that run against the loopback registry (scripts/registry.sh):
#
#   source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
#   on_loopback_registry NAME
#   measure CMD...   # → "seconds peak_rss_kib" (GNU time -v); best < lines  # best time, max RSS
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

# measure CMD... → "seconds rss_kib"; fails if CMD fails.
measure() {
  local out=$work/time.txt
  /usr/bin/time -v -o "$out" "$@" >/dev/null
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$out")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out")
  echo "$wall $rss"
}
best() { # best time, max RSS over "seconds rss" lines on stdin
  awk 'NR==1 || $1<t {t=$1} $2>r {r=$2} END {print t, r}'
}
