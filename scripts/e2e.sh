#!/usr/bin/env bash
# scripts/e2e.sh — the end-to-end suite of layerflat against real engines (`npm run test:e2e`).
#
# Proves, with dockerd (vfs) and rootless podman (vfs, as user lfuser), that a flattened image is
# the same filesystem and the same config as the original: for a realistic many-layer image built
# here (test/e2e/realistic/Dockerfile) and for the committed fixtures, each engine loads the
# original, saves it, layerflat flattens it (--verify), the engine loads the flat image; containers
# of both are exported and compared with `layerflat verify`, the flat image is run, `image inspect`
# must show the same Config and one layer, and the pipe form `save | layerflat flatten - - | load`
# must give the same layer. It measures what each image costs on VFS (du of the engines' storage),
# compares that with `layerflat inspect`'s estimate when that command exists, and writes the
# numbers into docs/benchmarks.md ("## End-to-end VFS cost").
#
# Run as root on Debian 12 with Node >= 20; installs what is missing. Output: one `ok - …` /
# `not ok - …` line per check, `#` lines for details, and a last line `N passed, M failed`; the
# exit status is non-zero if a check failed.
#
# Environment:
#   LAYERFLAT_ENGINES_DIR  state dir of the private engines (default /tmp/layerflat-e2e-engines);
#                          created, used and removed by the suite: nothing outside it is touched
#                          (except lfuser and its subuid range, which scripts/engines.sh sets up)
#   LAYERFLAT_E2E_KEEP=1   keep the state dir (images, exports, logs) for debugging
#   LAYERFLAT_E2E_PARTS    the parts to run after the setup, among "realistic docker daemon podman
#                          podman-transport reclaim registry unpack crafted integrity vfs" (default: all
#                          of them, in that order); e.g. LAYERFLAT_E2E_PARTS=crafted runs the crafted archives alone,
#                          LAYERFLAT_E2E_PARTS=daemon the docker-daemon: transport with dockerd only
#   LAYERFLAT_E2E_CRAFTED  shell patterns of the crafted cases to run (default: all), e.g.
#                          LAYERFLAT_E2E_CRAFTED='*-same-layer hardlink-order-*'
#
# Pieces: scripts/e2e/{lib,engine,setup,roundtrip,vfs-cost,crafted,integrity,daemon,
# podman-transport,reclaim,registry,unpack}.sh,
# scripts/e2e/registry.mjs (the token server and proxies around docker-registry),
# scripts/e2e/*.mjs,
# scripts/e2e/make-damaged.py (damaged layers piped into the engines, integrity.sh) and
# scripts/e2e/crafted/ (the generator of the crafted archives, see docs/engine-rules.md).
set -euo pipefail

E2E_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
export E2E_ROOT
export LAYERFLAT_ENGINES_DIR="${LAYERFLAT_ENGINES_DIR:-/tmp/layerflat-e2e-engines}"
case "$LAYERFLAT_ENGINES_DIR" in
  /?*/?*) ;;
  *) echo "LAYERFLAT_ENGINES_DIR=$LAYERFLAT_ENGINES_DIR: give an absolute dir of its own (it is removed at the end)" >&2; exit 2 ;;
esac
export E2E_WORK="$LAYERFLAT_ENGINES_DIR/e2e"
export TMPDIR="$E2E_WORK/tmp"
# shellcheck source-path=SCRIPTDIR source=e2e/env.sh
source "$E2E_ROOT/scripts/e2e/env.sh"
cd "$E2E_ROOT"

E2E_T0="$(date +%s)"
E2E_DONE=0
E2E_STARTED=0
FIX="$E2E_ROOT/test/fixtures"

