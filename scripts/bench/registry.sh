#!/usr/bin/env bash
# scripts/bench/registry.sh — layerflat between docker:// registries, against skopeo copy as the floor.
#
#   sudo scripts/bench/registry.sh          (or: npm run bench:registry)
#
# For each image (LF_BENCH_IMAGES; by default the bench's big image and, as a modest one, its bottom
# two layers):
# 1. Starts a private docker-registry R1 (Debian's CNCF distribution) on a free 127.0.0.1 port with
#    its storage in a scratch dir, and pushes the image into it as bench/src:latest with
#    `skopeo copy docker-archive:FILE docker://…` (skopeo gzips the archive's layers, as any push does).
# 2. Times each step LF_BENCH_RUNS times (default 3), the steps round-robin so that they share
#    whatever background load there is, and reports each one's median wall time:
#      lf-gzip      layerflat flatten docker://R1/bench/src:latest docker://R1/bench/flat-gzip:rN
#      lf-none      the same with --compress none
#      lf-verify    the same with --verify (the pushed image is read back before the tag is set)
#      lf-archive   layerflat flatten docker://R1/bench/src:latest FILE (a docker-archive)
#      skopeo-same  skopeo copy docker://R1/bench/src:latest docker://R1/bench/copy-N:latest
#    and, when an untimed skopeo copy into R1/bench/probe first shows that the registry mounts blobs
#    across repositories (its access log: `POST …/blobs/uploads/?from=…&mount=…` answered 201, so no
#    byte moves), the honest I/O floor and layerflat against it, each into a second registry R2
#    emptied (stopped, storage removed, started again) before every run:
#      skopeo-reg2  skopeo copy docker://R1/bench/src:latest docker://R2/bench/copy:latest
#      lf-reg2      layerflat flatten docker://R1/bench/src:latest docker://R2/bench/flat-gzip:latest
#    Each run: /usr/bin/time -v (peak RSS), the page cache dropped before (as root; scripts/bench/lib.sh),
#    TMPDIR (and layerflat's --tmp-dir) a fresh empty directory whose size is sampled every 0.2 s,
#    and the destination registry's storage measured (du -sb) before and after. A failed run is
#    recorded and reported (its exact command and error), not fatal; the script then exits 1.
# 3. Writes the "## Registry to registry" section of docs/benchmarks.md (scripts/bench/registry-report.mjs
#    through scripts/e2e/doc-section.mjs) and prints it.
# The registries are stopped and the scratch dir removed on exit, whatever happens.
#
# Environment:
#   LF_BENCH_IMAGES         the images, space-separated (default "big big:2"): "big" is the bench's big
#                           image (scripts/bench/big-image.sh, built once and cached if missing), "big:K"
#                           its bottom K layers (scripts/bench/bottom-layers.py, cached next to it),
#                           anything else the path of a docker-archive
#   LAYERFLAT_BENCH_CACHE   cached images (default /var/cache/layerflat/bench)
#   LF_BENCH_RUNS           runs per step (default 3)
#   LF_BENCH_WORK           where the scratch dir is made (default /var/tmp)
#   LF_BENCH_DROP_CACHES=0  do not drop the page cache before each run
#   LF_BENCH_DOC            the report to write (default docs/benchmarks.md; "-" for none)
#   LF_BENCH_KEEP=1         keep the scratch dir (results.jsonl, each run's output and registry logs)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export LAYERFLAT_ENGINES_DIR="${LAYERFLAT_ENGINES_DIR:-/tmp/layerflat-bench-engines}"
export LAYERFLAT_BENCH_CACHE="${LAYERFLAT_BENCH_CACHE:-/var/cache/layerflat/bench}"
RUNS="${LF_BENCH_RUNS:-3}"
DOC="${LF_BENCH_DOC:-docs/benchmarks.md}"
# shellcheck source=scripts/engines.sh
source "$ROOT/scripts/engines.sh"
# shellcheck source=scripts/bench/lib.sh
source "$ROOT/scripts/bench/lib.sh"

lf_need_cmd /usr/bin/time time
lf_need_cmd docker-registry docker-registry
lf_need_cmd skopeo skopeo
lf_need_cmd curl curl
lf_need_cmd python3 python3

BENCH_ROOT="$(mktemp -d "${LF_BENCH_WORK:-/var/tmp}/lf-regbench.XXXXXX")"
BENCH_SAMPLE_S=0.2
export BENCH_SAMPLE_S
LF=(node "$ROOT/dist/cli/main.js")

