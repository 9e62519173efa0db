#!/usr/bin/env bash
# scripts/engines.sh — private container engines for layerflat fixtures and e2e tests.
#
# Sourceable library AND command-line tool.  Everything lives under one state
# directory (default ${LAYERFLAT_ENGINES_DIR:-/tmp/layerflat-engines}) so it never
# touches the host's own docker/podman storage.
#
#   As a library:   source scripts/engines.sh
#                   lf_docker_start            # private dockerd on vfs, exports DOCKER_HOST
#                   lf_docker info             # /usr/bin/docker against that daemon
#                   podman_overlay images      # rootful podman, overlay storage under the state dir
#                   buildah_overlay images     # buildah sharing podman_overlay's storage
#                   lf_rootless_setup          # user lfuser + subuid/subgid + runtime dir
#                   podman_rootless images     # rootless podman (vfs) as lfuser
#                   podman_rootless load -q <img.tar   # pass files via stdin (lfuser can't read yours)
#                   podman_rootless_export CTR out.tar # export (lfuser can't write your stdout pipe)
#                   lf_docker_stop; lf_podman_overlay_stop; lf_podman_rootless_stop
#
#   As a command:   scripts/engines.sh start-docker | stop-docker | status-docker
#                   scripts/engines.sh start-podman-rootful | stop-podman-rootful
#                   scripts/engines.sh start-podman-rootless | stop-podman-rootless
#                   scripts/engines.sh verify-podman-rootless   # podman load + images as lfuser
#                   scripts/engines.sh docker ARGS...  | podman ARGS... | buildah ARGS...
#                   scripts/engines.sh podman-rootless ARGS...
#                   scripts/engines.sh stop-all | purge        # purge = stop-all + rm -rf state dir
#                   scripts/engines.sh env                     # prints `export DOCKER_HOST=...`
#
# Requirements: root on Debian (missing tools are installed with apt-get).
# Every function is safe under `set -euo pipefail` and idempotent.

# ---------------------------------------------------------------------------
# configuration
# ---------------------------------------------------------------------------
LF_ENGINES_DIR="${LAYERFLAT_ENGINES_DIR:-/tmp/layerflat-engines}"
LF_DOCKER_BIN="${LF_DOCKER_BIN:-/usr/bin/docker}"   # NOT /usr/local/bin/docker (different client)
LF_DOCKERD_BIN="${LF_DOCKERD_BIN:-/usr/sbin/dockerd}"
LF_ROOTLESS_USER="${LF_ROOTLESS_USER:-lfuser}"
# rootless user namespace size: must cover uid/gid 70000 used by the fixtures
LF_ROOTLESS_IDCOUNT="${LF_ROOTLESS_IDCOUNT:-200000}"

lf_docker_dir()   { printf '%s/docker' "$LF_ENGINES_DIR"; }
lf_docker_sock()  { printf '%s/docker/docker.sock' "$LF_ENGINES_DIR"; }
lf_podman_dir()   { printf '%s/podman' "$LF_ENGINES_DIR"; }
lf_rootless_dir() { printf '%s/rootless' "$LF_ENGINES_DIR"; }

lf_log() { printf '[engines] %s\n' "$*" >&2; }
lf_die() { printf '[engines] ERROR: %s\n' "$*" >&2; return 1; }

