#!/usr/bin/env bash
# scripts/e2e/roundtrip.sh — the round trip of one image through one engine (docker or rootless
# podman, see engine.sh), as a series of checks, with the RHEL 7 tarball's launcher (Node 16.20.2
# and the bundle) as every layerflat of it:
#
#   load the original + create a container (VFS cost measured) → ENGINE save → layerflat flatten
#   --verify → load the flat image + create a container (measured) → export both containers →
#   layerflat verify the two exports → run the flat image (default command, and a probe whose
#   output must equal the original's) → image inspect: same Config, one layer → the pipe form
#   `ENGINE save | layerflat flatten - - | ENGINE load` → remove everything again.
#
# Every file of a case lives in $E2E_WORK/ENGINE-LABEL/; the VFS numbers stay there
# (vfs-orig.env, vfs-flat.env) for the table of vfs-cost.sh, the big tars are removed at the end.

# rt_case ENGINE LABEL ARCHIVE REF EXPECT PROBE [FLATTEN_SRC [SAVE_FORMAT]]
#   ARCHIVE      what the engine loads as the original (a fixture, or a `docker save` output)
#   REF          the name the engine gives the original once loaded
#   EXPECT       a string the flat image's default command must print
#   PROBE        a shell command run (sh -c) in both images; the outputs must be equal
#   FLATTEN_SRC  what to flatten (default: the engine's own `save` of the original) — for OCI
#                fixtures, the fixture itself
#   SAVE_FORMAT  podman save --format (default docker-archive)
rt_case() {
  local engine="$1" label="$2" archive="$3" ref="$4" expect="$5" probe="$6" src="${7:-}" fmt="${8:-docker-archive}"
  local -x E2E_CLI="$E2E_TARBALL_CLI" # every layerflat of a round trip is the RHEL 7 tarball's
  local t d flat pipe co cf
  t="$(e2e_eng_title "$engine") $label"
  d="$E2E_WORK/$engine-$label"
  flat="localhost/layerflat-e2e/$label:flat"
  pipe="localhost/layerflat-e2e/$label:pipe"
  co="e2e-$label-orig"
  cf="e2e-$label-flat"
  mkdir -p "$d"
  printf '%s\n' "$ref" >"$d/ref"

  if ! e2e_check "$t: $engine load the original and create a container" \
      rt_load_create "$engine" "$d" orig "$archive" "$ref" "$co"; then
    e2e_not_run "$t: flatten, load, export, verify, run, inspect, pipe" "the original did not load"
    e2e_check "$t: remove the containers, the images and the tars" \
      rt_cleanup "$engine" "$d" "$co" "$cf" "$flat" "$pipe" "$ref" || true
    return 0
  fi
  local saved=1
  e2e_check "$t: $engine save the original${8:+ (--format $fmt)}" rt_save "$engine" "$ref" "$d/saved.tar" "$fmt" || saved=0
  if [ -z "$src" ]; then
    src="$d/saved.tar"
    if [ "$saved" = 0 ]; then
      e2e_not_run "$t: flatten, load, export, verify, run, inspect" "$engine save failed"
      rt_case_pipe_and_cleanup "$engine" "$t" "$d" "$ref" "$pipe" "$co" "$cf" "$flat" "$fmt"
      return 0
    fi
  fi
  local src_name="$src"
  [ "$src" != "$d/saved.tar" ] || src_name="the $engine save"
  if ! e2e_check "$t: layerflat flatten --verify (${src_name#"$E2E_ROOT/"}) gives 1 layer" \
      rt_flatten "$d" "$src" "$flat"; then
    e2e_not_run "$t: load, export, verify, run, inspect the flat image" "flatten failed"
    rt_case_pipe_and_cleanup "$engine" "$t" "$d" "$ref" "$pipe" "$co" "$cf" "$flat" "$fmt"
    return 0
  fi
  e2e_note "$(rt_flatten_summary "$d")"
  if e2e_check "$t: $engine load the flat image and create a container" \
      rt_load_create "$engine" "$d" flat "$d/flat.tar" "$flat" "$cf"; then
    if e2e_check "$t: $engine export both containers" rt_export_both "$engine" "$d" "$co" "$cf"; then
      e2e_check "$t: layerflat verify orig-export flat-export: same filesystem" \
        rt_verify "$engine" "$d" "$ref" "$d/orig-export.tar" "$d/flat-export.tar" || true
      e2e_note "$(tail -n 1 "$E2E_LOG")"
      if [ "$saved" = 1 ]; then
        e2e_check "$t: layerflat's merge of the saved layers equals $engine's export of the original" \
          rt_verify "$engine" "$d" "$ref" "$d/saved.tar" "$d/orig-export.tar" --image || true
        e2e_note "$(tail -n 1 "$E2E_LOG")"
      fi
    else
      e2e_not_run "$t: layerflat verify orig-export flat-export" "export failed"
    fi
    e2e_expect_output "$t: run the flat image's default command (prints '$expect')" "$expect" \
      e2e_eng_run "$engine" "$flat" || true
    if e2e_check "$t: a probe command prints the same in the original and the flat image" \
        rt_probe "$engine" "$d" "$ref" "$flat" "$probe"; then
      head -n 3 "$d/probe-flat.out" | e2e_diag
    fi
    e2e_check "$t: image inspect: same Config, Os, Architecture; the flat image has 1 layer" \
      rt_inspect "$engine" "$d" "$ref" "$flat" || true
    e2e_note "$(tail -n 1 "$E2E_LOG")"
  else
    e2e_not_run "$t: export, verify, run, inspect the flat image" "it did not load"
  fi
  rt_case_pipe_and_cleanup "$engine" "$t" "$d" "$ref" "$pipe" "$co" "$cf" "$flat" "$fmt"
}

