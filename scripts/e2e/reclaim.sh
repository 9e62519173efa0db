#!/usr/bin/env bash
# scripts/e2e/reclaim.sh — `layerflat reclaim` against real rootless podman (vfs), as the rootless
# user (sourced by scripts/e2e.sh; part "reclaim").
#
# Two different many-layer images in the user's own store (configured like podman-transport.sh's,
# under the state dir): A = the docker-rules fixture (19 layers) under two names, B = the
# podman-rules fixture (22 layers) with a container made from it. reclaim must flatten A in place
# (its names kept, it runs, `layerflat verify` against the fixture file exits 0, A's original is
# removed), flatten B and keep B's original for its container (reported), and free disk as `du`
# measures it. Then the fault test: for each phase, LAYERFLAT_RECLAIM_STOP_AFTER=PHASE makes the
# CLI kill -9 itself there; after every kill each name of A must be on the original or on the
# verified flat image, and the next run must finish. A second reclaim while one runs exits 3; a
# --tmp-dir without room stops it before anything is written.
# The same first run against dockerd (vfs) over DOCKER_HOST (--engine docker), as root.
# The CLI is $E2E_CLI when set, else the RHEL 7 tarball's launcher when the setup built it, else dist/.

# rc_dir — the part's dir (its podman store, configs, work and state); RC_DIR names another.
rc_dir() { if [ -n "${RC_DIR:-}" ]; then printf '%s' "$RC_DIR"; else printf '%s/reclaim' "$(lf_rootless_dir)"; fi; }
RC_A1=localhost/lf-rc/rules:a1
RC_A2=localhost/lf-rc/rules:a2
RC_B=localhost/lf-rc/rules:b

