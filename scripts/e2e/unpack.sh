#!/usr/bin/env bash
# scripts/e2e/unpack.sh — `layerflat unpack` into a rootfs directory as the rootless user inside
# `podman unshare`, then `podman run --rootfs DIR` (sourced by scripts/e2e/env.sh; part "unpack").
#
# The realistic image (docker-built, saved by the "realistic" part) or, without it, the
# docker-rules fixture is unpacked by the RHEL 7 tarball's launcher (Node 16.20.2). Then:
#   - `podman run --rootfs DIR` runs the image's command and the probe, with the image's User,
#     WorkingDir and Env given by hand (--rootfs has no image config), and prints what a run of
#     the image itself prints;
#   - DIR, archived inside the namespace (GNU tar with xattrs), is the image's filesystem for
#     `layerflat verify` (what rootless podman cannot show either — device nodes — aside);
#   - `du` of DIR against the flat image's VFS cost (the podman round trip's numbers) goes to
#     docs/benchmarks.md ("## Unpack: a rootfs instead of VFS storage");
#   - refusals: a non-empty DIR, no user namespace without --no-chown, an unpack killed midway
#     (the marker stays, the next unpack of that DIR refuses);
#   - --dedupe: flatten and unpack of the same image, numbers in "## Dedupe".

up_dir() { printf '%s/unpack' "$(lf_rootless_dir)"; }

# up_cli — the CLI under test as an argv: the tarball's launcher, else dist/ under this node.
up_cli() {
  if [ -n "${E2E_TARBALL_CLI:-}" ] && [ -x "$E2E_TARBALL_CLI" ]; then
    printf '%s\n' "$E2E_TARBALL_CLI"
  else
    printf '%s\n' "$(command -v node)" "$E2E_ROOT/dist/cli/main.js"
  fi
}

# up_unshare CMD... — CMD as the rootless user inside podman's user namespace (podman unshare).
up_unshare() { podman_rootless unshare "$@"; }

# up_layerflat ARGS... — the CLI inside `podman unshare`, as a rootless RHEL 7 user runs it.
up_layerflat() { local -a cli; mapfile -t cli < <(up_cli); up_unshare "${cli[@]}" "$@"; }

# up_user_layerflat ARGS... — the CLI as the rootless user, outside any user namespace.
up_user_layerflat() {
  local -a cli; mapfile -t cli < <(up_cli)
  local home; home="$(getent passwd "$LF_ROOTLESS_USER" | cut -d: -f6)"
  (cd / && runuser -u "$LF_ROOTLESS_USER" -- env -i HOME="$home" USER="$LF_ROOTLESS_USER" \
    PATH=/usr/local/bin:/usr/bin:/bin TMPDIR="$(lf_rootless_dir)/tmp" "${cli[@]}" "$@")
}

# up_source — the image this part unpacks: the realistic one when it was built, else the fixture.
up_source() {
  if [ -s "$E2E_WORK/realistic.tar" ]; then echo "$E2E_WORK/realistic.tar"; else echo "$E2E_ROOT/test/fixtures/docker-rules.tar"; fi
}
up_ref() { if [ -s "$E2E_WORK/realistic.tar" ]; then echo "localhost/$E2E_REALISTIC_REF"; else echo localhost/layerflat-fixture/rules:docker; fi; }
up_probe() { printf '%s' "$UP_PROBE"; } # e2e_unpack_cases exports it (the probes live in scripts/e2e.sh)

# up_config KEY — the source image's Config.KEY as JSON.
up_config() {
  local src cfg; src="$(up_source)"
  cfg="$(tar -xOf "$src" manifest.json | node -p 'JSON.parse(require("fs").readFileSync(0))[0].Config')"
  tar -xOf "$src" "$cfg" | node -e 'const c = JSON.parse(require("fs").readFileSync(0)).config ?? {}; process.stdout.write(JSON.stringify(c[process.argv[1]] ?? null))' "$1"
}

# up_run_args — what --rootfs needs by hand: the image's User, WorkingDir and Env.
up_run_args() {
  local user wd
  user="$(up_config User | node -p 'JSON.parse(require("fs").readFileSync(0)) || ""')"
  wd="$(up_config WorkingDir | node -p 'JSON.parse(require("fs").readFileSync(0)) || "/"')"
  [ -z "$user" ] || printf '%s\n' --user "$user"
  printf '%s\n' --workdir "$wd"
  up_config Env | node -e 'for (const e of JSON.parse(require("fs").readFileSync(0)) ?? []) console.log("--env\n" + e)'
  # an anonymous volume per VOLUME, as a run of the image gets (--rm removes them)
  up_config Volumes | node -e 'for (const v of Object.keys(JSON.parse(require("fs").readFileSync(0)) ?? {})) console.log("--volume\n" + v)'
}

