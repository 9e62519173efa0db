#!/usr/bin/env bash
# scripts/make-fixtures.sh — rebuild test/fixtures/ with REAL container engines.
#
# Not run in CI: the fixtures are committed.  Needs root on Debian 12 with
# docker.io, podman, buildah, skopeo (missing Debian packages are installed).
# Nothing is pulled from a registry: every image is built FROM scratch with a
# static busybox.  See test/fixtures/README.md for what each fixture covers.
#
#   sudo scripts/make-fixtures.sh
#
# Environment:
#   LAYERFLAT_FIXTURE_ENGINES_DIR  state dir of the private engines used here
#                                  (default /tmp/layerflat-fixture-engines, separate
#                                  from the e2e default so a running e2e daemon is
#                                  never disturbed); removed at the end if created here
#   LF_KEEP_ENGINES=1              leave the engines running and their images in place
#   LF_FIXTURES_OUT=DIR            write the fixtures there instead of test/fixtures
#
# The run is all-or-nothing: everything is produced in a scratch directory and
# moved into test/fixtures only when every step and check passed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FIX="${LF_FIXTURES_OUT:-$ROOT/test/fixtures}"
BUILD="$ROOT/test/fixtures/build"
LISTING="$BUILD/listing.py"
export LAYERFLAT_ENGINES_DIR="${LAYERFLAT_FIXTURE_ENGINES_DIR:-/tmp/layerflat-fixture-engines}"
# shellcheck source=scripts/engines.sh
source "$ROOT/scripts/engines.sh"

# fixed mtime for every build-context file (2024-01-01T00:00:00Z)
CONTEXT_EPOCH=1704067200

D_RULES="layerflat-fixture/rules:docker"
D_SECOND_V1="layerflat-fixture/second:v1"
D_SECOND_LATEST="layerflat-fixture/second:latest"
P_RULES="localhost/layerflat-fixture/rules:podman"
P_MULTI_LIST="localhost/layerflat-fixture/multi:list"
MULTI_PLATFORMS="amd64 arm64 arm/v7"
EMPTY_TAR_DIFFID="sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"

log() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'make-fixtures: ERROR: %s\n' "$*" >&2; exit 1; }
trap 'rc=$?; printf "make-fixtures: FAILED (exit %s) at line %s: %s\n" "$rc" "$LINENO" "$BASH_COMMAND" >&2' ERR

lf_require_root || exit 1

# ---------------------------------------------------------------- tools
lf_need_cmd /bin/busybox busybox-static
lf_need_cmd gcc gcc
lf_need_cmd readelf binutils
lf_need_cmd python3 python3
lf_need_cmd skopeo skopeo
lf_need_cmd buildah buildah
lf_need_cmd podman podman
lf_need_cmd getfattr attr
lf_need_cmd zstd zstd
lf_need_cmd "$LF_DOCKERD_BIN" docker.io
if readelf -l /bin/busybox | grep -q 'INTERP'; then
  die "/bin/busybox is dynamically linked: install busybox-static (apt-get install -y busybox-static)"
fi

ENGINES_DIR_EXISTED=0
[ -d "$LAYERFLAT_ENGINES_DIR" ] && ENGINES_DIR_EXISTED=1
DOCKER_WAS_RUNNING=0
lf_docker_running && DOCKER_WAS_RUNNING=1

# lower-case path on purpose: podman names an image pulled from oci:PATH after PATH
WORK="/tmp/layerflat-fixtures-$$"
rm -rf "$WORK"
mkdir -m 0700 "$WORK"
OUT="$WORK/out"
mkdir -p "$OUT"
CREATED_DOCKER_CTRS=()
CREATED_PODMAN_CTRS=()