rc_prepare() {
  local d; d="$(rc_dir)"
  mkdir -p "$d/store" "$d/runroot" "$d/work" "$d/tmp" "$d/state"
  cat >"$d/storage.conf" <<CONF
[storage]
driver = "vfs"
graphroot = "$d/store"
runroot = "$d/runroot"
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

# (Every check below is a plain command: `set -e` ignores the left side of && and a command under !.)

# rc_user CMD... — CMD as the rootless user, podman configured as above.
rc_user() {
  local d r home; d="$(rc_dir)"; r="$(lf_rootless_dir)"
  home="$(getent passwd "$LF_ROOTLESS_USER" | cut -d: -f6)"
  (cd "$d/work" && runuser -u "$LF_ROOTLESS_USER" -- env -i \
      HOME="$home" USER="$LF_ROOTLESS_USER" LOGNAME="$LF_ROOTLESS_USER" \
      PATH=/usr/local/bin:/usr/bin:/bin XDG_RUNTIME_DIR="$r/run" TMPDIR="$d/tmp" \
      ${RC_STOP:+LAYERFLAT_RECLAIM_STOP_AFTER="$RC_STOP"} \
      CONTAINERS_STORAGE_CONF="$d/storage.conf" CONTAINERS_CONF="$d/containers.conf" "$@")
}

# rc_reclaim ARGS... — `layerflat reclaim --state-dir … ARGS` as the rootless user.
rc_reclaim() {
  local cli=("$(command -v node)" "$E2E_ROOT/dist/cli/main.js")
  if [ -n "${E2E_CLI:-}" ]; then cli=("$E2E_CLI")
  elif [ -n "${E2E_TARBALL_CLI:-}" ] && [ -x "$E2E_TARBALL_CLI" ]; then cli=("$E2E_TARBALL_CLI"); fi
  rc_user "${cli[@]}" reclaim --state-dir "$(rc_dir)/state" "$@"
}

rc_id() { rc_user podman image inspect --format '{{.Id}}' "$1"; }
rc_layers() { rc_user podman image inspect --format '{{len .RootFS.Layers}}' "$1"; }
rc_du() { rc_user podman unshare du -s -B1 "$(rc_dir)/store" | cut -f1; }

# rc_load_a — A's original back under its two names (a fresh load of the fixture).
rc_load_a() {
  rc_user podman load -q -i "$(rc_dir)/work/a.tar" >/dev/null
  rc_user podman tag localhost/layerflat-fixture/rules:docker "$RC_A1" "$RC_A2"
  rc_user podman rmi localhost/layerflat-fixture/rules:docker >/dev/null
  rc_id "$RC_A1" >"$(rc_dir)/a.id"
}

rc_setup() {
  rc_prepare
  local d; d="$(rc_dir)"
  cp "$E2E_ROOT/test/fixtures/docker-rules.tar" "$d/work/a.tar"
  cp "$E2E_ROOT/test/fixtures/podman-rules.tar" "$d/work/b.tar"
  chown "$LF_ROOTLESS_USER:" "$d/work/a.tar" "$d/work/b.tar"
  [ "$(rc_user podman info --format '{{.Store.GraphDriverName}}')" = vfs ]
  rc_load_a
  rc_user podman load -q -i "$d/work/b.tar" >/dev/null
  rc_user podman tag localhost/layerflat-fixture/rules:podman "$RC_B"
  rc_user podman rmi localhost/layerflat-fixture/rules:podman >/dev/null
  rc_id "$RC_B" >"$d/b.id"
  rc_user podman create --name lf-rc-user --network none "$RC_B" >/dev/null
  [ "$(rc_layers "$RC_A1")" = 19 ]
  [ "$(rc_layers "$RC_B")" -gt 1 ]
  rc_user podman images
}

rc_dry_run() {
  local d; d="$(rc_dir)"
  rc_reclaim --dry-run --json >"$d/dry.json"
  e2e_json "$d/dry.json" 'j.images.map((i) => i.status + " " + i.names.join(",") + " " + i.predicted?.savingBytes)'
  [ "$(e2e_json "$d/dry.json" 'j.images.filter((i) => i.status === "planned").length')" = 2 ]
  [ "$(rc_layers "$RC_A1")" = 19 ] # nothing changed
  rc_reclaim --dry-run 'lf-rc/rules:a*' | tee "$d/dry.txt"
  grep -q '^planned .*lf-rc/rules:a1.*predicted saving' "$d/dry.txt"
  if grep -q 'rules:b' "$d/dry.txt"; then echo "the pattern should leave B out"; return 1; fi
}

rc_run() {
  local d rc=0; d="$(rc_dir)"
  rc_du >"$d/du.before"
  rc_reclaim --json >"$d/run.json" || rc=$?
  e2e_json "$d/run.json" 'j.images.map((i) => i.status + " " + i.names.join(",") + " " + (i.reason ?? ""))'
  e2e_json "$d/run.json" 'j.freed'
  echo "exit $rc (1 expected: B is kept for its container)"
  [ "$rc" = 1 ]
  rc_du >"$d/du.after"
  echo "du before $(cat "$d/du.before"), after $(cat "$d/du.after")"
  [ "$(cat "$d/du.after")" -lt "$(cat "$d/du.before")" ]
  [ "$(e2e_json "$d/run.json" 'j.freed.bytes > 0')" = true ]
  rc_doc_row "rootless podman 4.3 (\`podman unshare du -s -B1\` of its graph root)" "$d/du.before" "$d/du.after" "$d/run.json"
}

# rc_doc_row ENGINE BEFORE_FILE AFTER_FILE RUN_JSON — one row of the benchmarks section.
rc_doc_row() {
  local freed secs
  freed="$(e2e_json "$4" 'j.freed.bytes')"
  secs="$(e2e_json "$4" 'j.seconds.toFixed(1)')"
  printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$(cat "$2")" "$(cat "$3")" "$(($(cat "$2") - $(cat "$3")))" \
    "$freed" "$secs" >>"$E2E_WORK/reclaim-doc-rows"
}

# rc_write_doc — the "## Reclaim: storage before and after (e2e)" section of docs/benchmarks.md.
rc_write_doc() {
  [ -s "$E2E_WORK/reclaim-doc-rows" ] || return 0
  {
    echo "Written by the e2e part \`reclaim\` (scripts/e2e/reclaim.sh) on $(date -u +%Y-%m-%d): one"
    echo "\`layerflat reclaim\` over a store holding the 19-layer docker-rules fixture under two names"
    echo "(flattened, original removed) and the podman-rules fixture with a container made from it"
    echo "(flattened, original kept for the container). \`du\` of the store is taken by the test around"
    echo "the run; \"freed (reclaim says)\" is the measured number in reclaim's own summary. The fixtures"
    echo "are small, so the bytes are too; what the same model gives for a real image is in \"End-to-end"
    echo "VFS cost\" above (layered against flat, per image and container)."
    echo
    echo "| engine (storage measured by) | du before (bytes) | du after (bytes) | freed, du (bytes) | freed, reclaim says (bytes) | run (s) |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: |"
    cat "$E2E_WORK/reclaim-doc-rows"
  } >"$E2E_WORK/reclaim-section.md"
  cat "$E2E_WORK/reclaim-section.md"
  node "$E2E_ROOT/scripts/e2e/doc-section.mjs" "$E2E_ROOT/docs/benchmarks.md" "## Reclaim: storage before and after (e2e)" \
    <"$E2E_WORK/reclaim-section.md"
}

rc_a_flat() {
  local d a1 a2; d="$(rc_dir)"
  a1="$(rc_id "$RC_A1")"; a2="$(rc_id "$RC_A2")"
  [ "$a1" = "$a2" ]
  [ "$a1" != "$(cat "$d/a.id")" ]
  [ "$(rc_layers "$RC_A1")" = 1 ]
  if rc_user podman image exists "$(cat "$d/a.id")"; then echo "the original is still there"; return 1; fi
  local out; out="$(rc_user podman run --rm --network none "$RC_A1")"
  echo "output: $out"
  [ "$out" = layerflat-ok ]
  rc_reclaim_cli verify "$d/work/a.tar" "containers-storage:$RC_A1"
  echo "$a1" >"$d/a.flat.id"
}

# rc_reclaim_cli ARGS — another layerflat command as the rootless user (same CLI as rc_reclaim).
rc_reclaim_cli() {
  local cli=("$(command -v node)" "$E2E_ROOT/dist/cli/main.js")
  if [ -n "${E2E_CLI:-}" ]; then cli=("$E2E_CLI")
  elif [ -n "${E2E_TARBALL_CLI:-}" ] && [ -x "$E2E_TARBALL_CLI" ]; then cli=("$E2E_TARBALL_CLI"); fi
  rc_user "${cli[@]}" "$@"
}

rc_b_kept() {
  local d; d="$(rc_dir)"
  [ "$(e2e_json "$d/run.json" 'j.images.find((i) => i.names.includes("'"$RC_B"'")).status')" = kept ]
  e2e_json "$d/run.json" 'j.images.find((i) => i.status === "kept").containers' | grep -q lf-rc-user
  rc_user podman image exists "$(cat "$d/b.id")" # the original, for its container
  [ "$(rc_layers "$RC_B")" = 1 ] # the name is on the flat image
  [ "$(rc_user podman container inspect --format '{{.Image}}' lf-rc-user)" = "$(cat "$d/b.id")" ]
  [ -z "$(ls "$(rc_dir)"/state/*/*.json 2>/dev/null)" ] # no record left
}

# rc_names_safe — each of A's names is on its original or on the verified flat image.
rc_names_safe() {
  local d n id; d="$(rc_dir)"
  for n in "$RC_A1" "$RC_A2"; do
    id="$(rc_id "$n")" || { echo "$n: gone"; return 1; }
    echo "$n → $id ($(rc_layers "$n") layers)"
    [ "$id" = "$(cat "$d/a.id")" ] || [ "$id" = "$(cat "$d/a.flat.id")" ]
  done
}

# rc_fault PHASE [TERM] — from A's original, a reclaim killed after PHASE (kill -9, or SIGTERM:
# then no temporary file may be left either); names safe; the next run finishes.
rc_fault() {
  local d rc=0 phase="$1" sig="${2:-KILL}" want=137; d="$(rc_dir)"
  [ "$sig" = TERM ] && want=143
  rc_load_a
  rc_user podman rmi "$(cat "$d/a.flat.id")" >/dev/null 2>&1 || true # flat image without names, if any
  rm -rf "${d:?}"/tmp/* "$d"/tmp/.[!.]* 2>/dev/null || true
  RC_STOP="$phase:$sig" rc_reclaim 'lf-rc/rules:a*' || rc=$?
  echo "run stopped by SIG$sig: exit $rc"
  [ "$rc" = "$want" ]
  if [ "$sig" = TERM ] && ls -A "$d/tmp" | grep layerflat; then echo "temporary files left"; return 1; fi
  rc_names_safe
  rc=0
  rc_reclaim --json 'lf-rc/rules:a*' >"$d/after-$phase.json" || rc=$?
  e2e_json "$d/after-$phase.json" 'j.recovered'
  echo "second run: exit $rc"
  [ "$rc" = 0 ]
  rc_names_safe
  [ "$(rc_id "$RC_A1")" = "$(cat "$d/a.flat.id")" ]
  [ "$(rc_id "$RC_A2")" = "$(cat "$d/a.flat.id")" ]
  if rc_user podman image exists "$(cat "$d/a.id")"; then echo "the original is still there"; return 1; fi
  local temp; temp="localhost/layerflat-reclaim/$(head -c 12 "$d/a.id"):flat"
  if rc_user podman image exists "$temp"; then echo "$temp is still there"; return 1; fi
  [ -z "$(ls "$d"/state/*/*.json 2>/dev/null)" ]
}

