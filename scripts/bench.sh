#!/usr/bin/env bash
# scripts/bench.sh — layerflat's benchmark against the disk floor and the peers, with real engines.
#
#   sudo scripts/bench.sh          (or: npm run bench)
#
# 1. Builds (once) a big realistic image with dockerd on vfs and caches its `docker save` tar
#    (scripts/bench/big-image.sh → /var/cache/layerflat/bench/big.tar), plus an OCI layout copy with
#    gzip layers (skopeo) and synthetic images (one file of 1 KiB, 1 GiB or 4 GiB; 300k small files).
# 2. Times, on the same input file, with the page cache dropped before each run:
#      floor      cp of the input + openssl dgst -sha256 of the flat layer's bytes
#      layerflat  docker-archive → docker-archive; → OCI layout with gzip layers; OCI gzip → docker-archive
#      pigz -p 2 -6 of the flat layer's bytes (what the gzip target is measured against)
#      docker     create + export | import against dockerd on vfs (image loaded beforehand)
#      buildah    from + commit --squash on vfs storage (image pulled from docker-archive: beforehand)
#    each with peak RSS (/usr/bin/time -v; dockerd's VmHWM for the docker pipe) and temporary
#    disk (du of TMPDIR and of the output dir sampled every 0.5 s; used bytes of the filesystem).
# 3. Writes docs/benchmarks.md (scripts/bench/report.mjs), keeping a "## End-to-end VFS cost"
#    section written by scripts/e2e.sh if there is one. Raw results: $LF_BENCH_WORK/run-*/.
#
# Environment:
#   LAYERFLAT_ENGINES_DIR   engines' state dir (default /tmp/layerflat-bench-engines; removed at the end)
#   LAYERFLAT_BENCH_CACHE   cached images (default /var/cache/layerflat/bench)
#   LF_BENCH_WORK           scratch for outputs and results (default /var/tmp/layerflat-bench)
#   LF_BENCH_PEERS          peers to run: "docker buildah" (default), or a subset, or "none"
#   LF_BENCH_PARTS          what to time: "floor layerflat peers" (default), or a subset
#   LF_BENCH_DROP_CACHES=0  do not drop the page cache between runs
#   LF_BENCH_DOC            the report to write (default docs/benchmarks.md; "-" for none)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export LAYERFLAT_ENGINES_DIR="${LAYERFLAT_ENGINES_DIR:-/tmp/layerflat-bench-engines}"
export LAYERFLAT_BENCH_CACHE="${LAYERFLAT_BENCH_CACHE:-/var/cache/layerflat/bench}"
CACHE="$LAYERFLAT_BENCH_CACHE"
WORK="${LF_BENCH_WORK:-/var/tmp/layerflat-bench}"
PEERS="${LF_BENCH_PEERS:-docker buildah}"
PARTS="${LF_BENCH_PARTS:-floor layerflat peers}"
DOC="${LF_BENCH_DOC:-docs/benchmarks.md}"
# shellcheck source=scripts/engines.sh
source "$ROOT/scripts/engines.sh"
# shellcheck source=scripts/bench/lib.sh
source "$ROOT/scripts/bench/lib.sh"

lf_require_root
lf_need_cmd /usr/bin/time time
lf_need_cmd pigz pigz
lf_need_cmd openssl openssl
lf_need_cmd skopeo skopeo
lf_need_cmd python3 python3
case " $PEERS " in *" buildah "*) lf_need_cmd buildah buildah ;; esac

BENCH_DIR="$WORK/run-$(date +%Y%m%d-%H%M%S)"
BENCH_RESULTS="$BENCH_DIR/results.jsonl"
export BENCH_DIR BENCH_RESULTS
mkdir -p "$BENCH_DIR" "$CACHE"
LF=(node "$ROOT/dist/cli/main.js")
BUILDAH_ROOT="$WORK/buildah"
buildah_vfs() { buildah --storage-driver vfs --root "$BUILDAH_ROOT/root" --runroot "$BUILDAH_ROOT/runroot" "$@"; }

