#!/usr/bin/env bash
# scripts/bench/big-image.sh — build (once) the benchmark's big realistic image with a real
# engine and cache its `docker save` tar; prints the tar's path.
#
#   scripts/bench/big-image.sh            → /var/cache/layerflat/bench/big.tar (built if missing)
#
# A private dockerd on vfs (scripts/engines.sh, state dir $LAYERFLAT_ENGINES_DIR, default
# /tmp/layerflat-bench-engines) builds scripts/bench/big-image.Dockerfile FROM the imported
# debootstrap base (scripts/debian-base.sh) with --network host. Once the tar is saved, the
# daemon is stopped and its state dir removed (vfs keeps one full copy of the tree per layer).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${LAYERFLAT_BENCH_CACHE:-/var/cache/layerflat/bench}"
OUT="$CACHE/big.tar"
TAG="layerflat-bench/big:latest"
export LAYERFLAT_ENGINES_DIR="${LAYERFLAT_ENGINES_DIR:-/tmp/layerflat-bench-engines}"
# shellcheck source=scripts/engines.sh
source "$ROOT/scripts/engines.sh"
log() { printf '[big-image] %s\n' "$*" >&2; }

if [ -s "$OUT" ]; then printf '%s\n' "$OUT"; exit 0; fi
lf_require_root
mkdir -p "$CACHE"
avail_gb=$(( $(df --output=avail -k "$CACHE" | tail -1) / 1024 / 1024 ))
engines_avail_gb=$(( $(df --output=avail -k "$(dirname "$LAYERFLAT_ENGINES_DIR")" | tail -1) / 1024 / 1024 ))
log "free: ${avail_gb} GB at $CACHE, ${engines_avail_gb} GB for $LAYERFLAT_ENGINES_DIR (the vfs build needs ~25 GB)"
[ "$engines_avail_gb" -ge 35 ] || { log "ERROR: need at least 35 GB free for the vfs build"; exit 1; }

base_tar="$("$ROOT/scripts/debian-base.sh")"
started_here=0
lf_docker_running || started_here=1
lf_docker_start
cleanup() {
  set +e
  if [ "$started_here" = 1 ]; then
    lf_docker_stop
    lf_umount_below "$(lf_docker_dir)"
    rm -rf "$(lf_docker_dir)"
  fi
}
trap cleanup EXIT

lf_docker image inspect layerflat-base:bookworm >/dev/null 2>&1 \
  || lf_docker import "$base_tar" layerflat-base:bookworm >/dev/null
ctx="$(mktemp -d)"
cp "$ROOT/scripts/bench/big-image.Dockerfile" "$ctx/Dockerfile"
log "docker build (vfs, --network host): this takes a while"
t0=$(date +%s)
DOCKER_BUILDKIT=0 lf_docker build --network host -t "$TAG" "$ctx" >"$CACHE/build.log" 2>&1 \
  || { tail -n 40 "$CACHE/build.log" >&2; rm -rf "$ctx"; exit 1; }
rm -rf "$ctx"
log "built in $(( $(date +%s) - t0 )) s; vfs state: $(du -sh "$(lf_docker_dir)" | cut -f1)"
lf_docker save -o "$OUT.part" "$TAG"
mv "$OUT.part" "$OUT"
lf_docker rmi -f "$TAG" >/dev/null || true
log "saved $OUT ($(du -h "$OUT" | cut -f1))"
printf '%s\n' "$OUT"