# rc_locked — a second reclaim while one runs exits 3 with one line naming the lock.
rc_locked() {
  local d rc=0 err; d="$(rc_dir)"
  rc_load_a
  rc_reclaim 'lf-rc/rules:a*' >"$d/first.out" 2>&1 &
  local first=$!
  for _ in $(seq 1 100); do ls "$d"/state/*/reclaim.lock >/dev/null 2>&1 && break; sleep 0.1; done
  err="$(rc_reclaim 'lf-rc/rules:a*' 2>&1 >/dev/null)" || rc=$?
  echo "second: exit $rc: $err"
  wait "$first"
  cat "$d/first.out"
  [ "$rc" = 3 ] && grep -q 'BUSY' <<<"$err"
}

# rc_space — a --tmp-dir too small for the image (a 64 MiB tmpfs; reclaim keeps 256 MiB free):
# exit 1, the image "stopped" with a line naming the directory and the numbers, nothing changed.
rc_space() {
  local d rc=0; d="$(rc_dir)"
  rc_load_a
  mkdir -p "$d/small"
  mount -t tmpfs -o size=64m,mode=0700 lf-rc-small "$d/small"
  chown "$LF_ROOTLESS_USER:" "$d/small"
  rc_reclaim --tmp-dir "$d/small" 'lf-rc/rules:a*' >"$d/space.out" || rc=$?
  umount "$d/small"
  cat "$d/space.out"
  echo "exit $rc"
  [ "$rc" = 1 ]
  grep -qE "^stopped .*lf-rc/rules:a1.* - $d/small has [0-9]+ bytes free; this image needs about [0-9]+" "$d/space.out"
  [ "$(rc_id "$RC_A1")" = "$(cat "$d/a.id")" ]
  [ "$(rc_id "$RC_A2")" = "$(cat "$d/a.id")" ]
  [ -z "$(ls "$d"/state/*/*.json 2>/dev/null)" ]
}