cleanup() {
  local rc=$?
  set +e
  trap - ERR
  if [ "${LF_KEEP_ENGINES:-0}" != 1 ]; then
    if lf_docker_running; then
      for c in "${CREATED_DOCKER_CTRS[@]}"; do lf_docker rm -f -v "$c" >/dev/null 2>&1; done
      lf_docker rmi -f "$D_RULES" "$D_SECOND_V1" "$D_SECOND_LATEST" >/dev/null 2>&1
      [ "$DOCKER_WAS_RUNNING" = 1 ] || lf_docker image prune -f >/dev/null 2>&1
    fi
    if [ -d "$(lf_podman_dir)/root" ]; then
      for c in "${CREATED_PODMAN_CTRS[@]}"; do podman_overlay rm -f -v "$c" >/dev/null 2>&1; done
      buildah_overlay rm -a >/dev/null 2>&1
      podman_overlay manifest rm "$P_MULTI_LIST" >/dev/null 2>&1
      podman_overlay rmi -af >/dev/null 2>&1
    fi
    [ "$DOCKER_WAS_RUNNING" = 1 ] || lf_docker_stop
    lf_podman_overlay_stop
    if [ "$ENGINES_DIR_EXISTED" = 0 ] && [ "$DOCKER_WAS_RUNNING" = 0 ]; then
      lf_umount_below "$LAYERFLAT_ENGINES_DIR"
      rm -rf "$LAYERFLAT_ENGINES_DIR"
    fi
  fi
  lf_umount_below "$WORK"
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT

# ---------------------------------------------------------------- contexts
# copy a committed build dir into a scratch context with fixed modes and mtimes
make_context() { # SRC DEST
  local src="$1" dst="$2"
  mkdir -p "$dst"
  cp -a "$src/." "$dst/"
  chmod -R u=rwX,go=rX "$dst"
  find "$dst" -type f -path '*/usr/local/bin/*' -exec chmod 0755 {} +
}
stamp_context() { find "$1" -exec touch -h -d "@$CONTEXT_EPOCH" {} +; }

log "build contexts in $WORK"
CTX_RULES="$WORK/ctx-rules"
make_context "$BUILD/rules" "$CTX_RULES"
install -m 0755 /bin/busybox "$CTX_RULES/busybox"
gcc -Os -static -nostdlib -fno-builtin -fno-tree-loop-distribute-patterns \
  -fno-pie -no-pie -fno-stack-protector -fno-asynchronous-unwind-tables \
  -Wl,--build-id=none -Wl,-z,noseparate-code -s \
  -o "$CTX_RULES/lfxattr" "$BUILD/helpers/lfxattr.c"
chmod 0755 "$CTX_RULES/lfxattr"
mkdir -p "$CTX_RULES/empty"
stamp_context "$CTX_RULES"
CTX_SECOND="$WORK/ctx-second"
make_context "$BUILD/second" "$CTX_SECOND"
stamp_context "$CTX_SECOND"
CTX_MULTI="$WORK/ctx-multi"
make_context "$BUILD/multiarch" "$CTX_MULTI"
stamp_context "$CTX_MULTI"
printf 'busybox %s bytes, lfxattr %s bytes\n' "$(stat -c %s "$CTX_RULES/busybox")" "$(stat -c %s "$CTX_RULES/lfxattr")" >&2

# ---------------------------------------------------------------- helpers
listing_export() { python3 "$LISTING" export "$1"; }
listing_layers() { python3 "$LISTING" layers "$@"; }

# docker_export IMAGE NAME: docker create + export -> $WORK/NAME.export.tar + $OUT/NAME.export.txt
docker_export() {
  local img="$1" name="$2" c="lf-fixture-$2"
  lf_docker rm -f -v "$c" >/dev/null 2>&1 || true
  CREATED_DOCKER_CTRS+=("$c")
  lf_docker create --name "$c" --network none "$img" >/dev/null
  lf_docker export -o "$WORK/$name.export.tar" "$c"
  lf_docker rm -v "$c" >/dev/null
  listing_export "$WORK/$name.export.tar" >"$OUT/$name.export.txt"
}

# podman_export IMAGE NAME
podman_export() {
  local img="$1" name="$2" c="lf-fixture-$2"
  podman_overlay rm -f -v "$c" >/dev/null 2>&1 || true
  CREATED_PODMAN_CTRS+=("$c")
  podman_overlay create --name "$c" --no-healthcheck --network none "$img" >/dev/null
  podman_overlay export -o "$WORK/$name.export.tar" "$c"
  podman_overlay rm -v "$c" >/dev/null
  listing_export "$WORK/$name.export.tar" >"$OUT/$name.export.txt"
}

# expect_line FILE REGEX WHAT: fail loudly when no line of FILE matches
expect_line() {
  grep -qP -- "$2" "$1" || die "$3 (no line matching /$2/ in $(basename "$1"))"
}

check_rules_export() { # listing file, engine
  local f="$1" e="$2"
  expect_line "$f" '^/special/null-dev\tc\t.*\t1,3\t' "$e: char device 1,3 missing"
  expect_line "$f" '^/special/fifo\tp\t' "$e: fifo missing"
  expect_line "$f" '^/xattr/capfile\tf\t.*security\.capability=0100000200000080000000000000000000000000' "$e: cap_setfcap xattr missing"
  local old_sha new_sha
  old_sha="$(printf 'hl-old (S5)\n' | sha256sum | cut -d' ' -f1)"
  new_sha="$(printf 'hl-new (S15)\n' | sha256sum | cut -d' ' -f1)"
  expect_line "$f" "^/rules/hl/b\\tf\\t.*\\t$old_sha\\t" "$e: hl/b lost its old content"
  expect_line "$f" "^/rules/hl/a\\tf\\t.*\\t$new_sha\\t" "$e: hl/a does not have the new content"
  expect_line "$f" '^/rules/hl/b2\tf\t' "$e: hl/b2 missing"
  expect_line "$f" '^/rules/f2d/child/c\tf\t' "$e: file->dir case wrong"
  expect_line "$f" '^/rules/d2f\tf\t' "$e: dir->file case wrong"
  expect_line "$f" '^/modes/u70000\tf\t0644\t70000:70000\t' "$e: uid 70000 lost"
  expect_line "$f" '^/modes/suid1000\tf\t4750\t1000:1000\t' "$e: setuid bit lost"
  expect_line "$f" '^/rules/oldtime\tf\t0644\t0:0\t981173106\t' "$e: old mtime lost"
  if grep -qP '^/rules/(opq/old1|opq/sub|delfile|gone/g1|hl/a2)\t' "$f"; then
    die "$e: a deleted path is still in the export"
  fi
}

# ================================================================ docker
log "docker: private dockerd (vfs) in $(lf_docker_dir)"
lf_docker_start
export DOCKER_BUILDKIT=0

log "docker build (legacy builder) $D_RULES"
lf_docker build --no-cache --network none -f "$CTX_RULES/Containerfile" -t "$D_RULES" "$CTX_RULES" >"$WORK/docker-build-rules.log" 2>&1 \
  || { tail -n 40 "$WORK/docker-build-rules.log" >&2; die "docker build of the rules image failed"; }
log "docker build $D_SECOND_V1 + $D_SECOND_LATEST"
lf_docker build --no-cache --network none -f "$CTX_SECOND/Containerfile" -t "$D_SECOND_V1" -t "$D_SECOND_LATEST" "$CTX_SECOND" >"$WORK/docker-build-second.log" 2>&1 \
  || { tail -n 40 "$WORK/docker-build-second.log" >&2; die "docker build of the second image failed"; }

out="$(lf_docker run --rm --network none "$D_RULES")"
[ "$out" = "layerflat-ok" ] || die "docker run $D_RULES printed '$out', expected layerflat-ok"

log "docker save"
lf_docker save -o "$OUT/docker-rules.tar" "$D_RULES"
lf_docker save -o "$OUT/docker-multi.tar" "$D_RULES" "$D_SECOND_V1" "$D_SECOND_LATEST"
chmod 0644 "$OUT"/*.tar

log "docker export (ground truth)"
docker_export "$D_RULES" docker-rules
check_rules_export "$OUT/docker-rules.export.txt" docker
python3 "$LISTING" xattr-check "$WORK/docker-rules.export.tar" "$WORK/xattr-docker" >&2
listing_layers "$OUT/docker-rules.tar" >"$OUT/docker-rules.layers.txt"
expect_line "$OUT/docker-rules.layers.txt" '^/special/null-dev\tc\t.*\t1,3\t' "docker save dropped the char device"
expect_line "$OUT/docker-rules.layers.txt" '^/special/fifo\tp\t' "docker save dropped the fifo"
python3 - "$OUT/docker-rules.tar" "$EMPTY_TAR_DIFFID" <<'EOF' >&2
import json, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    m = json.load(t.extractfile("manifest.json"))[0]
    cfg = json.load(t.extractfile(m["Config"]))
ids = cfg["rootfs"]["diff_ids"]
hist = cfg["history"]
print("docker-rules: %d layers (%d empty), %d history entries (%d empty_layer)" % (
    len(ids), sum(1 for i in ids if i == sys.argv[2]), len(hist), sum(1 for h in hist if h.get("empty_layer"))))
EOF
docker_export "$D_RULES" docker-multi.rules
docker_export "$D_SECOND_V1" docker-multi.second
python3 - "$OUT/docker-multi.tar" <<'EOF' >&2
import json, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    m = json.load(t.extractfile("manifest.json"))
for i, e in enumerate(m):
    print("docker-multi.tar manifest[%d]: %s, %d layers" % (i, e.get("RepoTags"), len(e["Layers"])))
assert len(m) == 2, "expected 2 images in docker-multi.tar"
assert sorted(len(e.get("RepoTags") or []) for e in m) == [1, 2], "expected tags 1 + 2"
EOF

# ================================================================ podman
log "podman (rootful, overlay) in $(lf_podman_dir)"
lf_podman_overlay_start
log "podman build --isolation chroot --format docker $P_RULES"
podman_overlay build --no-cache --layers --pull=never --isolation chroot --format docker \
  -f "$CTX_RULES/Containerfile" -t "$P_RULES" "$CTX_RULES" >"$WORK/podman-build-rules.log" 2>&1 \
  || { tail -n 40 "$WORK/podman-build-rules.log" >&2; die "podman build of the rules image failed"; }

if out="$(podman_overlay run --rm --no-healthcheck --network none "$P_RULES" 2>"$WORK/podman-run.err")"; then
  [ "$out" = "layerflat-ok" ] || die "podman run $P_RULES printed '$out', expected layerflat-ok"
else
  cat "$WORK/podman-run.err" >&2
  die "podman run $P_RULES failed"
fi

log "podman save --format docker-archive"
podman_overlay save -q --format docker-archive -o "$OUT/podman-rules.tar" "$P_RULES"
chmod 0644 "$OUT/podman-rules.tar"
podman_export "$P_RULES" podman-rules
check_rules_export "$OUT/podman-rules.export.txt" podman
expect_line "$OUT/podman-rules.export.txt" '^/xattr/userfile\tf\t.*user\.lf\.bin=00ff80fe0a0d5c3d' "podman: user.* xattr missing"
python3 "$LISTING" xattr-check "$WORK/podman-rules.export.tar" "$WORK/xattr-podman" >&2
listing_layers "$OUT/podman-rules.tar" >"$OUT/podman-rules.layers.txt"

log "podman-rules.tar: opaque whiteouts (tar -tvf on every layer)"
mkdir -p "$WORK/podman-rules"
tar -xf "$OUT/podman-rules.tar" -C "$WORK/podman-rules"
python3 - "$WORK/podman-rules" "$EMPTY_TAR_DIFFID" <<'EOF' >"$WORK/podman-layers.txt"
import json, sys
d, empty = sys.argv[1], sys.argv[2]
m = json.load(open(d + "/manifest.json"))[0]
cfg = json.load(open(d + "/" + m["Config"]))
ids = cfg["rootfs"]["diff_ids"]
n_empty = sum(1 for i in ids if i == empty)
sys.stderr.write("podman-rules: %d layers, %d empty (diff_id %s)\n" % (len(ids), n_empty, empty[:19]))
if n_empty < 2:
    sys.exit("podman-rules: expected two identical empty layers")
for i, l in enumerate(m["Layers"]):
    print(i + 1, l)
EOF
opq_found=0
while read -r idx layer; do
  if tar -tvf "$WORK/podman-rules/$layer" | grep -F '.wh..wh..opq' | sed "s|^|  L$idx: |" >&2; then
    opq_found=$((opq_found + 1))
  fi
done <"$WORK/podman-layers.txt"
[ "$opq_found" -gt 0 ] || die "no .wh..wh..opq marker in podman-rules.tar"
if grep -q '\.wh\.\.wh\.\.opq' "$OUT/docker-rules.layers.txt"; then
  echo "  (docker-rules.tar has opaque markers too)" >&2
else
  echo "  docker-rules.tar: no opaque markers (vfs diff lists each deleted child)" >&2
fi

# ================================================================ skopeo: OCI layouts
log "skopeo: docker-archive -> OCI (gzip, zstd, oci-archive)"
skopeo copy -q --dest-compress --dest-compress-format gzip --dest-compress-level 9 \
  "docker-archive:$OUT/docker-rules.tar" "oci:$OUT/oci-gzip:rules"
skopeo copy -q --dest-compress --dest-compress-format zstd --dest-compress-level 19 \
  "docker-archive:$OUT/docker-rules.tar" "oci:$OUT/oci-zstd:rules"
skopeo copy -q --dest-compress --dest-compress-format gzip --dest-compress-level 9 \
  "docker-archive:$OUT/docker-rules.tar" "oci-archive:$OUT/rules.oci.tar:rules"
python3 - "$OUT" <<'EOF' >&2
import json, sys
out = sys.argv[1]
for d, want in (("oci-gzip", "tar+gzip"), ("oci-zstd", "tar+zstd")):
    ix = json.load(open("%s/%s/index.json" % (out, d)))
    desc = ix["manifests"][0]
    m = json.load(open("%s/%s/blobs/sha256/%s" % (out, d, desc["digest"].split(":")[1])))
    types = sorted({l["mediaType"] for l in m["layers"]})
    print("%s: %d layers, %s" % (d, len(m["layers"]), types))
    assert all(t.endswith(want) for t in types), (d, types)
EOF

# ground truth for the OCI copies: pulled back by podman from the fixture itself
podman_overlay rmi -af >/dev/null 2>&1 || true
oci_export() { # REF NAME
  local id
  id="$(podman_overlay pull -q "$1")"
  podman_export "$id" "$2"
  check_rules_export "$OUT/$2.export.txt" "podman($2)"
  podman_overlay rmi -f "$id" >/dev/null
}
oci_export "oci:$OUT/oci-gzip:rules" oci-gzip
oci_export "oci:$OUT/oci-zstd:rules" oci-zstd
oci_export "oci-archive:$OUT/rules.oci.tar:rules" rules.oci

# ================================================================ buildah: multi-platform OCI index
log "buildah: multi-platform image $P_MULTI_LIST ($MULTI_PLATFORMS)"
podman_overlay manifest rm "$P_MULTI_LIST" >/dev/null 2>&1 || true
for plat in $MULTI_PLATFORMS; do
  arch="${plat%%/*}"; variant=""; [ "$plat" != "$arch" ] && variant="${plat#*/}"
  tag="$(printf '%s' "$plat" | tr / -)"
  buildah_overlay build -q --layers --pull=never --timestamp 0 --os linux --arch "$arch" ${variant:+--variant "$variant"} \
    --build-arg "LF_ARCH=$tag" --manifest "$P_MULTI_LIST" -t "localhost/layerflat-fixture/multi:$tag" \
    -f "$CTX_MULTI/Containerfile" "$CTX_MULTI" >/dev/null