# ------------------------------------------------------------------ registries
declare -A REG_PID=() REG_PORT=()
reg_dir() { printf '%s/registry-%s' "$BENCH_DIR" "$1"; }
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
reg_start() { # NAME [PORT] — a docker-registry on 127.0.0.1, storage in $(reg_dir NAME)/data
  local name="$1" port="${2:-}" dir i
  dir="$(reg_dir "$name")"
  [ -n "$port" ] || port="$(free_port)"
  mkdir -p "$dir/data"
  cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: info
  formatter: text
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
EOF
  docker-registry serve "$dir/config.yml" >>"$dir/registry.log" 2>&1 &
  REG_PID[$name]=$!
  REG_PORT[$name]=$port
  for i in $(seq 1 150); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/v2/" 2>/dev/null; then return 0; fi
    if ! kill -0 "${REG_PID[$name]}" 2>/dev/null; then
      tail -n 20 "$dir/registry.log" >&2
      bench_log "docker-registry $name exited during start-up"
      return 1
    fi
    sleep 0.1
  done
  bench_log "docker-registry $name did not answer on 127.0.0.1:$port/v2/ within 15 s"
  return 1
}
reg_stop() { # NAME
  local pid="${REG_PID[$1]:-}"
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "REG_PID[$1]"
}
reg_reset() { # NAME — stop it, empty its storage, start it again on the same port
  local port="${REG_PORT[$1]}"
  reg_stop "$1"
  rm -rf "$(reg_dir "$1")/data"
  reg_start "$1" "$port"
}
reg_bytes() { du -sb "$(reg_dir "$1")/data" | cut -f1; }

cleanup() {
  local rc=$? job
  set +e
  for job in $(jobs -p); do # the registries and any sampler left by an interrupted run
    kill -TERM "$job" 2>/dev/null
  done
  wait 2>/dev/null
  if [ "${LF_BENCH_KEEP:-0}" = 1 ]; then
    rm -rf "$BENCH_ROOT"/*/registry-*/data "$BENCH_ROOT"/*/out "$BENCH_ROOT"/*/tmp
    bench_log "kept $BENCH_ROOT"
  else
    rm -rf "$BENCH_ROOT"
  fi
  [ "$rc" = 0 ] || bench_log "FAILED (exit $rc)"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ -x node_modules/.bin/tsc ] || { bench_log "installing node dependencies (npm ci)"; npm ci --no-audit --no-fund; }
npm run -s build
EMPTY_DIR_BYTES="$(du -sb "$BENCH_ROOT" | cut -f1)"   # what du -sb says of an empty directory

# resolve_image SPEC — sets IMAGE (a docker-archive), IMAGE_KIND and IMAGE_TITLE
resolve_image() {
  local big
  case "$1" in
    big)
      IMAGE="$(scripts/bench/big-image.sh)"
      IMAGE_KIND="the bench's big image (scripts/bench/big-image.sh)"
      IMAGE_TITLE="The bench's big image" ;;
    big:[1-9]*)
      big="$(scripts/bench/big-image.sh)"
      IMAGE="$LAYERFLAT_BENCH_CACHE/big-bottom-${1#big:}.tar"
      if [ ! -s "$IMAGE" ]; then
        bench_log "making $IMAGE (the bottom ${1#big:} layers of $big)"
        python3 scripts/bench/bottom-layers.py "$big" "${1#big:}" "$IMAGE.part" "layerflat-bench/big-bottom-${1#big:}:latest"
        mv "$IMAGE.part" "$IMAGE"
      fi
      IMAGE_KIND="the bottom ${1#big:} layers of the bench's big image (scripts/bench/bottom-layers.py)"
      IMAGE_TITLE="A modest image: the big image's bottom ${1#big:} layers" ;;
    *)
      IMAGE="$1"
      IMAGE_KIND="given (LF_BENCH_IMAGES)"
      IMAGE_TITLE="$(basename "$1")" ;;
  esac
  [ -s "$IMAGE" ] || { bench_log "no image at $IMAGE"; return 1; }
}