# rc_gate_open FIFO / rc_gate_release — a run with LAYERFLAT_RECLAIM_STOP_AFTER=PHASE:WAIT pauses
# after PHASE until a line comes on its stdin: the test gives it a fifo held open on fd 8, and
# writes the line when the world has been changed.
rc_gate_open() { rm -f "$1"; mkfifo -m 0666 "$1"; exec 8<>"$1"; }
rc_gate_release() { echo go >&8; exec 8>&-; }

# rc_wait_record PHASE — until a journal record at PHASE is in the state dir (60 s at most).
rc_wait_record() {
  local i
  for i in $(seq 1 600); do
    grep -qs "\"phase\": *\"$1\"" "$(rc_dir)"/state/*/*.json && return 0
    sleep 0.1
  done
  echo "no record reached $1"; return 1
}

# rc_disk_full — A in a store of its own on a 160 MiB tmpfs; reclaim (--reserve 1M) passes its
# free-space check, then the test fills the store while reclaim waits after "planned": podman load
# fails for lack of space → exit 1, the line says so, both names still on the original, no temporary
# name, no record. With the space back the next run reclaims A. The tmpfs is mounted (and filled)
# inside rootless podman's own mount namespace (`podman unshare`): its pause process made that
# namespace earlier, and a mount made outside it now would not be seen by podman.
rc_disk_full() {
  local RC_DIR; RC_DIR="$(lf_rootless_dir)/reclaim-full"
  local d rc=0 pid; d="$(rc_dir)"
  rc_prepare
  rc_user podman unshare mount -t tmpfs -o size=160m,mode=0700 lf-rc-full "$d/store"
  cp "$E2E_ROOT/test/fixtures/docker-rules.tar" "$d/work/a.tar"
  chown "$LF_ROOTLESS_USER:" "$d/work/a.tar"
  rc_load_a
  rc_user podman unshare df -B1 "$d/store" | tail -1
  rc_gate_open "$d/go"
  RC_STOP="planned:WAIT" rc_reclaim --reserve 1M 'lf-rc/rules:a*' <"$d/go" >"$d/full.out" 2>&1 &
  pid=$!
  rc_wait_record planned || { rc_gate_release; wait "$pid"; return 1; }
  rc_user podman unshare dd if=/dev/zero of="$d/store/filler" bs=1M status=none 2>/dev/null || true
  rc_user podman unshare df -B1 "$d/store" | tail -1
  rc_gate_release
  wait "$pid" || rc=$?
  cat "$d/full.out"
  echo "exit $rc"
  [ "$rc" = 1 ]
  grep -qiE '^failed .*lf-rc/rules:a1.*no space left' "$d/full.out"
  [ "$(rc_id "$RC_A1")" = "$(cat "$d/a.id")" ]
  [ "$(rc_id "$RC_A2")" = "$(cat "$d/a.id")" ]
  local temp; temp="localhost/layerflat-reclaim/$(head -c 12 "$d/a.id"):flat"
  if rc_user podman image exists "$temp"; then echo "$temp is still there"; return 1; fi
  [ -z "$(ls "$d"/state/*/*.json 2>/dev/null)" ]
  rc_user podman unshare rm -f "$d/store/filler"
  rm -f "$d/go"
  rc=0
  rc_reclaim --reserve 1M 'lf-rc/rules:a*' || rc=$?
  echo "with the space back: exit $rc"
  [ "$rc" = 0 ]
  [ "$(rc_layers "$RC_A1")" = 1 ]
  [ "$(rc_id "$RC_A1")" = "$(rc_id "$RC_A2")" ]
}

