#!/usr/bin/env bash
# scripts/bench/against-revision.sh REV [INPUT] [ROUNDS] — time this checkout's build against REV's
# build on the same docker-archive INPUT (default: the bench's cached big image), alternating
# runs, the page cache dropped before each (as root). A machine whose speed drifts between two
# bench runs (shared hosts) shows a slowdown in absolute seconds; this shows the code's own.
# Prints a markdown table and writes it as the "## Against the previous revision" section of
# docs/benchmarks.md (LF_BENCH_DOC=- for none).
set -euo pipefail
cd "$(dirname "$0")/../.."
rev="${1:?usage: against-revision.sh REV [INPUT] [ROUNDS]}"
input="${2:-${LAYERFLAT_BENCH_CACHE:-/var/cache/layerflat/bench}/big.tar}"
rounds="${3:-3}"
doc="${LF_BENCH_DOC:-docs/benchmarks.md}"
work="$(mktemp -d "${TMPDIR:-/var/tmp}/lf-against.XXXXXX")"
trap 'git worktree remove --force "$work/old" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
npm run build >/dev/null
git worktree add -q --detach "$work/old" "$rev"
ln -s "$PWD/node_modules" "$work/old/node_modules"
(cd "$work/old" && npx tsc -p tsconfig.json >/dev/null)
drop() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }
run() { # CLI → seconds
  local t0 t1
  rm -f "$work/flat.tar"
  drop
  t0=$(date +%s.%N)
  node "$1" flatten "docker-archive:$input" "docker-archive:$work/flat.tar" -q
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}
new=() old=()
for ((i = 0; i < rounds; i++)); do
  old+=("$(run "$work/old/dist/cli/main.js")")
  new+=("$(run dist/cli/main.js)")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
mo=$(median "${old[@]}") mn=$(median "${new[@]}")
here="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo '+changes')"
table="$(
  echo "| build | runs (s) | median s |"
  echo "| --- | --- | ---: |"
  echo "| $rev (previous) | ${old[*]} | $mo |"
  echo "| $here (this) | ${new[*]} | $mn |"
  awk -v o="$mo" -v n="$mn" 'BEGIN { printf "\nthis / previous: %.3f (%+.1f%%)\n", n / o, (n / o - 1) * 100 }'
)"
echo "$table"
[ "$doc" != - ] || exit 0
{
  echo "Measured by \`scripts/bench/against-revision.sh $rev\` on $(date -u +%Y-%m-%d): \`flatten\` docker-archive →"
  echo "docker-archive of $(basename "$input") ($(du -m "$input" | cut -f1) MB), the two builds alternating, $rounds runs each, the page"
  echo "cache dropped before each run; load average at the end $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "$table"
} | node scripts/e2e/doc-section.mjs "$doc" "## Against the previous revision"
