#!/usr/bin/env bash
# scripts/e2e/integrity.sh — a damaged layer piped into the engines (sourced by scripts/e2e/env.sh).
#
# scripts/e2e/make-damaged.py writes a good two-layer docker-archive and two damaged ones (a byte
# flipped in a classic `<id>/layer.tar`, which only its diff_id can tell; one in a Docker >= 25
# `blobs/sha256/<hex>` layer, which no longer hashes to its name). Their flat layer streams to
# stdout before its checks can end, so the engine has taken bytes when layerflat finds the damage.
# For each engine:
#
#   control   `layerflat flatten good.tar - | ENGINE load` loads, and gives an image of 1 layer;
#   damaged   `layerflat flatten DAMAGED.tar - | ENGINE load`: layerflat exits 2 with one
#             DIGEST_MISMATCH line, the engine's load exits non-zero, no image is created (the
#             engine's image list is what it was, the tag is not there), and the bytes that went
#             down the pipe do not end with the two zero blocks of an end of archive.
#
# Files live in $E2E_WORK/integrity/ (archives) and $E2E_WORK/integrity/ENGINE-NAME/.

# integ_ref NAME — the image's name in both engines (the archives are tagged localhost/…).
integ_ref() { echo "localhost/layerflat-e2e/integrity-$1:latest"; }

# integ_generate DIR — write the archives; the generator is deterministic (checked).
integ_generate() {
  local dir="$1"
  lf_need_cmd python3 python3
  rm -rf "$dir" "$dir.again"
  python3 "$E2E_ROOT/scripts/e2e/make-damaged.py" "$dir"
  python3 "$E2E_ROOT/scripts/e2e/make-damaged.py" "$dir.again" >/dev/null
  diff -r "$dir" "$dir.again" || { echo "make-damaged.py is not deterministic"; return 1; }
  rm -rf "$dir.again"
}

# integ_images ENGINE — the ids of every image, sorted (what a refused load must leave as it was).
integ_images() { e2e_eng "$1" images -aq --no-trunc | sort -u; }

# integ_remove ENGINE REF — remove REF if it is there.
integ_remove() {
  if e2e_eng "$1" image inspect "$2" >/dev/null 2>&1; then e2e_eng "$1" rmi -f "$2" >/dev/null; fi
}

# integ_pipe_loads ENGINE ARCHIVE REF — the control: the pipe loads and gives a 1-layer image.
integ_pipe_loads() {
  local engine="$1" archive="$2" ref="$3" layers
  integ_remove "$engine" "$ref"
  layerflat flatten "$archive" - --tmp-dir "$TMPDIR" | e2e_eng "$engine" load -q
  layers="$(e2e_eng "$engine" image inspect --format '{{len .RootFS.Layers}}' "$ref")"
  echo "$ref: $layers layer(s)"
  integ_remove "$engine" "$ref"
  [ "$layers" = 1 ] || { echo "expected 1 layer"; return 1; }
}

# integ_pipe_refused ENGINE ARCHIVE REF DIR — the damaged archive: see the header.
integ_pipe_refused() {
  local engine="$1" archive="$2" ref="$3" d="$4" before after bytes bad=0
  local -a st
  rm -rf "$d" && mkdir -p "$d"
  integ_remove "$engine" "$ref"
  before="$(integ_images "$engine")"
  set +e
  layerflat flatten "$archive" - --tmp-dir "$TMPDIR" 2>"$d/layerflat.err" | tee "$d/stream.tar" |
    e2e_eng "$engine" load -q >"$d/load.out" 2>&1
  st=("${PIPESTATUS[@]}")
  set -e
  bytes="$(stat -c %s "$d/stream.tar")"
  echo "layerflat: exit ${st[0]}: $(cat "$d/layerflat.err")"
  echo "tee: exit ${st[1]}, $bytes bytes went down the pipe"
  echo "$engine load: exit ${st[2]}: $(cat "$d/load.out")"
  after="$(integ_images "$engine")"
  [ "${st[0]}" = 2 ] || { echo "layerflat should exit 2"; bad=1; }
  [ "$(wc -l <"$d/layerflat.err")" = 1 ] || { echo "layerflat should say one line on stderr"; bad=1; }
  grep -q '^layerflat: error \[DIGEST_MISMATCH\]' "$d/layerflat.err" || { echo "no DIGEST_MISMATCH"; bad=1; }
  [ "${st[2]}" != 0 ] || { echo "$engine load exited 0"; bad=1; }
  if e2e_eng "$engine" image inspect "$ref" >/dev/null 2>&1; then echo "$ref was created"; bad=1; fi
  [ "$before" = "$after" ] || { printf 'images before:\n%s\nafter:\n%s\n' "$before" "$after"; bad=1; }
  [ "$bytes" -gt 1048576 ] || echo "note: only $bytes bytes went out before the check failed"
  if [ "$bytes" -ge 1024 ] && [ "$(tail -c 1024 "$d/stream.tar" | tr -d '\0' | wc -c)" = 0 ]; then
    echo "the stream ends with two zero blocks, as a whole archive would"
    bad=1
  fi
  rm -f "$d/stream.tar"
  integ_remove "$engine" "$ref" || true
  return "$bad"
}

e2e_integrity_cases() {
  local dir="$E2E_WORK/integrity" engines=() engine t name
  if [ "${E2E_BUILT:-0}" = 0 ]; then
    e2e_not_run "integrity: damaged layers piped into the engines" "layerflat is not built"
    return 0
  fi
  e2e_check "integrity: write the archives with scripts/e2e/make-damaged.py (deterministic)" \
    integ_generate "$dir" || { e2e_not_run "integrity: damaged layers piped into the engines" "the generator failed"; return 0; }
  if [ "${E2E_DOCKER:-0}" = 1 ]; then engines+=(docker); else e2e_not_run "integrity: docker" "dockerd is not running"; fi
  if [ "${E2E_PODMAN:-0}" = 1 ]; then engines+=(podman); else e2e_not_run "integrity: rootless podman" "rootless podman does not work"; fi
  for engine in "${engines[@]}"; do
    t="integrity, $(e2e_eng_title "$engine")"
    e2e_check "$t: layerflat flatten GOOD - | $engine load gives a 1-layer image (the control)" \
      integ_pipe_loads "$engine" "$dir/good.tar" "$(integ_ref good)" || true
    for name in classic docker25; do
      e2e_check "$t: layerflat flatten DAMAGED-$name - | $engine load: layerflat exits 2, the load fails, no image" \
        integ_pipe_refused "$engine" "$dir/$name.tar" "$(integ_ref "$name")" "$dir/$engine-$name" || true
    done
  done
  rm -f "$dir"/*.tar
}
