#!/usr/bin/env bash
# scripts/bench/deep-paths.sh [DOC] — flatten, verify and inspect on nests of directories 1,000,
# 4,000 and 10,000 levels deep (scripts/bench/make-deep.mjs), to show each is linear in the input
# (issue #9: 4,000 levels took 38 s to flatten and overflowed verify's stack). Prints a markdown
# table and writes it as the "## Deep paths" section of DOC (default docs/benchmarks.md; "-" for
# none). The archive grows with the square of the depth (every entry names its whole path).
set -euo pipefail
cd "$(dirname "$0")/../.."
DOC="${1:-docs/benchmarks.md}"
[ -f dist/cli/main.js ] || npm run build >/dev/null
work="$(mktemp -d "${TMPDIR:-/tmp}/lf-deep-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }'; }
table="$work/table.md"
{
  echo '| levels | archive | flatten | verify | inspect |'
  echo '| ---: | ---: | ---: | ---: | ---: |'
} >"$table"
for n in 1000 4000 10000; do
  node scripts/bench/make-deep.mjs "$n" "$work/deep.tar"
  size=$(du -m "$work/deep.tar" | cut -f1)
  f=$(secs node dist/cli/main.js flatten "$work/deep.tar" "$work/flat.tar" -q)
  v=$(secs node dist/cli/main.js verify "$work/deep.tar" "$work/flat.tar")
  i=$(secs node dist/cli/main.js inspect "$work/deep.tar" --json)
  echo "| $n | ${size} MB | ${f} s | ${v} s | ${i} s |" >>"$table"
  rm -f "$work/deep.tar" "$work/flat.tar"
done
cat "$table"
[ "$DOC" != - ] || exit 0
{
  echo "Measured by \`scripts/bench/deep-paths.sh\` on $(date -u +%Y-%m-%d), layerflat $(git rev-parse --short HEAD 2>/dev/null || echo '?'), node $(node --version), $(nproc) CPUs (load average $(cut -d' ' -f1-3 /proc/loadavg))."
  echo 'One layer holding a nest of directories N levels deep ("d/d/…", a small file in each); wall time of the'
  echo "built CLI. Before issue #9, 4,000 levels took 38 s to flatten and overflowed \`verify\`'s stack."
  echo
  cat "$table"
} | node scripts/e2e/doc-section.mjs "$DOC" "## Deep paths"