DOCKER_STARTED=0
cleanup() {
  local rc=$?
  set +e
  if [ -d "$BUILDAH_ROOT/root" ]; then
    buildah_vfs rm -a >/dev/null 2>&1
    buildah_vfs rmi -af >/dev/null 2>&1
    lf_umount_below "$BUILDAH_ROOT"
    rm -rf "$BUILDAH_ROOT"
  fi
  if [ "$DOCKER_STARTED" = 1 ]; then
    lf_docker_stop
    rm -rf "$(lf_docker_dir)"
  fi
  rm -rf "$BENCH_DIR"/tmp-* "$BENCH_DIR"/out-* "$BENCH_DIR"/copy.tar "$BENCH_DIR"/flat-layer.tar*
  [ "$rc" = 0 ] || bench_log "FAILED (exit $rc); partial results in $BENCH_DIR"
}
trap cleanup EXIT

bench_log "results in $BENCH_DIR"
# a clean checkout has no node_modules yet (tsc builds dist/ from src/ for the run)
[ -x node_modules/.bin/tsc ] || { bench_log "installing node dependencies (npm ci)"; npm ci --no-audit --no-fund; }
npm run -s build

# ------------------------------------------------------------------ inputs (built once, cached)
BIG="$(scripts/bench/big-image.sh)"
OCI_GZ="$CACHE/big-oci-gzip"
start_docker() {
  lf_docker_running || { lf_docker_start; DOCKER_STARTED=1; }
}
synthetic() { # NAME KIND ARG → $CACHE/synth-NAME.tar: a docker-archive of an image dockerd imported
  local name="$1" kind="$2" arg="$3" out="$CACHE/synth-$1.tar"
  [ -s "$out" ] && return 0
  start_docker
  bench_log "making synthetic image $name ($kind $arg)"
  python3 scripts/bench/make-synthetic.py "$kind" "$arg" "$BENCH_DIR/synth.tar"
  lf_docker import --change 'CMD ["/bin/true"]' "$BENCH_DIR/synth.tar" "layerflat-bench/synth-$name:latest" >/dev/null
  rm -f "$BENCH_DIR/synth.tar"
  lf_docker save -o "$out.part" "layerflat-bench/synth-$name:latest"
  lf_docker rmi -f "layerflat-bench/synth-$name:latest" >/dev/null
  mv "$out.part" "$out"
}
synthetic file-1g one-file 1073741824
synthetic file-4g one-file 4294967296
synthetic file-1k one-file 1024
synthetic paths-300k many-paths 300000
if [ "$DOCKER_STARTED" = 1 ]; then lf_docker_stop; DOCKER_STARTED=0; fi   # idle during the timing
SYN_1G="$CACHE/synth-file-1g.tar" SYN_4G="$CACHE/synth-file-4g.tar" SYN_1K="$CACHE/synth-file-1k.tar" SYN_MANY="$CACHE/synth-paths-300k.tar"
if [ ! -f "$OCI_GZ/index.json" ]; then
  bench_log "skopeo copy → $OCI_GZ (gzip layers)"
  rm -rf "$OCI_GZ.part"
  skopeo copy -q --dest-compress --dest-compress-format gzip "docker-archive:$BIG" "oci:$OCI_GZ.part:big"
  mv "$OCI_GZ.part" "$OCI_GZ"
fi

# ------------------------------------------------------------------ facts about the machine and the input
python3 scripts/bench/image-facts.py "$BIG" >"$BENCH_DIR/big-facts.json"
bench_note image "$(cat "$BENCH_DIR/big-facts.json")"
bench_note inputs "$(_bench_json "$BIG" "$OCI_GZ" "$SYN_1G" "$SYN_4G" "$SYN_1K" "$SYN_MANY")"
bench_note inputSizes "[$(stat -c %s "$BIG"), $(du -sb "$OCI_GZ" | cut -f1), $(stat -c %s "$SYN_1G"), $(stat -c %s "$SYN_4G"), $(stat -c %s "$SYN_1K"), $(stat -c %s "$SYN_MANY")]"
bench_note machine "$(_bench_json "$(nproc)" "$(free -b | awk '/^Mem:/ { print $2 }')" \
  "$(df -h --output=source,fstype,size,avail "$WORK" | tail -1 | tr -s ' ')" "$(uname -r)" "$(node --version)" \
  "$(lsblk -dno NAME,ROTA,SIZE "$(df --output=source "$WORK" | tail -1)" 2>/dev/null || true)" \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  "$(pigz --version 2>&1 | head -1)" "$(openssl version)" "$(/usr/bin/docker version --format '{{.Server.Version}}' -H "unix://$(lf_docker_sock)" 2>/dev/null || dockerd --version)" \
  "$(buildah --version 2>/dev/null || true)" "$( [ -w /proc/sys/vm/drop_caches ] && [ "${LF_BENCH_DROP_CACHES:-1}" = 1 ] && echo yes || echo no)")"
