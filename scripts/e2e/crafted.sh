#!/usr/bin/env bash
# scripts/e2e/crafted.sh — crafted archives through both engines (sourced by scripts/e2e/env.sh).
#
# scripts/e2e/crafted/make-crafted.py writes one small docker-archive per unusual layer tar
# (paths under symlinks, odd names, hardlink headers, duplicates, zero blocks, what exports add,
# whiteouts/opaque markers/hardlinks against earlier entries of the same layer)
# and cases.tsv with the outcome docker 20.10 (vfs) and rootless podman 4.3 (vfs) give each one
# (docs/engine-rules.md has what each engine made of each case). For every case and engine:
#
#   the engine loads it        → load, create a container (not started), export it; then
#                                (a) `layerflat verify docker-archive:CASE.tar tar:EXPORT.tar
#                                    --ignore-engine-files` exits 0: layerflat's model of the
#                                    layers is what the engine made of them (or, for the few
#                                    cases in CRAFTED_ENGINE_DIFFERS, exits 1 with exactly the
#                                    one difference the engine's own rule makes);
#                                (b) `layerflat flatten CASE.tar FLAT.tar` exits 0, the engine
#                                    loads FLAT.tar, and the export of a container of it is the
#                                    same model (`layerflat verify docker-archive:CASE.tar
#                                    tar:FLAT-EXPORT --ignore-engine-files` exits 0: with (a),
#                                    the flat image shows what the original showed, but for what
#                                    no layer can carry — a directory's load-time mtime);
#                                or, for the cases layerflat refuses by choice (CRAFTED_REFUSED_BY_CHOICE:
#                                    names that climb above the root, which the engines clamp),
#                                    `layerflat verify` and `layerflat flatten` exit 2 and write nothing;
#   the engine refuses it      → the engine's load fails (the archive still shows the rule), and
#                                when every engine refuses it, `layerflat flatten CASE.tar OUT.tar`
#                                exits 2 and leaves nothing in OUT.tar's (fresh) directory.
#
# Images and containers are removed after each case; the part ends with one check per engine that
# none is left. Files live in $E2E_WORK/crafted/ (archives) and $E2E_WORK/crafted/ENGINE-CASE/.
#
# LAYERFLAT_E2E_CRAFTED="PATTERN..." runs only the cases whose names match one of the shell
# patterns (e.g. '*-same-layer hardlink-order-*'); all of them are generated either way, and a
# selection that matches no case is a failed check. Unset or empty: every case.

CRAFTED_IMG_PREFIX="layerflat-crafted"

# Loaded by the engines (which clamp ".." at the root), refused by layerflat (BAD_PATH): a member
# name or hardlink target that climbs above the root is hostile input (docs/engine-rules.md §2).
CRAFTED_REFUSED_BY_CHOICE=" name-dotdot-climb name-dotdot-middle hardlink-dotdot-target hardlink-dotdot-target-same-layer hardlink-dotdot-target-nested "

# What a container of the engine shows differently from the layers, by the engine's own rule:
# rootless podman drops device nodes (it cannot make them in its user namespace), docker's init
# layer makes a symlinked etc a real directory (docs/engine-rules.md §6.6, §6.1). For these,
# verify must exit 1 with exactly this one difference, for the original and the flat image alike.
declare -gA CRAFTED_ENGINE_DIFFERS=(
  [podman:device-nodes]='missing /special/null-dev chardev → -'
  [docker:whiteout-dir-then-symlink-same-layer]='type /etc symlink → dir'
)

# crafted_generate DIR — write the archives and cases.tsv; the generator is deterministic, so a
# second run must give the same bytes (checked).
crafted_generate() {
  local dir="$1"
  lf_need_cmd python3 python3
  rm -rf "$dir" "$dir.again"
  python3 "$E2E_ROOT/scripts/e2e/crafted/make-crafted.py" "$dir"
  python3 "$E2E_ROOT/scripts/e2e/crafted/make-crafted.py" "$dir.again"
  diff -r "$dir" "$dir.again" || { echo "make-crafted.py is not deterministic"; return 1; }
  rm -rf "$dir.again"
  echo "$(grep -vc '^#' "$dir/cases.tsv") cases:"
  cat "$dir/cases.tsv"
}