up_prepare() {
  local d; d="$(up_dir)"
  up_unshare rm -rf "$d" 2>/dev/null || true
  rm -rf "$d"
  mkdir -p "$d"
  chown "$LF_ROOTLESS_USER:" "$d"
  # the rootless user reads the source archive
  chmod o+rx "$E2E_WORK" 2>/dev/null || true
  chmod a+r "$(up_source)" # docker save wrote it 0600; the rootless user reads it
  ls -l "$(up_source)"
  podman_rootless load <"$(up_source)" >/dev/null
  podman_rootless image inspect --format '{{.Id}}' "$(up_ref)"
}

# up_unpack — unpack inside podman unshare; the summary in unpack.json.
up_unpack() {
  local d; d="$(up_dir)"
  up_layerflat unpack "$(up_source)" "$d/rootfs" --json >"$d/unpack.json"
  cat "$d/unpack.json"
  [ ! -e "$d/.rootfs.layerflat-incomplete" ] || { echo "the incomplete marker is still there"; return 1; }
  ls -ln "$d" "$d/rootfs"
}

# up_same_run — the default command and the probe print the same through --rootfs as from the image.
up_same_run() {
  local d ref probe; d="$(up_dir)"; ref="$(up_ref)"; probe="$(up_probe)"
  local -a args cmd; mapfile -t args < <(up_run_args)
  mapfile -t cmd < <(up_config Cmd | node -e 'for (const c of JSON.parse(require("fs").readFileSync(0)) ?? []) console.log(c)')
  echo "run args: ${args[*]}; command: ${cmd[*]}"
  e2e_eng_run podman "$ref" >"$d/cmd-image.out"
  podman_rootless run --rm --network none --read-only "${args[@]}" --rootfs "$d/rootfs" "${cmd[@]}" >"$d/cmd-rootfs.out"
  e2e_same_files "$d/cmd-image.out" "$d/cmd-rootfs.out"
  # The lines of ".." of a top-level directory are "/": an image without a root entry leaves its
  # mode to the engine (podman's vfs layer root is 0555, docker's 0755; unpack makes DIR 0755).
  e2e_eng_run podman "$ref" sh -c "$probe" | grep -v ' \.\.$' >"$d/probe-image.out"
  podman_rootless run --rm --network none --read-only "${args[@]}" --rootfs "$d/rootfs" sh -c "$probe" | grep -v ' \.\.$' >"$d/probe-rootfs.out"
  e2e_same_files "$d/probe-image.out" "$d/probe-rootfs.out"
}

# up_same_fs — DIR, archived inside the namespace (owners as the image has them), against the
# image; against an export of a container of the image, too.
up_same_fs() {
  local d c; d="$(up_dir)"
  up_unshare tar --xattrs --xattrs-include='*' --numeric-owner -cpf "$d/rootfs.tar" -C "$d/rootfs" .
  node "$E2E_ROOT/scripts/e2e/verify-exports.mjs" podman "$(up_source)" "$d/rootfs.tar" --image \
    "--workdir=$(up_config WorkingDir | node -p 'JSON.parse(require("fs").readFileSync(0)) || ""')"
}

# up_cost — du of the rootfs; the first --rootfs container makes the mountpoints the runtime needs
# (/dev, /proc, /etc/hosts …, a few KiB), after which more read-only containers add nothing.
up_cost() {
  local d before first after; d="$(up_dir)"
  before="$(up_unshare du -s -B1 "$d/rootfs" | cut -f1)"
  podman_rootless run --rm --network none --read-only --rootfs "$d/rootfs" true
  first="$(up_unshare du -s -B1 "$d/rootfs" | cut -f1)"
  podman_rootless run --rm --network none --read-only --rootfs "$d/rootfs" true
  podman_rootless run --rm --network none --read-only --rootfs "$d/rootfs" true
  after="$(up_unshare du -s -B1 "$d/rootfs" | cut -f1)"
  printf 'rootfs_alloc=%s\nrootfs_first_run=%s\nrootfs_after_runs=%s\n' "$before" "$first" "$after" | tee "$d/cost.env"
  [ "$first" = "$after" ]
}