done
buildah_overlay manifest push -q --all --format oci "$P_MULTI_LIST" "oci:$OUT/oci-multiarch:multi"
python3 - "$OUT/oci-multiarch" <<'EOF' >&2
import json, sys
d = sys.argv[1]
ix = json.load(open(d + "/index.json"))
top = ix["manifests"][0]
assert top["mediaType"] == "application/vnd.oci.image.index.v1+json", top
nested = json.load(open(d + "/blobs/sha256/" + top["digest"].split(":")[1]))
print("oci-multiarch: index.json -> %s -> %s" % (top["mediaType"], [
    "%s/%s%s" % (m["platform"]["os"], m["platform"]["architecture"], "/" + m["platform"]["variant"] if m["platform"].get("variant") else "")
    for m in nested["manifests"]]))
EOF
listing_layers "$OUT/oci-multiarch" --index 0 >"$OUT/oci-multiarch.layers.txt"
listing_layers "$OUT/oci-multiarch" --index 1 | grep -v '^# columns' >>"$OUT/oci-multiarch.layers.txt"
listing_layers "$OUT/oci-multiarch" --index 2 | grep -v '^# columns' >>"$OUT/oci-multiarch.layers.txt"
podman_overlay manifest rm "$P_MULTI_LIST" >/dev/null
podman_overlay rmi -af >/dev/null 2>&1 || true
for plat in $MULTI_PLATFORMS; do
  arch="${plat%%/*}"; variant=""; [ "$plat" != "$arch" ] && variant="${plat#*/}"
  tag="$(printf '%s' "$plat" | tr / -)"
  id="$(podman_overlay pull -q --arch "$arch" ${variant:+--variant "$variant"} "oci:$OUT/oci-multiarch:multi")"
  got="$(podman_overlay image inspect "$id" --format '{{.Architecture}}')"
  [ "$got" = "$arch" ] || die "podman pulled $got for $plat from oci-multiarch"
  podman_export "$id" "oci-multiarch.$tag"
  expect_line "$OUT/oci-multiarch.$tag.export.txt" "^/etc/lf-arch\tf\t" "oci-multiarch $plat: /etc/lf-arch missing"
  podman_overlay rmi -f "$id" >/dev/null
done

# ================================================================ install
log "install into $FIX"
mkdir -p "$FIX"
for f in "$OUT"/*; do
  b="$(basename "$f")"
  rm -rf "${FIX:?}/$b"
  mv "$f" "$FIX/$b"
done

log "fixture sizes"
total=0
for f in "$FIX"/*.tar "$FIX"/oci-*/ "$FIX"/*.txt; do
  [ -e "$f" ] || continue
  s="$(du -sb "$f" | cut -f1)"
  total=$((total + s))
  printf '%10d  %s\n' "$s" "${f#"$ROOT"/}"
done
printf '%10d  total (%s MiB)\n' "$total" "$(awk -v t="$total" 'BEGIN { printf "%.2f", t / 1048576 }')"
log "done"
