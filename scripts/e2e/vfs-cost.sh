#!/usr/bin/env bash
# scripts/e2e/vfs-cost.sh — what an image costs on VFS storage, measured with du on the engines'
# own storage directories, and compared with `layerflat inspect`'s estimate when it exists.
#
# Each image is measured alone, as a delta: storage before its load, after the load, and after
# creating one container (roundtrip.sh calls vfs_snapshot three times and vfs_record once). Two
# directories per engine (engine.sh, e2e_eng_storage): the vfs layer copies, and the whole storage
# root (which adds the engines' metadata: docker's layerdb, podman's tar-split files). Two sizes:
# `du -sb` (apparent bytes) and `du -s -B1` (allocated bytes: what `du -sh` shows and what fills
# the disk).

# _vfs_du MODE DIR — bytes of DIR (0 if missing); MODE is -b (apparent) or -B1 (allocated).
_vfs_du() {
  if [ -d "$2" ]; then du -s "$1" "$2" | cut -f1; else echo 0; fi
}

# vfs_snapshot ENGINE OUT — "layers_apparent layers_alloc total_apparent total_alloc" into OUT.
vfs_snapshot() {
  local layers total
  read -r layers total < <(e2e_eng_storage "$1")
  sync -f "$total" 2>/dev/null || true
  printf '%s %s %s %s\n' "$(_vfs_du -b "$layers")" "$(_vfs_du -B1 "$layers")" \
    "$(_vfs_du -b "$total")" "$(_vfs_du -B1 "$total")" >"$2"
}

# vfs_record PREFIX ENGINE LAYERS ARCHIVE_BYTES — PREFIX.{0,1,2} (before, loaded, created) →
# PREFIX.env with the deltas.
vfs_record() {
  local p="$1" s0 s1 s2
  read -r -a s0 <"$p.0"; read -r -a s1 <"$p.1"; read -r -a s2 <"$p.2"
  {
    printf 'engine=%s\nlayers=%s\narchive_bytes=%s\n' "$2" "$3" "$4"
    printf 'image_apparent=%s\nimage_alloc=%s\n' $((s1[2] - s0[2])) $((s1[3] - s0[3]))
    printf 'ctr_apparent=%s\nctr_alloc=%s\n' $((s2[2] - s1[2])) $((s2[3] - s1[3]))
    printf 'total_apparent=%s\ntotal_alloc=%s\n' $((s2[2] - s0[2])) $((s2[3] - s0[3]))
    printf 'vfsdir_apparent=%s\nvfsdir_alloc=%s\n' $((s2[0] - s0[0])) $((s2[1] - s0[1]))
  } >"$p.env"
}

# vfs_get ENVFILE KEY
vfs_get() { sed -n "s/^$2=//p" "$1"; }

_vfs_h() { numfmt --to=iec-i --suffix=B --format='%.1f' "$1" 2>/dev/null || echo "$1"; }
_vfs_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }'; }

