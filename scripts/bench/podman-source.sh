#!/usr/bin/env bash
# scripts/bench/podman-source.sh — for docs/benchmarks.md "Podman source: save vs reading the VFS
# layer directory": builds a modest multi-layer image in a rootless podman (vfs) store and measures
#   A. podman save --format docker-archive -o FILE  (what layerflat's containers-storage: source does)
#   B. podman unshare tar --xattrs -C <top layer dir> -cf - . | wc -c  (the alternative: read the
#      VFS top layer, which holds the whole merged rootfs, without a temporary copy)
# with a cold page cache before each, reporting seconds and the temporary disk each needs.
#
# Run as root (it drops the page cache and runs podman as the rootless user):
#   LF_ROOTLESS_USER=lfuser2 LAYERFLAT_ENGINES_DIR=/tmp/wt-podman-engines scripts/bench/podman-source.sh
# Needs a base rootfs tar (scripts/debian-base.sh makes one). Removes its images at the end.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
# shellcheck source=../engines.sh
source "$ROOT/scripts/engines.sh"
lf_rootless_setup
R="$(lf_rootless_dir)"
W="$R/bench-podman-source"
IMG=localhost/layerflat-bench/podman-source:latest
rm -rf "$W" && mkdir -p "$W" && chown "$LF_ROOTLESS_USER:" "$W"
base="$(bash "$ROOT/scripts/debian-base.sh")"
cp "$base" "$W/base.tar" && chown "$LF_ROOTLESS_USER:" "$W/base.tar"
cat >"$W/Containerfile" <<'CF'
FROM localhost/layerflat-bench/base:latest
RUN head -c 60000000 /dev/urandom >/opt/a.bin
RUN cp -a /usr/share /opt/share-copy
RUN head -c 40000000 /dev/urandom >/opt/b.bin && rm /opt/a.bin
RUN chmod -R g+w /usr/lib && echo changed >/etc/motd
RUN cp /bin/ls /opt/ls-capped && setfattr -n user.layerflat -v bench /opt/ls-capped 2>/dev/null || true
CF
chown "$LF_ROOTLESS_USER:" "$W/Containerfile"
podman_rootless import "$W/base.tar" localhost/layerflat-bench/base:latest >/dev/null
podman_rootless build --network none -q -t "$IMG" "$W" >/dev/null
layers="$(podman_rootless image inspect --format '{{len .RootFS.Layers}}' "$IMG")"
size="$(podman_rootless image inspect --format '{{.Size}}' "$IMG")"
echo "image: $IMG, $layers layers, podman Size $size bytes"
# the top layer of the image: vfs keeps it as a full directory of the merged rootfs
top="$(podman_rootless unshare sh -c "cat '$R/storage/vfs-images/images.json'" |
  python3 -c 'import json,sys; print([i["layer"] for i in json.load(sys.stdin) if "'"$IMG"'" in i.get("names",[])][0])')"
dir="$R/storage/vfs/dir/$top"
echo "top layer dir: $dir ($(du -sb "$dir" | cut -f1) bytes by du -sb)"
cold() { sync; echo 3 >/proc/sys/vm/drop_caches; }
t() { local a b; a="$(date +%s.%N)"; "$@"; b="$(date +%s.%N)"; awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f\n", b - a }'; }
for run in 1 2 3; do
  cold
  rm -f "$W/save.tar"
  ( peak=0; while [ ! -e "$W/save.done" ]; do
      n="$(du -sb "$R/tmp" 2>/dev/null | awk '{ printf "%d", $1 }')"
      [ "$n" -le "$peak" ] || peak="$n"; sleep 0.2
    done; echo "$peak" >"$W/save.peak" ) &
  base_tmp="$(du -sb "$R/tmp" 2>/dev/null | awk '{ printf "%d", $1 }')"
  s="$(t podman_rootless save --format docker-archive -o "$W/save.tar" "$IMG")"
  touch "$W/save.done"; wait
  rm -f "$W/save.done"
  echo "   podman's own temporary space during the save (its --tmpdir): $(($(cat "$W/save.peak") - base_tmp)) bytes at peak"
  bytes="$(stat -c %s "$W/save.tar")"
  echo "A run $run: podman save -o: ${s}s, temporary file $bytes bytes"
  rm -f "$W/save.tar"
  cold
  out="$W/tar.count"
  s="$(t bash -c "$(declare -f podman_rootless lf_rootless_dir); LF_ROOTLESS_USER=$LF_ROOTLESS_USER LF_ENGINES_DIR=$LF_ENGINES_DIR; podman_rootless unshare tar --xattrs --xattrs-include='*' -C '$dir' -cf - . | wc -c >'$out'")"
  echo "B run $run: podman unshare tar --xattrs of the top layer dir | wc -c: ${s}s, $(cat "$out") bytes streamed, no temporary file"
done
# C: the whole containers-storage: source of layerflat (inspect, space check, save, read, flatten),
# with --podman naming a wrapper that points podman at this store
cat >"$W/podman-vfs" <<SH
#!/bin/sh
exec podman --storage-driver vfs --root "$R/storage" --runroot "$R/runroot" --tmpdir "$R/tmp" \
  --cgroup-manager cgroupfs --events-backend file "\$@"
SH
chmod 0755 "$W/podman-vfs"
node="$(command -v node)"
for run in 1 2 3; do
  cold
  rm -f "$W/flat.tar"
  s="$(t runuser -u "$LF_ROOTLESS_USER" -- env -i HOME=/tmp PATH=/usr/bin:/bin XDG_RUNTIME_DIR="$R/run" \
    TMPDIR="$W" "$node" "$ROOT/dist/cli/main.js" flatten -q --podman "$W/podman-vfs" "containers-storage:$IMG" "$W/flat.tar")"
  echo "C run $run: layerflat flatten containers-storage:IMG flat.tar: ${s}s, flat archive $(stat -c %s "$W/flat.tar") bytes"
done
podman_rootless rmi -f "$IMG" localhost/layerflat-bench/base:latest >/dev/null
rm -rf "$W"