bench_note revision "\"$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet -- src 2>/dev/null || echo ' + uncommitted changes in src/')\""
bench_note loadBefore "\"$(cut -d' ' -f1-3 /proc/loadavg)\""

has_part() { [[ " $PARTS " == *" $1 "* ]]; }

# ------------------------------------------------------------------ the floor
if has_part floor; then
bench_measure floor-cp --watch "$BENCH_DIR/copy.tar" -- cp "$BIG" "$BENCH_DIR/copy.tar"
rm -f "$BENCH_DIR/copy.tar"
fi

# ------------------------------------------------------------------ layerflat
lf_flatten() { # NAME SRC DEST-DIR DEST-REF [ARGS...] — fresh TMPDIR and output dir, both watched
  local name="$1" src="$2" outdir="$3" dest="$4"; shift 4
  rm -rf "$BENCH_DIR/tmp-$name" "$outdir"; mkdir -p "$BENCH_DIR/tmp-$name" "$outdir"
  TMPDIR="$BENCH_DIR/tmp-$name" bench_measure "$name" --watch "$BENCH_DIR/tmp-$name" --watch "$outdir" -- \
    "${LF[@]}" flatten "$src" "$dest" --json "$@"
  bench_note "$name.outputBytes" "$(du -sb "$outdir" | cut -f1)"
}
if has_part layerflat; then
lf_flatten lf-docker-archive "docker-archive:$BIG" "$BENCH_DIR/out-da" "docker-archive:$BENCH_DIR/out-da/flat.tar"
# the flat layer's bytes, for the sha256 floor and pigz
layer_member="$(tar -xOf "$BENCH_DIR/out-da/flat.tar" manifest.json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Layers"][-1])')"
tar -xOf "$BENCH_DIR/out-da/flat.tar" "$layer_member" >"$BENCH_DIR/flat-layer.tar"
rm -rf "$BENCH_DIR/out-da"
bench_note flatLayerBytes "$(stat -c %s "$BENCH_DIR/flat-layer.tar")"
bench_measure floor-sha256 -- openssl dgst -sha256 "$BENCH_DIR/flat-layer.tar"

lf_flatten lf-oci-gzip "docker-archive:$BIG" "$BENCH_DIR/out-oci" "oci:$BENCH_DIR/out-oci/layout:flat" --compress gzip
rm -rf "$BENCH_DIR/out-oci"
bench_measure pigz-p2 --watch "$BENCH_DIR/flat-layer.tar.gz" -- \
  bash -c 'pigz -p 2 -6 -c "$1" >"$1.gz"' pigz "$BENCH_DIR/flat-layer.tar"
bench_note pigzBytes "$(stat -c %s "$BENCH_DIR/flat-layer.tar.gz")"
rm -f "$BENCH_DIR/flat-layer.tar" "$BENCH_DIR/flat-layer.tar.gz"

lf_flatten lf-from-oci-gzip "oci:$OCI_GZ:big" "$BENCH_DIR/out-from-oci" "docker-archive:$BENCH_DIR/out-from-oci/flat.tar"
rm -rf "$BENCH_DIR/out-from-oci"

# memory: one 1 KiB file vs one 1 GiB / 4 GiB file vs 300k paths
for s in "file-1g:$SYN_1G" "file-4g:$SYN_4G" "file-1k:$SYN_1K" "paths-300k:$SYN_MANY"; do
  lf_flatten "lf-synth-${s%%:*}" "docker-archive:${s#*:}" "$BENCH_DIR/out-synth" "docker-archive:$BENCH_DIR/out-synth/flat.tar"
  rm -rf "$BENCH_DIR/out-synth"