# crafted_expect OUTCOME ENGINE — `loads` or `refused` for ENGINE, from a cases.tsv outcome
# (`loads`, `refused`, or per engine: `docker=loads,podman=refused`).
crafted_expect() {
  local outcome="$1" engine="$2" part
  case "$outcome" in
    loads | refused) echo "$outcome"; return 0 ;;
  esac
  for part in ${outcome//,/ }; do
    if [ "${part%%=*}" = "$engine" ]; then echo "${part#*=}"; return 0; fi
  done
  echo "cases.tsv: no outcome for $engine in '$outcome'" >&2
  return 1
}

# crafted_ref ENGINE NAME TAG — the name ENGINE gives the image once loaded.
crafted_ref() {
  case "$1" in
    docker) if [ "$3" = latest ]; then echo "$CRAFTED_IMG_PREFIX/$2:latest"; else echo "localhost/$CRAFTED_IMG_PREFIX/$2:$3"; fi ;;
    podman) echo "localhost/$CRAFTED_IMG_PREFIX/$2:$3" ;;
  esac
}

# crafted_load_export ENGINE ARCHIVE REF CONTAINER OUT — load, create (not started), export to OUT.
crafted_load_export() {
  local engine="$1" archive="$2" ref="$3" ctr="$4" out="$5"
  rm -f "$out"
  e2e_eng_load "$engine" "$archive"
  e2e_eng "$engine" create --name "$ctr" "$ref"
  e2e_eng_export "$engine" "$ctr" "$out"
  python3 "$E2E_ROOT/scripts/e2e/crafted/list-tar.py" "$out" >"${out%.tar}.txt"
  echo "$out: $(wc -l <"${out%.tar}.txt") members, listed in ${out%.tar}.txt"
}

# crafted_verify_model ENGINE NAME CASE.tar EXPORT.tar — (a): verify exits 0, or 1 with exactly the
# engine's own difference (CRAFTED_ENGINE_DIFFERS).
crafted_verify_model() {
  local want="${CRAFTED_ENGINE_DIFFERS[$1:$2]:-}" out rc=0 got
  echo "layerflat verify docker-archive:$3 tar:$4 --ignore-engine-files"
  if [ -z "$want" ]; then
    layerflat verify "docker-archive:$3" "tar:$4" --ignore-engine-files
    return
  fi
  out="$(layerflat verify "docker-archive:$3" "tar:$4" --ignore-engine-files 2>&1)" || rc=$?
  echo "$out"
  got="$(sed -n 's/^  *\([a-z]\)/\1/p' <<<"$out" | tr -s ' ')" # the indented difference lines
  echo "expected (the engine's own rule): exit 1, one difference: $want"
  [ "$rc" = 1 ] && [ "$got" = "$want" ]
}

# crafted_flat_roundtrip ENGINE NAME CASE.tar DIR — (b)
crafted_flat_roundtrip() {
  local engine="$1" name="$2" archive="$3" d="$4" ref
  ref="$(crafted_ref "$engine" "$name" flat)"
  rm -f "$d/flat.tar"
  echo "layerflat flatten $archive $d/flat.tar -t localhost/$CRAFTED_IMG_PREFIX/$name:flat"
  layerflat flatten "$archive" "$d/flat.tar" -t "localhost/$CRAFTED_IMG_PREFIX/$name:flat"
  crafted_load_export "$engine" "$d/flat.tar" "$ref" "crafted-$name-flat" "$d/flat-export.tar"
  crafted_verify_model "$engine" "$name" "$archive" "$d/flat-export.tar"
}