# /home/jovyan is listed without "." and "work": the image declares VOLUME /home/jovyan/work, which
# no layer holds, so the runtime makes that mountpoint when the container starts and both get that
# minute as their mtime (a run of the original and one of the flat image a minute apart differed).
# shellcheck disable=SC2016 # expanded by the shell inside the container
PROBE_REALISTIC='id; getcap /usr/local/bin/lf-capped /usr/bin/ping; ls -lan /opt/app /opt/app/data /opt/app/etc /opt/app/etc/app.conf.d; ls -lanA /home/jovyan | grep -v " work\$"; stat -c "%a %u:%g %h %s %n" /opt/conda/lib/os.py /opt/conda/doc /opt/app/data/seed.txt /opt/app/data/seed-hardlink.txt; readlink /opt/conda/doc/python3; test ! -e /opt/app/scratch.bin && echo scratch.bin gone; ls -A /var/lib/apt/lists | wc -l; python3 -c "import sys; print(sys.version_info[:2])"; pwd; echo "$LF_SPACED"'
# The listings leave out "." and ".." (-A): ".." of a top-level directory is "/", whose mtime is
# the container's creation minute (two runs a minute apart differed); the top-level directories'
# own metadata is printed by stat instead.
# shellcheck disable=SC2016
PROBE_RULES='id; cat /rules/hl/a /rules/hl/b /rules/hl/b2 /rules/readd /rules/d2f; stat -c "%a %u:%g %Y %n" /rules /modes /srv /special; ls -lanRA /rules /modes /srv; ls -lA /special | grep -v null-dev; pwd; echo "$LF_SPACED"'

# --- the end: remove what we made, then the closing line --------------------------------------

# e2e_teardown — containers and images through the engines, then stop them and remove the state dir.
e2e_teardown() {
  [ "$E2E_STARTED" = 1 ] || return 0
  E2E_STARTED=0
  local log ok=1
  log="$(mktemp /tmp/layerflat-e2e-teardown.XXXXXX)"
  {
    if lf_docker_running; then e2e_eng_clear docker || ok=0; fi
    if [ -d "$(lf_rootless_dir)/storage" ]; then e2e_eng_clear podman || ok=0; fi
    lf_stop_all || ok=0
    if [ "${LAYERFLAT_E2E_KEEP:-0}" = 1 ]; then
      echo "LAYERFLAT_E2E_KEEP=1: keeping $LF_ENGINES_DIR"
    else
      lf_purge || ok=0
      [ ! -e "$LF_ENGINES_DIR" ] || ok=0
    fi
    if _lf_docker_pid >/dev/null 2>&1; then echo "dockerd still running"; ok=0; fi
  } >"$log" 2>&1
  if [ "$ok" = 1 ]; then
    e2e_ok "remove containers and images, stop dockerd and rootless podman, remove $LF_ENGINES_DIR"
  else
    e2e_not_ok "remove containers and images, stop dockerd and rootless podman, remove $LF_ENGINES_DIR"
    tail -n 20 "$log" | e2e_diag
  fi
  rm -f "$log"
}

e2e_finish() {
  e2e_teardown
  local s=$(($(date +%s) - E2E_T0))
  e2e_note "wall time: $((s / 60))m$(printf '%02d' $((s % 60)))s"
  E2E_DONE=1
  e2e_summary
}

e2e_on_exit() {
  local rc=$?
  [ "$E2E_DONE" = 0 ] || exit "$rc"
  set +e
  e2e_not_ok "the suite stopped early (exit $rc)"
  e2e_finish
  exit 1
}
trap e2e_on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the parts ---------------------------------------------------------------------------------