# vfs_table — one row per measured case (original and flat, each with one container).
vfs_table() {
  local d o f
  printf '# VFS cost: storage growth for the image + one created container (whole storage root)\n'
  printf '#   du -sb = apparent bytes; du -s -B1 = allocated bytes (what du -sh shows)\n'
  printf '# %-16s %-12s %6s %15s %15s %9s | %6s %15s %15s %9s | %7s\n' \
    engine image layers 'du -sb' 'du -s -B1' 'du -sh' layers 'flat du -sb' 'flat du -s -B1' 'du -sh' 'saving'
  for d in "$E2E_WORK"/*-*/; do
    o="${d}vfs-orig.env"; f="${d}vfs-flat.env"
    { [ -s "$o" ] && [ -s "$f" ]; } || continue
    printf '# %-16s %-12s %6s %15s %15s %9s | %6s %15s %15s %9s | %6s×\n' \
      "$(e2e_eng_title "$(vfs_get "$o" engine)")" "$(basename "$d" | cut -d- -f2-)" \
      "$(vfs_get "$o" layers)" "$(vfs_get "$o" total_apparent)" "$(vfs_get "$o" total_alloc)" "$(_vfs_h "$(vfs_get "$o" total_alloc)")" \
      "$(vfs_get "$f" layers)" "$(vfs_get "$f" total_apparent)" "$(vfs_get "$f" total_alloc)" "$(_vfs_h "$(vfs_get "$f" total_alloc)")" \
      "$(_vfs_ratio "$(vfs_get "$o" total_alloc)" "$(vfs_get "$f" total_alloc)")"
  done
  printf '# of which one container (docker: an -init layer and the container layer, each a full copy on vfs):\n'
  for d in "$E2E_WORK"/*-realistic/; do
    o="${d}vfs-orig.env"; f="${d}vfs-flat.env"
    { [ -s "$o" ] && [ -s "$f" ]; } || continue
    printf '#   %-16s original: image %s + container %s;  flat: image %s + container %s\n' \
      "$(e2e_eng_title "$(vfs_get "$o" engine)")" \
      "$(_vfs_h "$(vfs_get "$o" image_alloc)")" "$(_vfs_h "$(vfs_get "$o" ctr_alloc)")" \
      "$(_vfs_h "$(vfs_get "$f" image_alloc)")" "$(_vfs_h "$(vfs_get "$f" ctr_alloc)")"
  done
}

# vfs_has_inspect — does this layerflat have `inspect` with --json? (an unknown command exits 2)
vfs_has_inspect() { layerflat inspect --help 2>/dev/null | grep -q -- '--json'; }

# vfs_commands — the commands this layerflat lists in --help.
vfs_commands() { layerflat --help 2>/dev/null | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { printf "%s%s", sep, $1; sep = " " }'; }

# vfs_estimate_check DIR SOURCE OUT — `layerflat inspect SOURCE --json` next to the numbers
# measured in DIR (a rootless-podman case); fails if imagePlusContainerBytes is more than 10% off
# the measured allocated growth of the storage root.
vfs_estimate_check() {
  local d="$1" src="$2" out="$3" o="$1/vfs-orig.env" f="$1/vfs-flat.env"
  layerflat inspect "$src" --json >"$out"
  node - "$out" "$o" "$f" <<'EOF'
const fs = require('fs');
const [out, o, f] = process.argv.slice(2);
const est = JSON.parse(fs.readFileSync(out, 'utf8')).vfs;
const env = (p) => Object.fromEntries(fs.readFileSync(p, 'utf8').trim().split('\n').map((l) => l.split('=')));
const [mo, mf] = [env(o), env(f)];
const rows = [
  ['image', est.imageBytes, +mo.image_alloc],
  ['image + 1 container', est.imagePlusContainerBytes, +mo.total_alloc],
  ['flat image', est.flatImageBytes, +mf.image_alloc],
  ['flat + 1 container', est.flatPlusContainerBytes, +mf.total_alloc],
];
const pct = (e, m) => (m > 0 ? (100 * (e - m)) / m : NaN);
console.log(`${'what'.padEnd(22)} ${'estimate'.padStart(14)} ${'measured'.padStart(14)}  error`);
for (const [what, e, m] of rows) console.log(`${what.padEnd(22)} ${String(e).padStart(14)} ${String(m).padStart(14)}  ${pct(e, m).toFixed(1)}%`);
const err = pct(est.imagePlusContainerBytes, +mo.total_alloc);
if (!(Math.abs(err) <= 10)) {
  console.log(`FAIL: the estimate of image + container is ${err.toFixed(1)}% off the measured value (limit 10%)`);
  process.exit(1);
}
console.log(`image + container estimate within 10% (${err.toFixed(1)}%)`);
EOF
}

# vfs_doc_body — the "## End-to-end VFS cost" section of docs/benchmarks.md (Markdown, no
# heading), from the realistic image's measurements.
vfs_doc_body() {
  local dd="$E2E_WORK/docker-realistic" pd="$E2E_WORK/podman-realistic" row e which
  local layers archive flatbytes
  layers="$(vfs_get "$dd/vfs-orig.env" layers)"
  archive="$(vfs_get "$dd/vfs-orig.env" archive_bytes)"
  flatbytes="$(vfs_get "$dd/vfs-flat.env" archive_bytes)"
  cat <<DOC
Measured by \`npm run test:e2e\` (\`scripts/e2e/vfs-cost.sh\`) on $(date -u +%Y-%m-%d), Debian 12 on
$(stat -f -c %T "$LF_ENGINES_DIR" | sed 's|ext2/ext3|ext4|'), docker $(e2e_eng_version docker) and rootless podman $(e2e_eng_version podman), both on the **vfs** storage driver.
Rewritten by every run of the suite; these are the numbers of the last run.

The image: \`test/e2e/realistic/Dockerfile\` (Debian bookworm minbase + apt installs in several
layers, apt lists removed later, a \`chown -R\`/\`chmod -R\` pass over a copied tree, a COPY, a file
deleted later, a capability): **$layers layers**, \`docker save\` archive $(_vfs_h "$archive") ($archive bytes);
flattened by layerflat to **1 layer**, archive $(_vfs_h "$flatbytes") ($flatbytes bytes); one copy of its
filesystem takes $(_vfs_h "$(vfs_get "$pd/vfs-flat.env" image_alloc)") on disk (the flat image in rootless podman's storage).

What loading the image and creating **one container** adds to the engine's storage root
(\`du\` of the storage root after \`load\` + \`create\` minus before; each image measured alone):

| engine (vfs) | image | layers | \`du -sb\` (apparent) | \`du -s -B1\` (allocated) | \`du -sh\` | of which the container |
| --- | --- | ---: | ---: | ---: | ---: | ---: |
DOC
  for row in "docker:$dd" "podman:$pd"; do
    e="${row%%:*}"
    for which in orig flat; do
      local f="${row#*:}/vfs-$which.env"
      [ -s "$f" ] || continue
      printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$(e2e_eng_title "$e")" \
        "$([ "$which" = orig ] && echo original || echo flat)" "$(vfs_get "$f" layers)" \
        "$(vfs_get "$f" total_apparent)" "$(vfs_get "$f" total_alloc)" "$(_vfs_h "$(vfs_get "$f" total_alloc)")" \
        "$(_vfs_h "$(vfs_get "$f" ctr_alloc)")"
    done
  done
  local savings=""
  for row in "docker:$dd" "podman:$pd"; do
    e="${row%%:*}"
    { [ -s "${row#*:}/vfs-orig.env" ] && [ -s "${row#*:}/vfs-flat.env" ]; } || continue
    savings="${savings:+$savings, }$(e2e_eng_title "$e") **×$(_vfs_ratio "$(vfs_get "${row#*:}/vfs-orig.env" total_alloc)" "$(vfs_get "${row#*:}/vfs-flat.env" total_alloc)")**"
  done
  printf '\nSaving (allocated bytes, image + one container): %s.\n\n' "$savings"
  cat <<'DOC'
On vfs every layer is a full copy of the filesystem below it, and so is every container: docker
makes two per container (an `-init` layer and the container's own), rootless podman one. More
containers of the same image multiply only the container column. `layerflat inspect --json`
estimates these numbers (`vfs.*`); the suite checks its image + container estimate against the
rootless-podman measurement (within 10%).
DOC
}

# vfs_write_doc — replace the "## End-to-end VFS cost" section of docs/benchmarks.md (only that
# section: other sections of the file belong to other people).
vfs_write_doc() {
  vfs_doc_body >"$E2E_WORK/benchmarks-section.md"
  cat "$E2E_WORK/benchmarks-section.md"
  node "$E2E_ROOT/scripts/e2e/doc-section.mjs" "$E2E_ROOT/docs/benchmarks.md" "## End-to-end VFS cost" <"$E2E_WORK/benchmarks-section.md"
}
