#!/usr/bin/env bash
# npm run demo: flatten the bundled sample image (a 19-layer image built by docker on vfs,
# test/fixtures/docker-rules.tar) and show its layers and VFS cost before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
sample=test/fixtures/docker-rules.tar
out="${TMPDIR:-/tmp}/layerflat-demo"
mkdir -p "$out"
layerflat() { node dist/cli/main.js "$@"; }

echo "== before: $sample ($(du -h "$sample" | cut -f1))"
layerflat inspect "$sample" --top 5
echo
echo "== flatten (checked with --verify before it is written)"
layerflat flatten "$sample" "$out/flat.tar" --verify --force
echo
echo "== after: $out/flat.tar ($(du -h "$out/flat.tar" | cut -f1))"
layerflat inspect "$out/flat.tar" --top 0
layerflat inspect "$sample" --svg "$out/vfs-cost.svg" >/dev/null
echo
echo "chart of the VFS cost: $out/vfs-cost.svg"