done
# what the RSS is made of (JS heap vs buffers awaiting GC), through the library API; not timed
for s in "file-1k:$SYN_1K" "file-1g:$SYN_1G" "file-4g:$SYN_4G" "paths-300k:$SYN_MANY" "big:$BIG"; do
  rm -rf "$BENCH_DIR/out-probe"; mkdir -p "$BENCH_DIR/out-probe"
  bench_note "memProbe.${s%%:*}" "$(node scripts/bench/mem-probe.mjs "docker-archive:${s#*:}" "docker-archive:$BENCH_DIR/out-probe/flat.tar")"
done
rm -rf "$BENCH_DIR/out-probe"
# stdin: not seekable, so it is spooled to TMPDIR (reported, not a target)
lf_flatten lf-stdin "-" "$BENCH_DIR/out-stdin" "docker-archive:$BENCH_DIR/out-stdin/flat.tar" <"$BIG"
rm -rf "$BENCH_DIR/out-stdin"
fi

# ------------------------------------------------------------------ peers
if has_part peers && [[ " $PEERS " == *" docker "* ]]; then
  start_docker
  dd="$(lf_docker_dir)/data"
  bench_note docker.dataBytes.before "$(du -sb "$dd" | cut -f1)"
  bench_measure docker-load -- "$LF_DOCKER_BIN" -H "unix://$(lf_docker_sock)" load -i "$BIG"
  img="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["repoTags"][0])' "$BENCH_DIR/big-facts.json")"
  bench_note docker.dataBytes.loaded "$(du -sb "$dd" | cut -f1)"
  dpid="$(cat "$(lf_docker_dir)/docker.pid")"
  cpid="$(cat "$(lf_docker_dir)/exec/containerd/containerd.pid" 2>/dev/null || echo "$dpid")"
  bench_measure docker-export-import --hwm-pid "$dpid" --hwm-pid "$cpid" -- bash -c '
    set -euo pipefail
    d() { "$1" -H "unix://$2" "${@:3}"; }
    c=$(d "$1" "$2" create "$3")
    d "$1" "$2" export "$c" | d "$1" "$2" import - layerflat-bench/flat:docker' docker-peer "$LF_DOCKER_BIN" "$(lf_docker_sock)" "$img"
  bench_note docker.dataBytes.after "$(du -sb "$dd" | cut -f1)"
  lf_docker rm -f "$(lf_docker ps -aq)" >/dev/null 2>&1 || true
  lf_docker rmi -f layerflat-bench/flat:docker "$img" >/dev/null 2>&1 || true
  lf_docker_stop
  rm -rf "$(lf_docker_dir)"
  DOCKER_STARTED=0
fi
if has_part peers && [[ " $PEERS " == *" buildah "* ]]; then
  rm -rf "$BUILDAH_ROOT"; mkdir -p "$BUILDAH_ROOT"
  bench_measure buildah-pull -- buildah --storage-driver vfs --root "$BUILDAH_ROOT/root" --runroot "$BUILDAH_ROOT/runroot" \
    pull -q "docker-archive:$BIG"
  bench_note buildah.storeBytes.loaded "$(du -sb "$BUILDAH_ROOT" | cut -f1)"
  img_id="$(tr -d '\n' <"$BENCH_DIR/buildah-pull.out")"
  bench_measure buildah-squash -- bash -c '
    set -euo pipefail
    b() { buildah --storage-driver vfs --root "$1/root" --runroot "$1/runroot" "${@:2}"; }
    c=$(b "$1" from -q "$2")
    b "$1" commit -q --squash "$c" layerflat-bench/flat:buildah' buildah-peer "$BUILDAH_ROOT" "$img_id"
  bench_note buildah.storeBytes.after "$(du -sb "$BUILDAH_ROOT" | cut -f1)"
fi
bench_note loadAfter "\"$(cut -d' ' -f1-3 /proc/loadavg)\""

# ------------------------------------------------------------------ the report
if [ "$DOC" != "-" ]; then
  node scripts/bench/report.mjs "$BENCH_DIR" "$DOC"
  bench_log "wrote $DOC"
fi
node scripts/bench/report.mjs "$BENCH_DIR" - | sed -n '/^| step/,/^$/p'