# up_refusals — a non-empty DIR; no user namespace; an unpack killed midway leaves its marker and
# the next one refuses that DIR.
up_refusals() {
  local d rc=0 pid i; d="$(up_dir)"
  up_layerflat unpack "$(up_source)" "$d/rootfs" 2>"$d/err" || rc=$?
  echo "into a non-empty DIR: exit $rc: $(cat "$d/err")"
  [ "$rc" = 2 ] && [ "$(wc -l <"$d/err")" = 1 ]
  rc=0
  up_user_layerflat unpack "$(up_source)" "$d/nouserns" 2>"$d/err" || rc=$?
  echo "no user namespace: exit $rc: $(cat "$d/err")"
  [ "$rc" = 2 ] && grep -q 'unshare' "$d/err"
  [ ! -e "$d/nouserns" ] || { echo "$d/nouserns was made"; return 1; }
  rc=0
  # killed while it reads its source (stdin, half of it sent): DIR is claimed and marked by then
  { echo "$BASHPID" >"$d/writer.pid"; head -c 100000 "$(up_source)"; exec sleep 60; } |
    up_layerflat unpack - "$d/killed" &
  for i in $(seq 200); do [ -e "$d/.killed.layerflat-incomplete" ] && break; sleep 0.05; done
  pkill -KILL -f "unpack - $d/killed" || true # the node inside podman unshare, by its unique DIR
  kill "$(cat "$d/writer.pid")" || true
  wait || true
  ls -la "$d"
  [ -e "$d/.killed.layerflat-incomplete" ] || { echo "no incomplete marker after the kill"; return 1; }
  up_layerflat unpack "$(up_source)" "$d/killed" --force 2>"$d/err" || rc=$?
  echo "again into the killed DIR: exit $rc: $(cat "$d/err")"
  [ "$rc" = 2 ] && grep -qi 'incomplete' "$d/err"
}

# up_dedupe — what --dedupe saves on this image: inspect's estimate, flatten --dedupe --verify,
# and an unpack --dedupe (du of both rootfs dirs).
up_dedupe() {
  local d; d="$(up_dir)"
  layerflat inspect "$(up_source)" --dedupe --json >"$d/inspect-dedupe.json"
  layerflat flatten "$(up_source)" "$d/flat-dedupe.tar" --dedupe --verify --json >"$d/flatten-dedupe.json"
  layerflat flatten "$(up_source)" "$d/flat.tar" --json >"$d/flatten-plain.json"
  echo "inspect: $(e2e_json "$d/inspect-dedupe.json" 'JSON.stringify(j.dedupe)')"
  echo "flatten: $(e2e_json "$d/flatten-dedupe.json" 'JSON.stringify(j.entries.deduped)')"
  [ "$(e2e_json "$d/inspect-dedupe.json" 'JSON.stringify(j.dedupe)')" = "$(e2e_json "$d/flatten-dedupe.json" 'JSON.stringify(j.entries.deduped)')" ]
  up_layerflat unpack "$(up_source)" "$d/rootfs-dedupe" --dedupe --json >"$d/unpack-dedupe.json"
  {
    printf 'files=%s\nbytes=%s\n' "$(e2e_json "$d/flatten-dedupe.json" j.entries.deduped.files)" "$(e2e_json "$d/flatten-dedupe.json" j.entries.deduped.bytes)"
    printf 'flat_plain=%s\nflat_dedupe=%s\n' "$(e2e_json "$d/flatten-plain.json" j.bytes.tarOut)" "$(e2e_json "$d/flatten-dedupe.json" j.bytes.tarOut)"
    printf 'rootfs_plain=%s\nrootfs_dedupe=%s\n' "$(up_unshare du -s -B1 "$d/rootfs" | cut -f1)" "$(up_unshare du -s -B1 "$d/rootfs-dedupe" | cut -f1)"
  } | tee "$d/dedupe.env"
  rm -f "$d/flat-dedupe.tar" "$d/flat.tar"
}

_up_get() { sed -n "s/^$2=//p" "$1"; }