rt_case_pipe_and_cleanup() {
  local engine="$1" t="$2" d="$3" ref="$4" pipe="$5" co="$6" cf="$7" flat="$8" fmt="$9"
  e2e_check "$t: pipe: $engine save | layerflat flatten - - | $engine load gives the same layer" \
    rt_pipe "$engine" "$d" "$ref" "$pipe" "$fmt" || true
  e2e_check "$t: remove the containers, the images and the tars" \
    rt_cleanup "$engine" "$d" "$co" "$cf" "$flat" "$pipe" "$ref" || true
}

# rt_load_create ENGINE DIR WHICH ARCHIVE REF CONTAINER — load, create, and measure storage
# before, after the load and after the create (vfs-WHICH.env).
rt_load_create() {
  local engine="$1" d="$2" which="$3" archive="$4" ref="$5" ctr="$6"
  vfs_snapshot "$engine" "$d/vfs-$which.0"
  e2e_eng_load "$engine" "$archive"
  vfs_snapshot "$engine" "$d/vfs-$which.1"
  e2e_eng "$engine" create --name "$ctr" "$ref"
  vfs_snapshot "$engine" "$d/vfs-$which.2"
  local layers
  layers="$(e2e_eng "$engine" image inspect --format '{{len .RootFS.Layers}}' "$ref")"
  vfs_record "$d/vfs-$which" "$engine" "$layers" "$(stat -c %s "$archive" 2>/dev/null || echo 0)"
  cat "$d/vfs-$which.env"
}

rt_save() { e2e_eng_save "$1" "$2" "$4" >"$3"; ls -l "$3"; }

# rt_flatten DIR SRC FLAT_REF — flatten to DIR/flat.tar with --verify; the summary in flatten.json.
rt_flatten() {
  local d="$1" src="$2" flat="$3"
  rm -f "$d/flat.tar"
  layerflat flatten "$src" "$d/flat.tar" --verify --json -t "$flat" >"$d/flatten.json"
  cat "$d/flatten.json"
  [ "$(e2e_json "$d/flatten.json" 'j.layersOut')" = 1 ] || { echo "layersOut is not 1"; return 1; }
}