rc_disk_full_cleanup() {
  local RC_DIR; RC_DIR="$(lf_rootless_dir)/reclaim-full"
  local d; d="$(rc_dir)"
  [ -d "$d" ] || return 0
  rc_user podman rmi -af >/dev/null 2>&1 || true
  rc_user podman unshare sh -c 'rm -rf "$1"/* && if mountpoint -q "$1"; then umount "$1"; fi' sh "$d/store"
  rc_user podman unshare rm -rf "$d"
  rm -rf "$d"
}

# rc_no_podman — a --podman that is not there: one line naming it, exit 2, the names untouched.
rc_no_podman() {
  local d rc=0 err; d="$(rc_dir)"
  err="$(rc_reclaim --podman "$d/no-such/podman" 2>&1 >/dev/null)" || rc=$?
  echo "exit $rc: $err"
  [ "$rc" = 2 ]
  [ "$(wc -l <<<"$err")" = 1 ]
  grep -q "MISSING_TOOL.*no-such/podman" <<<"$err"
  rc_names_safe
}

rc_cleanup() {
  rc_user podman rm -af >/dev/null 2>&1 || true
  rc_user podman rmi -af >/dev/null
  rc_user podman unshare rm -rf "$(rc_dir)/store"
  rm -rf "$(rc_dir)"
}

# --- docker: the same run against dockerd (vfs), over DOCKER_HOST, as root ----------------------

rcd_dir() { echo "$E2E_WORK/reclaim-docker"; }
rcd_layerflat() { DOCKER_HOST="unix://$(lf_docker_sock)" layerflat "$@"; }
rcd_reclaim() { rcd_layerflat reclaim --engine docker --state-dir "$(rcd_dir)/state" "$@"; }
rcd_id() { lf_docker image inspect --format '{{.Id}}' "$1" | sed 's/^sha256://'; }
rcd_layers() { lf_docker image inspect --format '{{len .RootFS.Layers}}' "$1"; }

