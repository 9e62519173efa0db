#!/usr/bin/env bash
# scripts/fuzz.sh — the long fuzz run (npm run fuzz): every property of test/*/fuzz.test.ts with
# LAYERFLAT_FUZZ_RUNS runs each (default 25000; properties that build files or spawn the CLI run
# a declared fraction of that), one test file after another so the seconds are each property's
# own. Writes the numbers to docs/reliability.md (scripts/fuzz-report.mjs) and exits non-zero
# when a property failed — its seed and shrunk case are in the vitest output and in the report.
#
#   LAYERFLAT_FUZZ_RUNS=N    runs of each in-process property (default 25000)
#   LAYERFLAT_FUZZ_SEED=S    one seed for every property (default: a fresh one each)
#   LAYERFLAT_FUZZ_DOC=F     the report to write (default docs/reliability.md; "-" for none)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export LAYERFLAT_FUZZ_RUNS="${LAYERFLAT_FUZZ_RUNS:-25000}"
DOC="${LAYERFLAT_FUZZ_DOC:-docs/reliability.md}"
report="$(mktemp "${TMPDIR:-/tmp}/layerflat-fuzz-XXXXXX.jsonl")"
trap 'rm -f "$report"' EXIT
export LAYERFLAT_FUZZ_REPORT="$report"

npm run build --silent
started=$(date +%s)
status=0
npx vitest run --no-file-parallelism --testTimeout=0 \
  test/tar/fuzz.test.ts test/image/fuzz.test.ts test/merge/fuzz.test.ts test/formats/fuzz.test.ts \
  test/cli/fuzz.test.ts || status=$?
seconds=$(( $(date +%s) - started ))
if [ "$DOC" != "-" ]; then
  node scripts/fuzz-report.mjs "$report" "$DOC" "$seconds"
  echo "fuzz: numbers written to $DOC"
fi
exit "$status"