# crafted_refused_by_choice CASE.tar DIR — verify and flatten exit 2 (BAD_PATH), nothing written.
crafted_refused_by_choice() {
  local archive="$1" d="$2" rc=0 err
  err="$(layerflat verify "docker-archive:$archive" "docker-archive:$archive" 2>&1 >/dev/null)" || rc=$?
  echo "layerflat verify exit status: $rc: $err"
  [ "$rc" = 2 ] && [[ "$err" == *"[BAD_PATH]"* ]] || { echo "expected exit status 2, BAD_PATH"; return 1; }
  crafted_flatten_refuses "$archive" "$d"
}

# crafted_engine_refuses ENGINE ARCHIVE REF — the load must fail (its message is shown).
crafted_engine_refuses() {
  local engine="$1" archive="$2" ref="$3" rc=0
  e2e_eng_load "$engine" "$archive" || rc=$?
  echo "load exit status: $rc"
  if e2e_eng "$engine" image inspect "$ref" >/dev/null 2>&1; then
    echo "$ref is there after all"
    return 1
  fi
  [ "$rc" != 0 ]
}

# crafted_flatten_refuses CASE.tar DIR — exit 2, and nothing written in the fresh DIR.
crafted_flatten_refuses() {
  local archive="$1" d="$2" rc=0
  rm -rf "$d" && mkdir -p "$d"
  layerflat flatten "$archive" "$d/out.tar" || rc=$?
  echo "layerflat flatten exit status: $rc"
  ls -la "$d"
  [ "$rc" = 2 ] || { echo "expected exit status 2"; return 1; }
  [ -z "$(ls -A "$d")" ] || { echo "something was left in $d"; return 1; }
}

# crafted_cleanup ENGINE NAME — containers and images of one case (errors ignored).
crafted_cleanup() {
  local engine="$1" name="$2" tag
  e2e_eng "$engine" rm -f "crafted-$name-orig" "crafted-$name-flat" >/dev/null 2>&1 || true
  for tag in latest flat; do
    e2e_eng "$engine" rmi -f "$(crafted_ref "$engine" "$name" "$tag")" >/dev/null 2>&1 || true
  done
}

# crafted_nothing_left ENGINE — no container, no image (a refused podman load may leave the layers
# it had already applied in its storage, which no command lists; scripts/engines.sh purges them).
crafted_nothing_left() {
  e2e_eng "$1" ps -a
  e2e_eng "$1" images -a
  [ -z "$(e2e_eng "$1" ps -aq)" ] && [ -z "$(e2e_eng "$1" images -aq)" ]
}

# crafted_selected NAME — NAME matches LAYERFLAT_E2E_CRAFTED (or that is unset/empty).
crafted_selected() {
  local pat pats=()
  [ -n "${LAYERFLAT_E2E_CRAFTED:-}" ] || return 0
  read -r -a pats <<<"$LAYERFLAT_E2E_CRAFTED" # split on blanks, no pathname expansion
  for pat in "${pats[@]}"; do
    # shellcheck disable=SC2053 # the pattern is meant to match as a glob
    [[ "$1" == $pat ]] && return 0
  done
  return 1
}