rcd_setup() {
  rm -rf "$(rcd_dir)" && mkdir -p "$(rcd_dir)"
  lf_docker load -q -i "$E2E_ROOT/test/fixtures/docker-rules.tar"
  lf_docker tag layerflat-fixture/rules:docker lf-rcd/rules:a1
  lf_docker tag layerflat-fixture/rules:docker lf-rcd/rules:a2
  lf_docker rmi layerflat-fixture/rules:docker >/dev/null
  lf_docker load -q -i "$E2E_ROOT/test/fixtures/podman-rules.tar"
  lf_docker tag localhost/layerflat-fixture/rules:podman lf-rcd/rules:b
  lf_docker rmi localhost/layerflat-fixture/rules:podman >/dev/null
  lf_docker create --name lf-rcd-user --network none lf-rcd/rules:b >/dev/null
  rcd_id lf-rcd/rules:a1 >"$(rcd_dir)/a.id"
  rcd_id lf-rcd/rules:b >"$(rcd_dir)/b.id"
  [ "$(rcd_layers lf-rcd/rules:a1)" = 19 ]
}

rcd_run() {
  local d rc=0 out; d="$(rcd_dir)"
  du -s -B1 "$(lf_docker_dir)/data" | cut -f1 >"$d/du.before"
  rcd_reclaim --json 'lf-rcd/*' >"$d/run.json" || rc=$?
  du -s -B1 "$(lf_docker_dir)/data" | cut -f1 >"$d/du.after"
  echo "du before $(cat "$d/du.before"), after $(cat "$d/du.after")"
  e2e_json "$d/run.json" 'j.images.map((i) => i.status + " " + i.names.join(",") + " " + (i.reason ?? ""))'
  e2e_json "$d/run.json" 'j.freed'
  echo "exit $rc (1 expected: B is kept for its container)"
  [ "$rc" = 1 ]
  [ "$(rcd_layers lf-rcd/rules:a1)" = 1 ]
  [ "$(rcd_id lf-rcd/rules:a1)" = "$(rcd_id lf-rcd/rules:a2)" ]
  if lf_docker image inspect "$(cat "$d/a.id")" >/dev/null 2>&1; then echo "A's original is still there"; return 1; fi
  out="$(lf_docker run --rm --network none lf-rcd/rules:a1)"
  echo "runs: $out"
  [ "$out" = layerflat-ok ]
  rcd_layerflat verify "$E2E_ROOT/test/fixtures/docker-rules.tar" docker-daemon:lf-rcd/rules:a1
  [ "$(e2e_json "$d/run.json" 'j.images.find((i) => i.names.includes("lf-rcd/rules:b")).status')" = kept ]
  lf_docker image inspect "$(cat "$d/b.id")" >/dev/null # B's original, for its container
  [ "$(rcd_layers lf-rcd/rules:b)" = 1 ]
  [ -z "$(ls "$d"/state/*/*.json 2>/dev/null)" ]
  rcd_id lf-rcd/rules:a1 >"$d/a.flat.id"
  [ "$(cat "$d/du.after")" -lt "$(cat "$d/du.before")" ]
  rc_doc_row "dockerd 20.10, vfs (\`du -s -B1\` of its data root)" "$d/du.before" "$d/du.after" "$d/run.json"
}

# rcd_load_a — A's original back under its two names; the flat image (nameless now) removed.
rcd_load_a() {
  local d; d="$(rcd_dir)"
  lf_docker load -q -i "$E2E_ROOT/test/fixtures/docker-rules.tar" >/dev/null
  lf_docker tag layerflat-fixture/rules:docker lf-rcd/rules:a1
  lf_docker tag layerflat-fixture/rules:docker lf-rcd/rules:a2
  lf_docker rmi layerflat-fixture/rules:docker >/dev/null
  lf_docker rmi "$(cat "$d/a.flat.id")" >/dev/null 2>&1 || true
  [ "$(rcd_id lf-rcd/rules:a1)" = "$(cat "$d/a.id")" ]
}

# rcd_names_safe — each of A's names is on its original or on the verified flat image.
rcd_names_safe() {
  local d n id; d="$(rcd_dir)"
  for n in lf-rcd/rules:a1 lf-rcd/rules:a2; do
    id="$(rcd_id "$n")" || { echo "$n: gone"; return 1; }
    echo "$n → $id ($(rcd_layers "$n") layers)"
    [ "$id" = "$(cat "$d/a.id")" ] || [ "$id" = "$(cat "$d/a.flat.id")" ]
  done
}