# run STEP ROUND: one timed run of STEP; a failure is recorded (and reported), not fatal
run() {
  local step="$1" r="$2" name="$1.r$2" tmp="$BENCH_DIR/tmp/$1.r$2" reg=1 rc=0 before=0 after=0
  local -a cmd
  rm -rf "$tmp"; mkdir -p "$tmp"
  local lf_args=(--tls-verify=false --tmp-dir "$tmp" --json)
  case "$step" in
    lf-gzip) cmd=("${LF[@]}" flatten "$SRC" "docker://$R1/bench/flat-gzip:r$r" "${lf_args[@]}") ;;
    lf-none) cmd=("${LF[@]}" flatten "$SRC" "docker://$R1/bench/flat-none:r$r" --compress none "${lf_args[@]}") ;;
    lf-verify) cmd=("${LF[@]}" flatten "$SRC" "docker://$R1/bench/flat-verify:r$r" --verify "${lf_args[@]}") ;;
    lf-archive) reg=0; cmd=("${LF[@]}" flatten "$SRC" "docker-archive:$BENCH_DIR/out/flat-r$r.tar" "${lf_args[@]}") ;;
    skopeo-same) cmd=(skopeo copy --src-tls-verify=false --dest-tls-verify=false "$SRC" "docker://$R1/bench/copy-$r:latest") ;;
    skopeo-reg2) reg=2; reg_reset 2; cmd=(skopeo copy --src-tls-verify=false --dest-tls-verify=false "$SRC" "docker://$R2/bench/copy:latest") ;;
    lf-reg2) reg=2; reg_reset 2; cmd=("${LF[@]}" flatten "$SRC" "docker://$R2/bench/flat-gzip:latest" "${lf_args[@]}") ;;
    *) bench_log "run: unknown step $step"; return 2 ;;
  esac
  [ "$reg" = 0 ] || before="$(reg_bytes "$reg")"
  TMPDIR="$tmp" bench_measure "$name" --watch "$tmp" -- "${cmd[@]}" || rc=$?
  [ "$rc" = 0 ] || FAILED+=("$name (exit $rc): ${cmd[*]}")
  if [ "$reg" = 0 ]; then
    bench_note "$name.outputBytes" "$(stat -c %s "$BENCH_DIR/out/flat-r$r.tar" 2>/dev/null || echo 0)"
    rm -f "$BENCH_DIR/out/flat-r$r.tar"
  else
    after="$(reg_bytes "$reg")"
    bench_note "$name.registryGrowthBytes" "$((after - before))"
  fi
  bench_note "$name.tmpLeftEntries" "$(find "$tmp" -mindepth 1 | wc -l)"
  rm -rf "$tmp"
}

# mount_facts REPO: what R1's access log says of the blob uploads into REPO, as JSON — requests
# `POST …/blobs/uploads/?from=…&mount=DIGEST` answered 201 (mounted: no byte moved) or 202 (refused,
# an upload follows), and the digests uploaded (`PUT …?digest=`)
mount_facts() {
  local log; log="$(reg_dir 1)/registry.log"
  local mounted refused
  local -a uploads
  mounted=$(grep -c "\"POST /v2/$1/blobs/uploads/?[^\"]*mount=[^\"]*\" 201 " "$log" || true)
  refused=$(grep -c "\"POST /v2/$1/blobs/uploads/?[^\"]*mount=[^\"]*\" 202 " "$log" || true)
  mapfile -t uploads < <(grep -oE "\"PUT /v2/$1/blobs/uploads/[^\"]*digest=sha256%3A[0-9a-f]{64}" "$log" | sed 's/.*%3A/sha256:/' | sort -u)
  printf '{"repo":"%s","mounted":%d,"refused":%d,"uploaded":%s}' "$1" "$mounted" "$refused" "$(_bench_json "${uploads[@]}")"
}

