#!/usr/bin/env bash
# scripts/e2e/podman-transport.sh — the containers-storage: / podman: transport against real
# rootless podman (vfs), as the rootless user (sourced by scripts/e2e.sh; part "podman-transport").
#
# layerflat runs as $LF_ROOTLESS_USER and finds `podman` on PATH, the way a user on RHEL 7 runs it:
# podman is configured for that user by a storage.conf (vfs, a store of its own under the state dir,
# apart from the round trips' `podman_rootless` store) and a containers.conf, named by
# CONTAINERS_STORAGE_CONF / CONTAINERS_CONF. The CLI is the RHEL 7 tarball's launcher (Node 16.20.2,
# which has no fs.statfs: the free-space check goes through df) when the setup built it, else dist/.

pt_dir() { printf '%s/podman-transport' "$(lf_rootless_dir)"; }
PT_IMG=localhost/layerflat-pt/rules:orig

# pt_prepare — the user's podman config, its store and a work dir it owns.
pt_prepare() {
  local d; d="$(pt_dir)"
  mkdir -p "$d/store" "$d/work" "$d/tmp"
  cat >"$d/storage.conf" <<CONF
[storage]
driver = "vfs"
graphroot = "$d/store"
rootless_storage_path = "$d/store"
CONF
  cat >"$d/containers.conf" <<CONF
[containers]
netns = "none"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
CONF
  chown -R "$LF_ROOTLESS_USER:" "$d"
  chmod 0755 "$d"
  chmod 0644 "$d/storage.conf" "$d/containers.conf"
}

# pt_user CMD... — CMD as the rootless user, podman configured as above; PT_PATH replaces PATH.
pt_user() {
  local d r home; d="$(pt_dir)"; r="$(lf_rootless_dir)"
  home="$(getent passwd "$LF_ROOTLESS_USER" | cut -d: -f6)"
  (cd "$d/work" && runuser -u "$LF_ROOTLESS_USER" -- env -i \
      HOME="$home" USER="$LF_ROOTLESS_USER" LOGNAME="$LF_ROOTLESS_USER" \
      PATH="${PT_PATH:-/usr/local/bin:/usr/bin:/bin}" XDG_RUNTIME_DIR="$r/run" TMPDIR="$d/tmp" \
      CONTAINERS_STORAGE_CONF="$d/storage.conf" CONTAINERS_CONF="$d/containers.conf" "$@")
}

# pt_layerflat ARGS... — the CLI under test, as the rootless user.
pt_layerflat() {
  local node; node="$(command -v node)"
  if [ -n "${E2E_TARBALL_CLI:-}" ] && [ -x "$E2E_TARBALL_CLI" ]; then
    pt_user "$E2E_TARBALL_CLI" "$@"
  else
    pt_user "$node" "$E2E_ROOT/dist/cli/main.js" "$@"
  fi
}

pt_setup() {
  pt_prepare
  local d; d="$(pt_dir)"
  cp "$E2E_ROOT/test/fixtures/docker-rules.tar" "$d/work/rules.tar"
  chown "$LF_ROOTLESS_USER:" "$d/work/rules.tar"
  pt_user podman info --format '{{.Store.GraphDriverName}} {{.Store.GraphRoot}} rootless={{.Host.Security.Rootless}}'
  [ "$(pt_user podman info --format '{{.Store.GraphDriverName}}')" = vfs ]
  [ "$(pt_user podman info --format '{{.Host.Security.Rootless}}')" = true ]
  pt_user podman load -q -i "$d/work/rules.tar"
  pt_user podman tag localhost/layerflat-fixture/rules:docker "$PT_IMG"
  pt_user podman rmi localhost/layerflat-fixture/rules:docker
  pt_layers "$PT_IMG" 19
  pt_layerflat --version
}

# pt_layers IMAGE N — the image has N layers in podman's storage.
pt_layers() {
  local n; n="$(pt_user podman image inspect --format '{{len .RootFS.Layers}}' "$1")"
  echo "$1: $n layers"
  [ "$n" = "$2" ]
}

# pt_runs IMAGE — its default command prints layerflat-ok, as the original's does.
pt_runs() {
  local out; out="$(pt_user podman run --rm --network none "$1")"
  echo "output: $out"
  [ "$out" = layerflat-ok ]
}

# pt_no_temps — layerflat left nothing in the user's TMPDIR.
pt_no_temps() {
  local left; left="$(find "$(pt_dir)/tmp" -maxdepth 1 -name 'layerflat-*')"
  [ -z "$left" ] || { echo "left behind: $left"; return 1; }
}

pt_storage_to_storage() {
  pt_layerflat flatten "containers-storage:$PT_IMG" containers-storage:localhost/layerflat-pt/rules:flat
  pt_layers localhost/layerflat-pt/rules:flat 1
  pt_runs localhost/layerflat-pt/rules:flat
  pt_no_temps
}

pt_verify_storage() {
  pt_layerflat verify "containers-storage:$PT_IMG" containers-storage:localhost/layerflat-pt/rules:flat
}