# rcd_finished FILE — the run whose --json is FILE exited 0 and A is done: both names on the flat
# image, the original and the temporary name gone, no record left.
rcd_finished() {
  local d; d="$(rcd_dir)"
  e2e_json "$1" 'j.recovered'
  rcd_names_safe
  [ "$(rcd_id lf-rcd/rules:a1)" = "$(cat "$d/a.flat.id")" ]
  [ "$(rcd_id lf-rcd/rules:a2)" = "$(cat "$d/a.flat.id")" ]
  if lf_docker image inspect "$(cat "$d/a.id")" >/dev/null 2>&1; then echo "the original is still there"; return 1; fi
  [ -z "$(lf_docker images -q "layerflat-reclaim/*")" ]
  [ -z "$(ls "$d"/state/*/*.json 2>/dev/null)" ]
}

# rcd_fault PHASE KILL|TERM — as rc_fault, against dockerd.
rcd_fault() {
  local d rc=0 phase="$1" sig="$2" want=137; d="$(rcd_dir)"
  [ "$sig" = TERM ] && want=143
  rcd_load_a
  LAYERFLAT_RECLAIM_STOP_AFTER="$phase:$sig" rcd_reclaim 'lf-rcd/rules:a*' || rc=$?
  echo "run stopped by SIG$sig: exit $rc"
  [ "$rc" = "$want" ]
  rcd_names_safe
  rc=0
  rcd_reclaim --json 'lf-rcd/rules:a*' >"$d/after.json" || rc=$?
  echo "second run: exit $rc"
  [ "$rc" = 0 ]
  rcd_finished "$d/after.json"
}

# rcd_locked — a second reclaim of the same dockerd while one runs: exit 3, BUSY.
rcd_locked() {
  local d rc=0 err first; d="$(rcd_dir)"
  rcd_load_a
  rc_gate_open "$d/go"
  LAYERFLAT_RECLAIM_STOP_AFTER="planned:WAIT" rcd_reclaim --json 'lf-rcd/rules:a*' <"$d/go" >"$d/first.json" &
  first=$!
  for _ in $(seq 1 600); do grep -qs '"phase"' "$d"/state/*/*.json && break; sleep 0.1; done
  err="$(rcd_reclaim 'lf-rcd/rules:a*' 2>&1 >/dev/null)" || rc=$?
  echo "second: exit $rc: $err"
  rc_gate_release
  local rc1=0
  wait "$first" || rc1=$?
  rm -f "$d/go"
  echo "first: exit $rc1"
  [ "$rc" = 3 ] && grep -q 'BUSY' <<<"$err" && [ "$rc1" = 0 ]
  rcd_finished "$d/first.json"
}

# rcd_engine_gone — dockerd's socket disappears while reclaim waits after "verified" (before any
# name moved): the run fails (exit 1), names on the original; with the socket back, the next run
# finishes from the record.
rcd_engine_gone() {
  local d rc=0 pid sock; d="$(rcd_dir)"; sock="$(lf_docker_sock)"
  rcd_load_a
  rc_gate_open "$d/go"
  LAYERFLAT_RECLAIM_STOP_AFTER="verified:WAIT" rcd_reclaim 'lf-rcd/rules:a*' <"$d/go" >"$d/gone.out" 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do grep -qs '"phase": *"verified"' "$d"/state/*/*.json && break; sleep 0.1; done
  mv "$sock" "$sock.away"
  rc_gate_release
  wait "$pid" || rc=$?
  mv "$sock.away" "$sock"
  rm -f "$d/go"
  cat "$d/gone.out"
  echo "exit $rc"
  [ "$rc" = 1 ]
  grep -q '^failed .*lf-rcd/rules:a1.*docker.sock' "$d/gone.out"
  rcd_names_safe
  [ "$(rcd_id lf-rcd/rules:a1)" = "$(cat "$d/a.id")" ]
  rc=0
  rcd_reclaim --json 'lf-rcd/rules:a*' >"$d/after.json" || rc=$?
  echo "socket back: exit $rc"
  [ "$rc" = 0 ]
  [ "$(e2e_json "$d/after.json" 'j.recovered.map((r) => r.outcome).join()')" = finished ]
  rcd_finished "$d/after.json"
}

# rcd_refused — DOCKER_HOST at a socket nobody listens on: one line, exit 2, nothing changed.
rcd_refused() {
  local d rc=0 err; d="$(rcd_dir)"
  python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$d/dead.sock"
  err="$(DOCKER_HOST="unix://$d/dead.sock" layerflat reclaim --engine docker --state-dir "$d/state" 2>&1 >/dev/null)" || rc=$?
  echo "exit $rc: $err"
  [ "$rc" = 2 ] && [ "$(wc -l <<<"$err")" = 1 ] && grep -q 'dead.sock' <<<"$err"
  rcd_names_safe
}