e2e_setup() {
  e2e_note "layerflat end-to-end suite; engines' state dir: $LF_ENGINES_DIR"
  e2e_df
  lf_purge >/dev/null 2>&1 || true # a previous run's leftovers in our own state dir
  E2E_STARTED=1
  mkdir -p "$E2E_WORK/tmp"
  e2e_check "install what is missing (docker.io, podman, uidmap, runc, skopeo, debootstrap, zstd, docker-registry, htpasswd, openssl, curl)" e2e_install || true
  E2E_BUILT=0; E2E_DOCKER=0; E2E_PODMAN=0; E2E_REALISTIC=0
  e2e_check "layerflat is built (npm run build when dist/ is missing)" e2e_build && E2E_BUILT=1
  # The round trips run the RHEL 7 tarball's launcher (Node 16.20.2 and the bundle), the rest dist/.
  export E2E_TARBALL_CLI="$E2E_WORK/rhel7/layerflat-$(node -p 'require("./package.json").version')-linux-x64/bin/layerflat"
  if [ "$E2E_BUILT" = 1 ] && ! e2e_check "the RHEL 7 tarball, unpacked for the round trips" e2e_unpack_tarball; then
    E2E_BUILT=0
  fi
  if e2e_part realistic || e2e_part docker || e2e_part daemon || e2e_part reclaim || e2e_part registry ||
    e2e_part crafted || e2e_part integrity || e2e_part vfs; then
    e2e_check "dockerd on vfs, private socket under the state dir" e2e_start_docker && E2E_DOCKER=1
  else
    e2e_note "no part needs dockerd: not starting it"
  fi
  if e2e_part podman || e2e_part podman-transport || e2e_part reclaim || e2e_part registry || e2e_part unpack ||
    e2e_part crafted || e2e_part integrity || e2e_part vfs; then
    e2e_check "rootless podman on vfs as $LF_ROOTLESS_USER" e2e_start_podman && E2E_PODMAN=1
  else
    e2e_note "rootless podman not started: none of the parts selected uses it"
  fi
  if [ "$E2E_BUILT" = 0 ]; then
    E2E_DOCKER=0; E2E_PODMAN=0
    e2e_not_run "every round trip" "layerflat is not built"
  fi
}

e2e_realistic_image() {
  local what="realistic image: docker build --network host test/e2e/realistic"
  if [ "$E2E_DOCKER" = 0 ]; then
    e2e_not_run "$what" "dockerd is not running"
    return 0
  fi
  e2e_df
  if ! e2e_check "base image: debootstrap'd bookworm minbase imported as $E2E_BASE_REF" e2e_import_base; then
    e2e_not_run "$what" "no base image"
    return 0
  fi
  e2e_check "$what" e2e_build_realistic || return 0
  e2e_note "$(tail -n 1 "$E2E_LOG")"
  if e2e_check "docker save the realistic image, then remove it and its build from docker" \
      e2e_save_realistic "$E2E_WORK/realistic.tar"; then
    E2E_REALISTIC=1
  fi
}

e2e_docker_cases() {
  if [ "$E2E_DOCKER" = 0 ]; then
    e2e_not_run "docker round trips" "dockerd is not running"
    return 0
  fi
  if [ "$E2E_REALISTIC" = 1 ]; then
    rt_case docker realistic "$E2E_WORK/realistic.tar" "$E2E_REALISTIC_REF" "layerflat-ok jovyan:users" "$PROBE_REALISTIC"
  else
    e2e_not_run "docker realistic: round trip" "the realistic image was not built"
  fi
  e2e_df
  rt_case docker docker-rules "$FIX/docker-rules.tar" layerflat-fixture/rules:docker layerflat-ok "$PROBE_RULES"
  rt_case docker podman-rules "$FIX/podman-rules.tar" localhost/layerflat-fixture/rules:podman layerflat-ok "$PROBE_RULES"
  # docker 20.10 cannot load an OCI layout: skopeo makes its docker-archive; layerflat flattens the
  # OCI fixture itself
  if e2e_check "docker oci-gzip: skopeo copy oci:test/fixtures/oci-gzip:rules → docker-archive (for docker load)" \
      e2e_oci_to_docker_archive "oci:$FIX/oci-gzip:rules" "$E2E_WORK/oci-gzip.docker.tar" layerflat-e2e/oci-gzip:orig; then
    rt_case docker oci-gzip "$E2E_WORK/oci-gzip.docker.tar" layerflat-e2e/oci-gzip:orig layerflat-ok "$PROBE_RULES" \
      "oci:$FIX/oci-gzip:rules"
  else
    e2e_not_run "docker oci-gzip: round trip" "skopeo could not convert the fixture"
  fi
}