pt_storage_to_file() {
  pt_layerflat flatten "podman:$PT_IMG" flat.tar
  pt_layerflat inspect --json flat.tar >"$(pt_dir)/inspect.json"
  [ "$(e2e_json "$(pt_dir)/inspect.json" 'j.layers.length')" = 1 ]
  pt_no_temps
}

pt_file_to_storage() {
  pt_layerflat flatten flat.tar podman:layerflat-pt/new -t layerflat-pt/new:v2
  pt_layers localhost/layerflat-pt/new:latest 1
  pt_layers localhost/layerflat-pt/new:v2 1
  pt_runs localhost/layerflat-pt/new:v2
  pt_layerflat verify "containers-storage:$PT_IMG" podman:layerflat-pt/new:v2
  pt_no_temps
}

pt_inspect_source() {
  pt_layerflat inspect --json "containers-storage:$PT_IMG" >"$(pt_dir)/inspect-orig.json"
  [ "$(e2e_json "$(pt_dir)/inspect-orig.json" 'j.layers.length')" = 19 ]
}

# pt_fails_one_line CODE PATTERN CMD... — CMD exits 2 with exactly one stderr line matching PATTERN.
pt_fails_one_line() {
  local pattern="$1" rc=0 err; shift
  err="$(pt_layerflat "$@" 2>&1 >/dev/null)" || rc=$?
  printf 'exit %s, stderr:\n%s\n' "$rc" "$err"
  [ "$rc" = 2 ] && [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] && grep -qE -- "$pattern" <<<"$err"
}

pt_missing_image() {
  pt_fails_one_line '^layerflat: error \[NOT_FOUND\]: containers-storage:localhost/layerflat-pt/nosuch' \
    flatten containers-storage:localhost/layerflat-pt/nosuch:1 out.tar
  [ ! -e "$(pt_dir)/work/out.tar" ]
  pt_no_temps
}

pt_podman_missing() {
  # a PATH with what the launcher needs (readlink, dirname) and no podman (/bin is /usr/bin on Debian 12)
  local bin; bin="$(pt_dir)/bin-without-podman"
  mkdir -p "$bin" && ln -sf "$(command -v readlink)" "$(command -v dirname)" "$bin/"
  PT_PATH="$bin" pt_fails_one_line '^layerflat: error \[MISSING_TOOL\]: .*podman' \
    flatten "containers-storage:$PT_IMG" out.tar
}

# pt_taken_name — a name already in use needs --force; with it the replacement is verified first.
pt_taken_name() {
  local before after
  before="$(pt_user podman image inspect --format '{{.Id}}' "$PT_IMG")"
  pt_fails_one_line '^layerflat: error \[DEST_EXISTS\]: .*--force' flatten flat.tar "containers-storage:$PT_IMG"
  after="$(pt_user podman image inspect --format '{{.Id}}' "$PT_IMG")"
  [ "$before" = "$after" ] || { echo "the name moved without --force"; return 1; }
  pt_layerflat flatten "containers-storage:$PT_IMG" containers-storage:localhost/layerflat-pt/rules:flat \
    --force --json >"$(pt_dir)/force.json"
  [ "$(e2e_json "$(pt_dir)/force.json" 'j.verified')" = true ]
}

pt_cleanup() {
  pt_user podman rm -af >/dev/null 2>&1 || true
  pt_user podman rmi -af
  [ -z "$(pt_user podman images -q)" ]
  pt_user podman unshare rm -rf "$(pt_dir)/store"
  rm -rf "$(pt_dir)"
}

e2e_podman_transport_cases() {
  if [ "$E2E_PODMAN" = 0 ]; then
    e2e_not_run "podman transport checks" "rootless podman does not work"
    return 0
  fi
  local who="as $LF_ROOTLESS_USER"
  if ! e2e_check "podman transport: $LF_ROOTLESS_USER's podman (vfs, from PATH) holds the 19-layer fixture" pt_setup; then
    e2e_not_run "podman transport checks" "the fixture could not be loaded"
    return 0
  fi
  e2e_check "podman transport: flatten containers-storage:IMG containers-storage:IMG-flat $who → 1 layer, runs" \
    pt_storage_to_storage || true
  e2e_check "podman transport: verify containers-storage:IMG containers-storage:IMG-flat exits 0" pt_verify_storage || true
  e2e_check "podman transport: flatten podman:IMG flat.tar → 1 layer" pt_storage_to_file || true
  e2e_check "podman transport: flatten flat.tar podman:NEW -t NEW:v2 → both names, 1 layer, runs, verifies" \
    pt_file_to_storage || true
  e2e_check "podman transport: inspect containers-storage:IMG" pt_inspect_source || true
  e2e_check "podman transport: a missing image → exit 2, one line, nothing written" pt_missing_image || true
  e2e_check "podman transport: podman not on PATH → exit 2, one line" pt_podman_missing || true
  e2e_check "podman transport: a name in use needs --force, and is then moved only after verification" \
    pt_taken_name || true
  e2e_check "podman transport: remove the images and the store" pt_cleanup || true
}