# ---------------------------------------------------------------------------
# packages
# ---------------------------------------------------------------------------
_LF_APT_UPDATED=0
# lf_need_cmd BINARY DEBIAN_PACKAGE  — install the package when BINARY is missing.
lf_need_cmd() {
  local bin="$1" pkg="$2"
  if [ -x "$bin" ] || command -v "$bin" >/dev/null 2>&1; then
    return 0
  fi
  [ "$(id -u)" = 0 ] || { lf_die "$bin missing and not root (cannot apt-get install $pkg)"; return 1; }
  lf_log "installing $pkg (for $bin)"
  if [ "$_LF_APT_UPDATED" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || true
    _LF_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null \
    || { lf_die "apt-get install $pkg failed"; return 1; }
  { [ -x "$bin" ] || command -v "$bin" >/dev/null 2>&1; } || { lf_die "$pkg installed but $bin still missing"; return 1; }
}

lf_require_root() {
  [ "$(id -u)" = 0 ] || { lf_die "must run as root"; return 1; }
}

# unmount everything mounted at or below DIR (deepest first); ignores errors.
lf_umount_below() {
  local dir="$1" m
  [ -d "$dir" ] || return 0
  dir="$(cd "$dir" && pwd -P)"
  # /proc/self/mountinfo field 5 is the mount point (octal-escaped)
  while read -r m; do
    [ -n "$m" ] || continue
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done < <(awk -v d="$dir" '{ p=$5; gsub(/\\040/, " ", p); if (p == d || index(p, d "/") == 1) print p }' /proc/self/mountinfo | sort -r)
}

# wait_pid_gone PID SECONDS
_lf_wait_gone() {
  local pid="$1" t="$2" i=0
  while kill -0 "$pid" 2>/dev/null; do
    i=$((i + 1))
    [ "$i" -le $((t * 10)) ] || return 1
    sleep 0.1
  done
  return 0
}

# ---------------------------------------------------------------------------
# private dockerd (vfs)
# ---------------------------------------------------------------------------
lf_docker() { "$LF_DOCKER_BIN" -H "unix://$(lf_docker_sock)" "$@"; }

_lf_docker_pid() {
  local pf; pf="$(lf_docker_dir)/docker.pid"
  [ -s "$pf" ] || return 1
  local pid; pid="$(cat "$pf")"
  kill -0 "$pid" 2>/dev/null || return 1
  printf '%s' "$pid"
}

lf_docker_running() {
  _lf_docker_pid >/dev/null && lf_docker info >/dev/null 2>&1
}

lf_docker_start() {
  lf_require_root
  lf_need_cmd "$LF_DOCKERD_BIN" docker.io
  lf_need_cmd "$LF_DOCKER_BIN" docker.io
  local d; d="$(lf_docker_dir)"
  DOCKER_HOST="unix://$(lf_docker_sock)"
  export DOCKER_HOST
  if lf_docker_running; then
    return 0
  fi
  if _lf_docker_pid >/dev/null; then
    # process alive but not answering: give it a moment, then restart it
    local i
    for i in $(seq 1 50); do lf_docker info >/dev/null 2>&1 && return 0; sleep 0.2; done
    lf_docker_stop
  fi
  mkdir -p "$d/data" "$d/exec"
  rm -f "$d/docker.pid" "$(lf_docker_sock)"
  [ -f "$d/daemon.json" ] || printf '{}\n' >"$d/daemon.json"
  lf_log "starting dockerd (vfs) in $d"
  # setsid: own session, so the caller's job control / signals don't reach it
  setsid "$LF_DOCKERD_BIN" \
    --config-file "$d/daemon.json" \
    --storage-driver vfs \
    --iptables=false --ip6tables=false --ip-masq=false --bridge=none \
    --data-root "$d/data" --exec-root "$d/exec" \
    --pidfile "$d/docker.pid" \
    --containerd-namespace layerflat \
    --containerd-plugins-namespace layerflat-plugins \
    -H "unix://$(lf_docker_sock)" \
    </dev/null >>"$d/dockerd.log" 2>&1 &
  local launcher=$! i
  for i in $(seq 1 300); do
    if lf_docker info >/dev/null 2>&1; then
      lf_log "dockerd ready (DOCKER_HOST=$DOCKER_HOST)"
      return 0
    fi
    if ! kill -0 "$launcher" 2>/dev/null && ! _lf_docker_pid >/dev/null; then
      tail -n 30 "$d/dockerd.log" >&2 || true
      lf_die "dockerd exited during start-up (log: $d/dockerd.log)"
      return 1
    fi
    sleep 0.2
  done
  tail -n 30 "$d/dockerd.log" >&2 || true
  lf_die "dockerd did not answer within 60 s (log: $d/dockerd.log)"
  return 1
}

lf_docker_stop() {
  local d pid; d="$(lf_docker_dir)"
  if pid="$(_lf_docker_pid)"; then
    lf_log "stopping dockerd (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    if ! _lf_wait_gone "$pid" 60; then
      lf_log "dockerd did not stop in 60 s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      _lf_wait_gone "$pid" 10 || true
    fi
  fi
  # the managed containerd normally exits with dockerd; kill it by its pidfile if not
  local cpf="$d/exec/containerd/containerd.pid" cpid
  if [ -s "$cpf" ]; then
    cpid="$(cat "$cpf")"
    if kill -0 "$cpid" 2>/dev/null && tr '\0' ' ' <"/proc/$cpid/cmdline" 2>/dev/null | grep -q -- "$d"; then
      kill -TERM "$cpid" 2>/dev/null || true
      _lf_wait_gone "$cpid" 20 || kill -KILL "$cpid" 2>/dev/null || true
    fi
  fi
  rm -f "$d/docker.pid" "$(lf_docker_sock)"
  lf_umount_below "$d"
  return 0
}

# ---------------------------------------------------------------------------
# rootful podman / buildah with overlay storage under the state dir
# ---------------------------------------------------------------------------
# ulimits for containers that podman runs: rootful podman asks runc for
# nofile/nproc = 1048576 by default, which fails where root lacks CAP_SYS_RESOURCE
# (runc: "error setting rlimit type 7: operation not permitted"), and a value at
# our own hard nproc limit fails too (podman lowers its own nproc), so pin both
# to modest values below the hard limits.  NB: a `podman run --ulimit X` replaces
# this whole list, so pass both nofile and nproc if you pass one.
_lf_ulimits_toml() {
  local n p
  n="$(ulimit -Hn)"; p="$(ulimit -Hu)"
  { [ "$n" = unlimited ] || [ "$n" -gt 65536 ]; } && n=65536
  { [ "$p" = unlimited ] || [ "$p" -gt 16384 ]; } && p=16384
  printf '["nofile=%s:%s", "nproc=%s:%s"]' "$n" "$n" "$p" "$p"
}

_lf_podman_prepare() {
  local p; p="$(lf_podman_dir)"
  mkdir -p "$p/root" "$p/runroot" "$p/tmp"
  [ -f "$p/storage.conf" ] || cat >"$p/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$p/root"
runroot = "$p/runroot"
[storage.options.overlay]
mountopt = "nodev"
EOF
  [ -f "$p/containers.conf" ] || cat >"$p/containers.conf" <<EOF
[containers]
netns = "none"
default_ulimits = $(_lf_ulimits_toml)
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
tmp_dir = "$p/tmp"
EOF
}

podman_overlay() {
  _lf_podman_prepare
  local p; p="$(lf_podman_dir)"
  CONTAINERS_STORAGE_CONF="$p/storage.conf" CONTAINERS_CONF="$p/containers.conf" \
    podman --root "$p/root" --runroot "$p/runroot" --storage-driver overlay \
      --tmpdir "$p/tmp" --cgroup-manager cgroupfs --events-backend file --runtime runc "$@"
}

# buildah shares podman_overlay's image store
buildah_overlay() {
  _lf_podman_prepare
  local p; p="$(lf_podman_dir)"
  CONTAINERS_STORAGE_CONF="$p/storage.conf" CONTAINERS_CONF="$p/containers.conf" \
    buildah --root "$p/root" --runroot "$p/runroot" --storage-driver overlay "$@"
}

lf_podman_overlay_start() {
  lf_require_root
  lf_need_cmd podman podman
  lf_need_cmd buildah buildah
  lf_need_cmd runc runc
  _lf_podman_prepare
  podman_overlay info --format '{{.Store.GraphDriverName}} {{.Store.GraphRoot}}' >/dev/null \
    || { lf_die "podman (overlay, $(lf_podman_dir)) does not work"; return 1; }
}

lf_podman_overlay_stop() {
  local p; p="$(lf_podman_dir)"
  [ -d "$p/root" ] || return 0
  if command -v podman >/dev/null 2>&1; then
    podman_overlay rm -af -t 0 >/dev/null 2>&1 || true
    podman_overlay umount -a >/dev/null 2>&1 || true
  fi
  if command -v buildah >/dev/null 2>&1; then
    buildah_overlay rm -a >/dev/null 2>&1 || true
  fi
  lf_umount_below "$p"
  return 0
}

# ---------------------------------------------------------------------------
# rootless podman (vfs) as user lfuser
# ---------------------------------------------------------------------------
# first free id range (>= 200000) not overlapping any entry of /etc/subuid|subgid
_lf_free_subid_start() {
  local start=200000 f
  for f in /etc/subuid /etc/subgid; do
    [ -f "$f" ] || continue
    local end
    end="$(awk -F: 'NF>=3 { e = $2 + $3; if (e > m) m = e } END { print m + 0 }' "$f")"
    [ "$end" -le "$start" ] || start="$end"
  done
  printf '%s' "$start"
}

lf_rootless_setup() {
  lf_require_root
  lf_need_cmd podman podman
  lf_need_cmd newuidmap uidmap
  lf_need_cmd runuser util-linux
  lf_need_cmd runc runc
  local u="$LF_ROOTLESS_USER"
  if ! id -u "$u" >/dev/null 2>&1; then
    lf_log "creating user $u"
    useradd --create-home --shell /bin/bash "$u"
  fi
  touch /etc/subuid /etc/subgid
  # useradd may already have added a 65536-id range; the fixtures use uid/gid
  # 70000, so make sure the range is at least LF_ROOTLESS_IDCOUNT ids (one line
  # per file, same range in both)
  local f ok=1
  for f in /etc/subuid /etc/subgid; do
    awk -F: -v u="$u" -v n="$LF_ROOTLESS_IDCOUNT" '$1 == u && $3 >= n { found = 1 } END { exit !found }' "$f" || ok=0
    [ "$(grep -c "^$u:" "$f" || true)" = 1 ] || ok=0
  done
  if [ "$ok" = 0 ]; then
    sed -i "/^$u:/d" /etc/subuid /etc/subgid
    local start; start="$(_lf_free_subid_start)"
    printf '%s:%s:%s\n' "$u" "$start" "$LF_ROOTLESS_IDCOUNT" >>/etc/subuid
    printf '%s:%s:%s\n' "$u" "$start" "$LF_ROOTLESS_IDCOUNT" >>/etc/subgid
    lf_log "subordinate ids for $u: $(grep "^$u:" /etc/subuid)"
  fi
  local r uid gid; r="$(lf_rootless_dir)"; uid="$(id -u "$u")"; gid="$(id -g "$u")"
  mkdir -p "$LF_ENGINES_DIR"
  chmod 0755 "$LF_ENGINES_DIR"
  mkdir -p "$r/run" "$r/storage" "$r/runroot" "$r/tmp"
  chown "$uid:$gid" "$r" "$r/run" "$r/storage" "$r/runroot" "$r/tmp"
  chmod 0755 "$r"
  chmod 0700 "$r/run" "$r/runroot" "$r/tmp"
  # pick up a changed subuid mapping for an already-initialised user namespace
  podman_rootless system migrate >/dev/null 2>&1 || true
}

podman_rootless() {
  local u="$LF_ROOTLESS_USER" r; r="$(lf_rootless_dir)"
  local home; home="$(getent passwd "$u" | cut -d: -f6)"
  # run from / so podman never inherits an unreadable working directory;
  # pass files through stdin/stdout (e.g. `podman_rootless load <img.tar`) or
  # make sure $u can read/write the paths you give.
  (cd / && runuser -u "$u" -- env -i \
      HOME="$home" USER="$u" LOGNAME="$u" PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
      XDG_RUNTIME_DIR="$r/run" TMPDIR="$r/tmp" \
      podman --storage-driver vfs --root "$r/storage" --runroot "$r/runroot" \
        --tmpdir "$r/tmp" --cgroup-manager cgroupfs --events-backend file --runtime runc "$@")
}

# podman_rootless_export CONTAINER DEST.tar — `podman export` as lfuser cannot
# open a root-owned stdout pipe (/dev/stdout: permission denied), so export into
# a directory lfuser owns and move the file into place as root.
podman_rootless_export() {
  local ctr="$1" dest="$2" r tmp; r="$(lf_rootless_dir)"
  tmp="$r/tmp/export-$$-$RANDOM.tar"
  podman_rootless export -o "$tmp" "$ctr"
  mv -f "$tmp" "$dest"
  chown "$(id -u):$(id -g)" "$dest"
}

lf_podman_rootless_stop() {
  local r; r="$(lf_rootless_dir)"
  [ -d "$r/storage" ] || return 0
  if id -u "$LF_ROOTLESS_USER" >/dev/null 2>&1; then
    podman_rootless rm -af -t 0 >/dev/null 2>&1 || true
  fi
  # the rootless pause process keeps the user namespace alive; it was started by us
  local pf pid
  for pf in "$r/tmp/pause.pid" "$r/run/libpod/tmp/pause.pid" "$r/run/libpod/pause.pid"; do
    [ -s "$pf" ] || continue
    pid="$(cat "$pf")"
    if kill -0 "$pid" 2>/dev/null && [ "$(stat -c %U "/proc/$pid" 2>/dev/null)" = "$LF_ROOTLESS_USER" ]; then
      kill -TERM "$pid" 2>/dev/null || true
      _lf_wait_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pf"
  done
  lf_umount_below "$r"
  return 0
}

# Build a tiny real image (buildah, FROM scratch) as a docker-archive, load it
# as lfuser with rootless podman and list it.
lf_podman_rootless_verify() {
  lf_rootless_setup
  lf_podman_overlay_start
  local r tar; r="$(lf_rootless_dir)"; tar="$r/tiny.tar"
  if [ ! -s "$tar" ]; then
    local ctr ctx
    ctx="$(mktemp -d)"
    printf 'layerflat rootless check\n' >"$ctx/hello.txt"
    ctr="$(buildah_overlay from scratch)"
    buildah_overlay copy "$ctr" "$ctx/hello.txt" /hello.txt >/dev/null
    buildah_overlay config --cmd '["/hello.txt"]' "$ctr"
    buildah_overlay commit -q --format docker "$ctr" localhost/layerflat-tiny:latest >/dev/null
    buildah_overlay rm "$ctr" >/dev/null
    rm -f "$tar.part"
    buildah_overlay push -q localhost/layerflat-tiny:latest "docker-archive:$tar.part:localhost/layerflat-tiny:latest"
    buildah_overlay rmi localhost/layerflat-tiny:latest >/dev/null
    rm -rf "$ctx"
    mv "$tar.part" "$tar"
  fi
  podman_rootless load -q <"$tar" >/dev/null
  local out; out="$(podman_rootless images --format '{{.Repository}}:{{.Tag}} {{.ID}}')"
  printf '%s\n' "$out"
  grep -q 'layerflat-tiny:latest' <<<"$out" || { lf_die "rootless podman did not list the loaded image"; return 1; }
  podman_rootless rmi -f localhost/layerflat-tiny:latest >/dev/null
  lf_log "rootless podman (vfs) as $LF_ROOTLESS_USER works"
}

lf_stop_all() {
  lf_docker_stop
  lf_podman_overlay_stop
  lf_podman_rootless_stop
}

lf_purge() {
  lf_stop_all
  if [ -d "$LF_ENGINES_DIR" ]; then
    lf_umount_below "$LF_ENGINES_DIR"
    rm -rf "$LF_ENGINES_DIR"
  fi
}

# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------
_lf_engines_main() {
  set -euo pipefail
  local cmd="${1:-help}"
  [ "$#" -gt 0 ] && shift
  case "$cmd" in
    start-docker)            lf_docker_start; printf 'export DOCKER_HOST=%s\n' "$DOCKER_HOST" ;;
    stop-docker)             lf_docker_stop ;;
    status-docker)           if lf_docker_running; then echo running; else echo stopped; return 1; fi ;;
    start-podman-rootful)    lf_podman_overlay_start ;;
    stop-podman-rootful)     lf_podman_overlay_stop ;;
    start-podman-rootless)   lf_rootless_setup ;;
    stop-podman-rootless)    lf_podman_rootless_stop ;;
    verify-podman-rootless)  lf_podman_rootless_verify ;;
    docker)                  lf_docker "$@" ;;
    podman)                  podman_overlay "$@" ;;
    buildah)                 buildah_overlay "$@" ;;
    podman-rootless)         podman_rootless "$@" ;;
    stop-all)                lf_stop_all ;;
    purge)                   lf_purge ;;
    env)                     printf 'export DOCKER_HOST=unix://%s\n' "$(lf_docker_sock)" ;;
    help|-h|--help)          sed -n '2,30p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' ;;
    *)                       lf_die "unknown command: $cmd (try help)"; return 2 ;;
  esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  _lf_engines_main "$@"
fi