rcd_cleanup() {
  local i
  lf_docker rm -f lf-rcd-user >/dev/null
  for i in lf-rcd/rules:a1 lf-rcd/rules:a2 lf-rcd/rules:b "$(cat "$(rcd_dir)/b.id")"; do
    lf_docker rmi "$i" >/dev/null 2>&1 || true
  done
  [ -z "$(lf_docker images -q 'lf-rcd/*')" ]
  rm -rf "$(rcd_dir)"
}

e2e_reclaim_docker_cases() {
  if [ "$E2E_DOCKER" = 0 ]; then
    e2e_not_run "reclaim --engine docker checks" "dockerd is not running"
    return 0
  fi
  if e2e_check "reclaim --engine docker: dockerd holds A (19 layers, 2 names) and B (a container uses it)" \
    rcd_setup; then
    if e2e_check "reclaim --engine docker: A flat under both names, runs, verifies; B kept for its container; exit 1" \
      rcd_run; then
      local phase sig
      for phase in planned loaded verified tags-moved original-removed done; do
        for sig in KILL TERM; do
          e2e_check "reclaim --engine docker: SIG$sig after $phase → names safe; next run finishes" \
            rcd_fault "$phase" "$sig" || true
        done
      done
      e2e_check "reclaim --engine docker: a second reclaim while one runs exits 3 (BUSY); the first finishes" \
        rcd_locked || true
      e2e_check "reclaim --engine docker: dockerd's socket gone before the names move → failed, exit 1, names kept; next run finishes" \
        rcd_engine_gone || true
      e2e_check "reclaim --engine docker: a socket that refuses connections → one line, exit 2, names kept" \
        rcd_refused || true
    fi
  fi
  e2e_check "reclaim --engine docker: remove the containers and images" rcd_cleanup || true
}

e2e_reclaim_cases() {
  rm -f "$E2E_WORK/reclaim-doc-rows"
  if [ "$E2E_PODMAN" = 0 ]; then
    e2e_not_run "reclaim checks" "rootless podman does not work"
    return 0
  fi
  if ! e2e_check "reclaim: $LF_ROOTLESS_USER's podman holds A (19 layers, 2 names) and B (a container uses it)" rc_setup
  then
    e2e_not_run "reclaim checks" "the fixtures could not be loaded"
    return 0
  fi
  e2e_check "reclaim --dry-run: the plan and predicted savings, nothing changed" rc_dry_run || true
  if e2e_check "reclaim: runs, exit 1 (B kept for its container), du of the store went down" rc_run; then
    e2e_check "reclaim: A is 1 layer under both names, runs, verifies against the fixture, original gone" \
      rc_a_flat || true
    e2e_check "reclaim: B is reported kept (its container), its names on the flat image" rc_b_kept || true
  fi
  if [ -s "$(rc_dir)/a.flat.id" ]; then
    local phase
    for phase in planned loaded verified tags-moved original-removed done; do
      e2e_check "reclaim: kill -9 after $phase → names on the original or the verified flat; next run finishes" \
        rc_fault "$phase" || true
      e2e_check "reclaim: SIGTERM after $phase → names safe, no temporary file left; next run finishes" \
        rc_fault "$phase" TERM || true
    done
    e2e_check "reclaim: a second reclaim of the same storage while one runs exits 3 (BUSY)" rc_locked || true
    e2e_check "reclaim: a --tmp-dir without room → stopped before anything is written, exit 1, the numbers named" \
      rc_space || true
    e2e_check "reclaim: podman missing (--podman) → one MISSING_TOOL line, exit 2, names untouched" \
      rc_no_podman || true
  else
    e2e_not_run "reclaim fault tests" "the first reclaim did not flatten A"
  fi
  e2e_check "reclaim: remove the images and the store" rc_cleanup || true
  e2e_check "reclaim: the store's disk fills during podman load → failed, exit 1, names on the original; with room, the next run reclaims" \
    rc_disk_full || true
  e2e_check "reclaim: remove the tmpfs store" rc_disk_full_cleanup || true
  e2e_reclaim_docker_cases
  e2e_check "reclaim: du before and after written to docs/benchmarks.md" rc_write_doc || true
}
