#!/usr/bin/env bash
# npm run test:nodes: build dist/, the bundle and the RHEL 7 tarball, fetch the pinned Node
# binaries (scripts/nodes/versions.txt), then run the CLI scenario suite under each of them
# and the glibc 2.17 check of the tarball (both in test/e2e/nodes/scenarios.test.ts).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v zstd >/dev/null || { echo "test:nodes: zstd is needed (apt-get install zstd)" >&2; exit 2; }
npm run build --silent
bash scripts/package-rhel7.sh
npx vitest run --config vitest.nodes.config.ts
