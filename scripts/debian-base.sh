#!/usr/bin/env bash
# scripts/debian-base.sh — a Debian bookworm minbase root filesystem as a tar, made once with
# debootstrap and cached, for the realistic e2e and benchmark images (no registry is reachable,
# so images are built FROM a base we import ourselves).
#
#   scripts/debian-base.sh [OUT.tar]      prints the path of the tar (default: the cache file)
#
# Then:  docker import OUT.tar layerflat-base:bookworm
set -euo pipefail
CACHE_DIR="${LAYERFLAT_CACHE_DIR:-/var/cache/layerflat}"
# v2: "/" is 0755 (v1 kept mktemp's 0700, and non-root users in the image could run nothing)
OUT="${1:-$CACHE_DIR/debian-bookworm-minbase-v2.tar}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if [ -s "$OUT" ]; then
  printf '%s\n' "$OUT"
  exit 0
fi
command -v debootstrap >/dev/null || { apt-get update -q && apt-get install -y -q debootstrap; }
mkdir -p "$(dirname "$OUT")"
root="$(mktemp -d "${TMPDIR:-/tmp}/layerflat-debootstrap.XXXXXX")"
trap 'rm -rf "$root"' EXIT
chmod 0755 "$root" # the image's "/": mktemp made it 0700
debootstrap --variant=minbase bookworm "$root" "$MIRROR" >&2
# apt caches and logs are build leftovers, not part of a base image
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log
tar --numeric-owner --xattrs --xattrs-include='*' -C "$root" -cf "$OUT.tmp" .
mv "$OUT.tmp" "$OUT"
printf '%s\n' "$OUT"