rt_flatten_summary() {
  # shellcheck disable=SC2016 # a JavaScript template literal
  e2e_json "$1/flatten.json" '`${j.layersIn} layers → ${j.layersOut}: ${j.entries.kept} entries kept, ${Object.values(j.entries.dropped).reduce((a, b) => a + b, 0)} dropped; ${(j.bytes.tarIn / 1048576).toFixed(1)} MiB of layer tars → ${(j.bytes.written / 1048576).toFixed(1)} MiB in ${j.seconds.toFixed(1)} s (with --verify)`'
}

rt_export_both() {
  local engine="$1" d="$2" co="$3" cf="$4"
  e2e_eng_export "$engine" "$co" "$d/orig-export.tar"
  e2e_eng_export "$engine" "$cf" "$d/flat-export.tar"
  ls -l "$d/orig-export.tar" "$d/flat-export.tar"
}

# rt_verify ENGINE DIR REF A B [--image] — scripts/e2e/verify-exports.mjs with REF's WorkingDir.
rt_verify() {
  local engine="$1" d="$2" ref="$3" a="$4" b="$5"; shift 5
  local wd
  wd="$(e2e_eng "$engine" image inspect --format '{{.Config.WorkingDir}}' "$ref")"
  node "$E2E_ROOT/scripts/e2e/verify-exports.mjs" "$engine" "$a" "$b" "--workdir=$wd" "$@"
}

# rt_probe ENGINE DIR REF FLAT PROBE — same stdout in both images.
rt_probe() {
  local engine="$1" d="$2" ref="$3" flat="$4" probe="$5"
  e2e_eng_run "$engine" "$ref" sh -c "$probe" >"$d/probe-orig.out"
  e2e_eng_run "$engine" "$flat" sh -c "$probe" >"$d/probe-flat.out"
  e2e_same_files "$d/probe-orig.out" "$d/probe-flat.out"
}

rt_inspect() {
  local engine="$1" d="$2" ref="$3" flat="$4"
  e2e_eng "$engine" image inspect "$ref" >"$d/inspect-orig.json"
  e2e_eng "$engine" image inspect "$flat" >"$d/inspect-flat.json"
  node "$E2E_ROOT/scripts/e2e/compare-inspect.mjs" "$d/inspect-orig.json" "$d/inspect-flat.json"
}

# rt_pipe ENGINE DIR REF PIPE_REF FORMAT — the streaming form; its layer must be the file form's.
rt_pipe() {
  local engine="$1" d="$2" ref="$3" pipe="$4" fmt="$5"
  e2e_eng_save "$engine" "$ref" "$fmt" | layerflat flatten - - -t "$pipe" --tmp-dir "$TMPDIR" | e2e_eng_load "$engine"
  local layers want
  layers="$(e2e_eng "$engine" image inspect --format '{{json .RootFS.Layers}}' "$pipe")"
  echo "pipe image layers: $layers"
  [ "$(node -e 'console.log(JSON.parse(process.argv[1]).length)' "$layers")" = 1 ] || { echo "not 1 layer"; return 1; }
  if [ -s "$d/flatten.json" ]; then
    want="$(e2e_json "$d/flatten.json" 'j.layers[0].diffId')"
    echo "file form layer: $want"
    grep -qF "$want" <<<"$layers" || { echo "the pipe gave another layer than the file form"; return 1; }
  fi
}

rt_cleanup() {
  local engine="$1" d="$2"; shift 2
  local ctr img
  for ctr in "$1" "$2"; do
    e2e_eng "$engine" rm -f "$ctr" >/dev/null 2>&1 || true
  done
  shift 2
  for img in "$@"; do
    if e2e_eng "$engine" image inspect "$img" >/dev/null 2>&1; then e2e_eng "$engine" rmi -f "$img"; fi
  done
  rm -f "$d"/*.tar
  e2e_eng "$engine" ps -a
  e2e_eng "$engine" images -a
}