FAILED=()
# bench_image N SPEC — everything for one image, in $BENCH_ROOT/image-N with its own registries
bench_image() {
  local n="$1" spec="$2" probe r step t0 t1
  BENCH_DIR="$BENCH_ROOT/image-$n"
  BENCH_RESULTS="$BENCH_DIR/results.jsonl"
  export BENCH_DIR BENCH_RESULTS
  mkdir -p "$BENCH_DIR/tmp" "$BENCH_DIR/out"
  resolve_image "$spec"
  bench_log "image $n: $IMAGE ($IMAGE_KIND, $(du -h "$IMAGE" | cut -f1))"
  python3 scripts/bench/image-facts.py "$IMAGE" >"$BENCH_DIR/image-facts.json"

  reg_start 1
  R1="127.0.0.1:${REG_PORT[1]}"
  SRC="docker://$R1/bench/src:latest"
  bench_log "docker-registry 1 on $R1 (storage $(reg_dir 1)/data)"
  t0=$(date +%s.%N)
  skopeo copy -q --dest-tls-verify=false "docker-archive:$IMAGE" "$SRC" >"$BENCH_DIR/push.log" 2>&1 \
    || { cat "$BENCH_DIR/push.log" >&2; return 1; }
  t1=$(date +%s.%N)
  bench_log "pushed $SRC in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
  curl -fsS -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://$R1/v2/bench/src/manifests/latest" >"$BENCH_DIR/src-manifest.json"

  bench_note image "$(cat "$BENCH_DIR/image-facts.json")"
  bench_note imageFile "$(_bench_json "$IMAGE" "$IMAGE_KIND" "$(stat -c %s "$IMAGE")" "$IMAGE_TITLE")"
  bench_note srcManifest "$(cat "$BENCH_DIR/src-manifest.json")"
  bench_note pushSeconds "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
  bench_note srcRegistryBytes "$(reg_bytes 1)"
  bench_note emptyDirBytes "$EMPTY_DIR_BYTES"
  bench_note machine "$(_bench_json "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')" \
    "$(free -b | awk '/^Mem:/ { print $2 }')" "$(node --version)" "$("${LF[@]}" --version)" \
    "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src 2>/dev/null || echo ' + uncommitted changes in src/')" \
    "$(docker-registry --version 2>&1 | head -1)" "$(skopeo --version)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    "$( [ -w /proc/sys/vm/drop_caches ] && [ "${LF_BENCH_DROP_CACHES:-1}" = 1 ] && echo yes || echo no)" \
    "$(df --output=source,fstype "$BENCH_DIR" | tail -1 | tr -s ' ')")"
  bench_note uptimeBefore "\"$(uptime | sed 's/^ *//')\""

  # an untimed copy first: does distribution mount the blobs into another repository of the same registry?
  skopeo copy --src-tls-verify=false --dest-tls-verify=false "$SRC" "docker://$R1/bench/probe:latest" \
    >"$BENCH_DIR/probe.log" 2>&1 || { cat "$BENCH_DIR/probe.log" >&2; return 1; }
  probe="$(mount_facts bench/probe)"
  bench_note probe "$probe"
  bench_note probeSkippedLines "$(grep -c 'skipped: already exists' "$BENCH_DIR/probe.log" || true)"
  bench_log "probe copy into bench/probe: $probe"
  local -a steps=(skopeo-same lf-gzip lf-none lf-verify lf-archive)
  if [[ "$probe" != *'"mounted":0,'* ]]; then
    reg_start 2
    R2="127.0.0.1:${REG_PORT[2]}"
    bench_log "the registry mounts blobs across repositories: the floor is a copy into a second registry, $R2"
    steps+=(skopeo-reg2 lf-reg2)
  fi

  for ((r = 1; r <= RUNS; r++)); do
    for step in "${steps[@]}"; do
      run "$step" "$r"
    done
    bench_note "skopeo-same.r$r.mounts" "$(mount_facts "bench/copy-$r")"
    bench_note "skopeo-same.r$r.skippedLines" "$(cat "$BENCH_DIR/skopeo-same.r$r.err" "$BENCH_DIR/skopeo-same.r$r.out" | grep -c 'skipped: already exists' || true)"
  done
  bench_note uptimeAfter "\"$(uptime | sed 's/^ *//')\""
  reg_stop 1
  reg_stop 2
  REG_PORT=()
  rm -rf "$BENCH_DIR"/registry-*/data "$BENCH_DIR/out" "$BENCH_DIR/tmp"   # the next image needs the disk
}

# ------------------------------------------------------------------ the images
read -r -a SPECS <<<"${LF_BENCH_IMAGES:-big big:2}"
DIRS=()
for i in "${!SPECS[@]}"; do
  bench_image "$((i + 1))" "${SPECS[$i]}"
  DIRS+=("$BENCH_ROOT/image-$((i + 1))")
done

# ------------------------------------------------------------------ the report
node scripts/bench/registry-report.mjs "${DIRS[@]}" >"$BENCH_ROOT/section.md"
if [ "$DOC" != "-" ]; then
  node scripts/e2e/doc-section.mjs "$DOC" "## Registry to registry" <"$BENCH_ROOT/section.md"
fi
cat "$BENCH_ROOT/section.md"
if [ "${#FAILED[@]}" -gt 0 ]; then
  bench_log "failed runs:"
  printf '  %s\n' "${FAILED[@]}" >&2
  exit 1
fi