# crafted_case ENGINE NAME EXPECT — the checks of one case in one engine.
crafted_case() {
  local engine="$1" name="$2" want="$3" t archive d ref
  t="crafted $name, $(e2e_eng_title "$engine")"
  archive="$CRAFTED_DIR/$name.tar"
  d="$E2E_WORK/crafted/$engine-$name"
  ref="$(crafted_ref "$engine" "$name" latest)"
  mkdir -p "$d"
  crafted_cleanup "$engine" "$name"
  if [ "$want" = refused ]; then
    e2e_check "$t: $engine refuses to load it" crafted_engine_refuses "$engine" "$archive" "$ref" || true
  elif [[ "$CRAFTED_REFUSED_BY_CHOICE" == *" $name "* ]]; then
    e2e_check "$t: $engine loads it, creates a container, exports it" \
      crafted_load_export "$engine" "$archive" "$ref" "crafted-$name-orig" "$d/orig-export.tar" || true
    e2e_check "$t: layerflat refuses it by choice (BAD_PATH, exit 2, nothing written)" \
      crafted_refused_by_choice "$archive" "$d/refused" || true
  elif e2e_check "$t: $engine loads it, creates a container, exports it" \
      crafted_load_export "$engine" "$archive" "$ref" "crafted-$name-orig" "$d/orig-export.tar"; then
    e2e_check "$t: layerflat verify CASE EXPORT --ignore-engine-files (the model is the engine's filesystem)" \
      crafted_verify_model "$engine" "$name" "$archive" "$d/orig-export.tar" || true
    e2e_check "$t: layerflat flatten, $engine loads the flat image, its export is the case's model" \
      crafted_flat_roundtrip "$engine" "$name" "$archive" "$d" || true
  else
    e2e_not_run "$t: layerflat verify, flatten round trip" "$engine did not load the case"
  fi
  crafted_cleanup "$engine" "$name"
  rm -f "$d"/*.tar
}

e2e_crafted_cases() {
  CRAFTED_DIR="$E2E_WORK/crafted/archives"
  export CRAFTED_DIR
  if [ "${E2E_BUILT:-0}" = 0 ]; then
    e2e_not_run "crafted archives" "layerflat is not built"
    return 0
  fi
  local t0 engines=() engine name outcome desc want n_refused n_run=0
  t0="$(date +%s)"
  e2e_df
  e2e_check "crafted: write the archives with scripts/e2e/crafted/make-crafted.py (deterministic)" \
    crafted_generate "$CRAFTED_DIR" || { e2e_not_run "crafted archives" "the generator failed"; return 0; }
  if [ "${E2E_DOCKER:-0}" = 1 ]; then engines+=(docker); else e2e_not_run "crafted archives in docker" "dockerd is not running"; fi
  if [ "${E2E_PODMAN:-0}" = 1 ]; then engines+=(podman); else e2e_not_run "crafted archives in rootless podman" "rootless podman does not work"; fi
  # the list comes in on fd 3: the engines' commands inherit stdin
  while IFS=$'\t' read -r -u 3 name outcome desc; do
    case "$name" in '' | '#'*) continue ;; esac
    crafted_selected "$name" || continue
    n_run=$((n_run + 1))
    e2e_note "crafted $name: $desc (engines: $outcome)"
    n_refused=0
    for engine in docker podman; do
      want="$(crafted_expect "$outcome" "$engine")" || { e2e_not_ok "crafted $name: cases.tsv outcome '$outcome'"; continue 2; }
      [ "$want" != refused ] || n_refused=$((n_refused + 1))
    done
    for engine in "${engines[@]}"; do
      crafted_case "$engine" "$name" "$(crafted_expect "$outcome" "$engine")"
    done
    if [ "$n_refused" = 2 ]; then
      e2e_check "crafted $name, refused by docker and rootless podman: layerflat flatten exits 2 and writes nothing" \
        crafted_flatten_refuses "$CRAFTED_DIR/$name.tar" "$E2E_WORK/crafted/refused-$name" || true
    fi
  done 3<"$CRAFTED_DIR/cases.tsv"
  if [ -n "${LAYERFLAT_E2E_CRAFTED:-}" ]; then
    if [ "$n_run" = 0 ]; then
      e2e_not_ok "crafted: LAYERFLAT_E2E_CRAFTED='$LAYERFLAT_E2E_CRAFTED' matches no case"
    else
      e2e_note "crafted: $n_run case(s) selected by LAYERFLAT_E2E_CRAFTED='$LAYERFLAT_E2E_CRAFTED'"
    fi
  fi
  for engine in "${engines[@]}"; do
    e2e_check "crafted: no container or image left in $(e2e_eng_title "$engine")" crafted_nothing_left "$engine" || true
  done
  e2e_note "crafted part: $(($(date +%s) - t0)) s"
}