up_write_doc() {
  local d pd name; d="$(up_dir)"; pd="$E2E_WORK/podman-realistic"
  name="$(basename "$(up_source)")"
  {
    echo "Written by the e2e suite (\`scripts/e2e/unpack.sh\`, part \`unpack\`) on $(date -u +%Y-%m-%d): \`layerflat"
    echo "unpack\` of $name as rootless user $LF_ROOTLESS_USER inside \`podman unshare\` (RHEL 7 tarball, Node 16.20.2),"
    echo "then \`podman run --rootfs\`. Allocated bytes (\`du -s -B1\` inside the namespace)."
    echo
    echo "| what | bytes |"
    echo "| --- | ---: |"
    echo "| the rootfs directory | $(_up_get "$d/cost.env" rootfs_alloc) |"
    echo "| the same after the first \`podman run --read-only --rootfs\` (the runtime's mountpoints) | $(_up_get "$d/cost.env" rootfs_first_run) |"
    echo "| the same after two more such containers | $(_up_get "$d/cost.env" rootfs_after_runs) |"
    if [ -s "$pd/vfs-flat.env" ]; then
      echo "| the flat image in rootless podman's VFS storage | $(_up_get "$pd/vfs-flat.env" image_alloc) |"
      echo "| the flat image + 1 container in VFS | $(_up_get "$pd/vfs-flat.env" total_alloc) |"
      echo "| the original image + 1 container in VFS | $(_up_get "$pd/vfs-orig.env" total_alloc) |"
    fi
    echo
    echo "A rootfs is one copy of the files for any number of read-only containers; in VFS storage each"
    echo "container of an image is one more full copy."
  } >"$d/unpack-section.md"
  cat "$d/unpack-section.md"
  node "$E2E_ROOT/scripts/e2e/doc-section.mjs" "$E2E_ROOT/docs/benchmarks.md" "## Unpack: a rootfs instead of VFS storage" <"$d/unpack-section.md"
  if [ -s "$d/dedupe.env" ]; then
    {
      echo "Measured by the e2e suite (\`scripts/e2e/unpack.sh\`) on $(date -u +%Y-%m-%d) for $name:"
      echo "\`flatten --dedupe --verify\` and \`unpack --dedupe\` against the same without it."
      echo
      echo "| image | files made hardlinks | bytes saved | flat layer tar (plain → dedupe) | rootfs du (plain → dedupe) |"
      echo "| --- | ---: | ---: | ---: | ---: |"
      echo "| $name | $(_up_get "$d/dedupe.env" files) | $(_up_get "$d/dedupe.env" bytes) | $(_up_get "$d/dedupe.env" flat_plain) → $(_up_get "$d/dedupe.env" flat_dedupe) | $(_up_get "$d/dedupe.env" rootfs_plain) → $(_up_get "$d/dedupe.env" rootfs_dedupe) |"
    } >"$d/dedupe-section.md"
    cat "$d/dedupe-section.md"
    node "$E2E_ROOT/scripts/e2e/doc-section.mjs" "$E2E_ROOT/docs/benchmarks.md" "## Dedupe (e2e)" <"$d/dedupe-section.md"
  fi
}

up_cleanup() {
  local d; d="$(up_dir)"
  podman_rootless rmi -f "$(up_ref)" >/dev/null 2>&1 || true
  up_unshare rm -rf "$d"
  rm -rf "$d"
}

e2e_unpack_cases() {
  local t="unpack"
  local -x UP_PROBE="$PROBE_RULES"
  if [ -s "$E2E_WORK/realistic.tar" ]; then UP_PROBE="$PROBE_REALISTIC"; fi
  if [ "${E2E_PODMAN:-0}" = 0 ]; then
    e2e_not_run "$t: the rootfs checks" "rootless podman does not work"
    return 0
  fi
  if ! e2e_check "$t: rootless podman loads $(basename "$(up_source)") (the image the rootfs must equal)" up_prepare; then
    e2e_not_run "$t: the rootfs checks" "the image did not load"
    return 0
  fi
  if e2e_check "$t: layerflat unpack $(basename "$(up_source)") DIR inside podman unshare (RHEL 7 tarball)" up_unpack; then
    # before any container: a --rootfs container runs in DIR itself (podman writes /etc/group there
    # for --user unless the container is --read-only), so the comparison comes first
    e2e_check "$t: DIR holds the image's filesystem (layerflat verify of a tar of DIR made in the namespace)" up_same_fs || true
    e2e_check "$t: podman run --read-only --rootfs DIR: the command and the probe print what the image prints" up_same_run || true
    e2e_check "$t: du of DIR; after the first --rootfs container, more read-only ones add nothing" up_cost || true
    e2e_check "$t: a non-empty DIR, no user namespace, a killed unpack (marker kept, DIR refused): one line, exit 2" up_refusals || true
    e2e_check "$t: --dedupe: inspect's estimate is what flatten --dedupe --verify saves; unpack --dedupe" up_dedupe || true
    e2e_check "$t: docs/benchmarks.md: the rootfs cost and --dedupe's numbers" up_write_doc || true
  else
    e2e_not_run "$t: podman run --rootfs and the rest" "unpack failed"
  fi
  e2e_check "$t: remove the rootfs dirs and the image" up_cleanup || true
}
