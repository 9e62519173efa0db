#!/usr/bin/env bash
# scripts/bench/deep-paths.sh — flatten, verify and inspect on nests of directories 1,000, 4,000 and
# 10,000 levels deep (scripts/bench/make-deep.mjs), to show each is linear in the input (issue #9:
# 4,000 levels took 38 s to flatten and overflowed verify's stack). Prints a markdown table; the
# archive grows with the square of the depth (every entry names its whole path).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f dist/cli/main.js ] || npm run build >/dev/null
work="$(mktemp -d "${TMPDIR:-/tmp}/lf-deep-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }'; }
echo '| levels | archive | flatten | verify | inspect |'
echo '| ---: | ---: | ---: | ---: | ---: |'
for n in 1000 4000 10000; do
  node scripts/bench/make-deep.mjs "$n" "$work/deep.tar"
  size=$(du -m "$work/deep.tar" | cut -f1)
  f=$(secs node dist/cli/main.js flatten "$work/deep.tar" "$work/flat.tar" -q)
  v=$(secs node dist/cli/main.js verify "$work/deep.tar" "$work/flat.tar")
  i=$(secs node dist/cli/main.js inspect "$work/deep.tar" --json)
  echo "| $n | ${size} MB | ${f} s | ${v} s | ${i} s |"
  rm -f "$work/deep.tar" "$work/flat.tar"
done