e2e_podman_cases() {
  if [ "$E2E_PODMAN" = 0 ]; then
    e2e_not_run "rootless podman round trips" "rootless podman does not work"
    return 0
  fi
  if [ "$E2E_REALISTIC" = 1 ]; then
    rt_case podman realistic "$E2E_WORK/realistic.tar" "localhost/$E2E_REALISTIC_REF" "layerflat-ok jovyan:users" "$PROBE_REALISTIC"
  else
    e2e_not_run "rootless podman realistic: round trip" "the realistic image was not built"
  fi
  e2e_df
  rt_case podman docker-rules "$FIX/docker-rules.tar" localhost/layerflat-fixture/rules:docker layerflat-ok "$PROBE_RULES"
  rt_case podman podman-rules "$FIX/podman-rules.tar" localhost/layerflat-fixture/rules:podman layerflat-ok "$PROBE_RULES"
  # podman loads an oci-archive itself (its ref name "rules" becomes localhost/rules:latest)
  rt_case podman rules-oci "$FIX/rules.oci.tar" localhost/rules:latest layerflat-ok "$PROBE_RULES" \
    "oci-archive:$FIX/rules.oci.tar:rules"
  if e2e_check "rootless podman oci-zstd: tar the OCI layout test/fixtures/oci-zstd (for podman load)" \
      e2e_layout_to_oci_archive "$FIX/oci-zstd" "$E2E_WORK/oci-zstd.oci.tar"; then
    rt_case podman oci-zstd "$E2E_WORK/oci-zstd.oci.tar" localhost/rules:latest layerflat-ok "$PROBE_RULES" \
      "oci:$FIX/oci-zstd:rules" oci-archive
  else
    e2e_not_run "rootless podman oci-zstd: round trip" "could not tar the layout"
  fi
}

e2e_vfs_report() {
  vfs_table
  local pd="$E2E_WORK/podman-realistic" what="layerflat inspect --json: VFS estimate of image + 1 container within 10% of du (realistic, rootless podman)"
  if [ ! -s "$pd/vfs-orig.env" ] || [ ! -s "$pd/vfs-flat.env" ]; then
    e2e_not_run "$what" "the realistic image was not measured in rootless podman"
  elif ! vfs_has_inspect; then
    e2e_skip "$what" "this layerflat has no \`inspect --json\` yet (its commands: $(vfs_commands)), so there is no estimate to compare with the measured numbers"
  else
    e2e_check "$what" vfs_estimate_check "$pd" "$E2E_WORK/realistic.tar" "$pd/inspect.json" || true
    e2e_diag <"$E2E_LOG"
  fi
  if [ -s "$E2E_WORK/docker-realistic/vfs-flat.env" ] && [ -s "$pd/vfs-flat.env" ]; then
    e2e_check "docs/benchmarks.md: \"## End-to-end VFS cost\" written with the realistic image's numbers" \
      vfs_write_doc || true
  else
    e2e_not_run "docs/benchmarks.md: \"## End-to-end VFS cost\"" "the realistic image was not measured in both engines"
  fi
}

# --- main --------------------------------------------------------------------------------------

if [ "$(id -u)" != 0 ]; then
  E2E_DONE=1
  e2e_not_ok "the end-to-end suite runs as root (it installs packages and starts dockerd)"
  e2e_summary || exit 1
fi
E2E_PARTS=" ${LAYERFLAT_E2E_PARTS:-realistic docker daemon podman podman-transport reclaim registry unpack crafted integrity vfs} "
for _p in $E2E_PARTS; do
  case "$_p" in
    realistic | docker | daemon | podman | podman-transport | reclaim | registry | unpack | crafted | integrity | vfs) ;;
    *) E2E_DONE=1; e2e_not_ok "LAYERFLAT_E2E_PARTS: unknown part '$_p' (parts: realistic docker daemon podman podman-transport reclaim registry unpack crafted integrity vfs)"; e2e_summary || exit 1 ;;
  esac
done
e2e_part() { [[ "$E2E_PARTS" == *" $1 "* ]]; }
e2e_setup
if e2e_part realistic; then e2e_realistic_image; fi
if e2e_part docker; then e2e_docker_cases; fi
if e2e_part daemon; then e2e_daemon_cases; fi
if e2e_part podman; then e2e_podman_cases; fi
if e2e_part podman-transport; then e2e_podman_transport_cases; fi
if e2e_part reclaim; then e2e_reclaim_cases; fi
if e2e_part registry; then e2e_registry_cases; fi
if e2e_part unpack; then e2e_unpack_cases; fi
if e2e_part crafted; then e2e_crafted_cases; fi
if e2e_part integrity; then e2e_integrity_cases; fi
if e2e_part vfs; then e2e_vfs_report; fi
e2e_finish
