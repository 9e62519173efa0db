#!/usr/bin/env node
// scripts/bench/report.mjs RUN_DIR DOC — render docs/benchmarks.md from RUN_DIR/results.jsonl
// (written by scripts/bench.sh). DOC "-" prints to stdout. The "## Notes", "## Deep paths"
// (scripts/bench/deep-paths.sh), "## Registry to registry" (scripts/bench/registry.sh) and "## End-to-end
// VFS cost" (the e2e suite) sections already in DOC are kept as they are, at the end.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const [runDir, docPath] = process.argv.slice(2);
if (!runDir || !docPath) {
  console.error('usage: report.mjs RUN_DIR DOC|-');
  process.exit(2);
}
const lines = readFileSync(`${runDir}/results.jsonl`, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l));
const runs = new Map(lines.filter((l) => l.name).map((l) => [l.name, l]));
const notes = new Map(lines.filter((l) => l.note).map((l) => [l.note, l.value]));
const jsonOut = (name) => {
  try {
    return JSON.parse(readFileSync(`${runDir}/${name}.out`, 'utf8'));
  } catch {
    return undefined;
  }
};

const MB = 1e6;
const mb = (b) => (b === undefined || Number.isNaN(b) ? 'n/a' : (b / MB).toFixed(b < 10 * MB ? 1 : 0));
const s = (x) => (x === undefined ? 'n/a' : x.toFixed(1));
const rssMB = (r) => (r ? (r.rssKB * 1024) / MB : undefined);
const times = (a, b) => (a && b ? `${(a / b).toFixed(2)}×` : 'n/a');
const ok = (c) => (c === undefined ? '—' : c === 'partly' ? '**partly**' : c ? '**holds**' : '**fails**');

const image = notes.get('image') ?? {};
const [nproc, ramBytes, disk, kernel, nodeVersion, blockDev, cpu, date, pigzV, opensslV, dockerV, buildahV, dropped] =
  notes.get('machine') ?? [];
const flatLayerBytes = notes.get('flatLayerBytes');
const floorCp = runs.get('floor-cp');
const floorSha = runs.get('floor-sha256');
const floor = floorCp && floorSha ? floorCp.wall + floorSha.wall : undefined;

/** layerflat's temporary disk: TMPDIR's peak plus whatever the output dir held beyond the final output. */
function lfTemp(name) {
  const r = runs.get(name);
  if (!r) return undefined;
  const [tmp = 0, out = 0] = r.watchPeakBytes;
  return tmp + Math.max(0, out - (notes.get(`${name}.outputBytes`) ?? out));
}

const lfDa = runs.get('lf-docker-archive');
const lfOci = runs.get('lf-oci-gzip');
const pigz = runs.get('pigz-p2');
const dockerRun = runs.get('docker-export-import');
const buildahRun = runs.get('buildah-squash');
const dockerGrowth = notes.get('docker.dataBytes.after') - notes.get('docker.dataBytes.loaded');
const buildahGrowth = notes.get('buildah.storeBytes.after') - notes.get('buildah.storeBytes.loaded');

const rows = [];
const row = (step, r, { wall = r?.wall, x, rss = rssMB(r), temp, out, how = '' } = {}) =>
  r && r.rc !== 0
    ? rows.push(`| ${step} | failed (exit ${r.rc}) | | | | | see \`${r.name}.err\` |`)
    : rows.push(
        `| ${step} | ${s(wall)} | ${x ?? (floor && wall ? times(wall, floor) : 'n/a')} | ` +
          `${rss === undefined ? 'n/a' : rss.toFixed(0)} | ${temp ?? 'n/a'} | ${out ?? 'n/a'} | ${how} |`,
      );
row('floor: `cp` of the input', floorCp, {
  temp: '0',
  out: mb(image.bytes),
  rss: undefined,
  how: 'reads and writes the input once',
});
row('floor: `openssl dgst -sha256` of the flat layer', floorSha, {
  temp: '0',
  out: '—',
  rss: undefined,
  how: `${mb(flatLayerBytes)} MB, the diff_id every flattener must compute`,
});
row('**floor** (sum of the two)', undefined, { wall: floor, x: '1.00×', rss: undefined, temp: '—', out: '—' });
row('layerflat docker-archive → docker-archive', lfDa, {
  temp: mb(lfTemp('lf-docker-archive')),
  out: mb(notes.get('lf-docker-archive.outputBytes')),
  how: 'uncompressed layer (the docker-archive default)',
});
row('layerflat docker-archive → OCI layout, gzip', lfOci, {
  temp: mb(lfTemp('lf-oci-gzip')),
  out: mb(notes.get('lf-oci-gzip.outputBytes')),
  how: 'parallel gzip -6 on 2 cores',
});
row('`pigz -p 2 -6` of the flat layer', pigz, {
  temp: '0',
  out: mb(notes.get('pigzBytes')),
  how: 'the same bytes layerflat compresses',
});
row('layerflat OCI layout (gzip layers) → docker-archive', runs.get('lf-from-oci-gzip'), {
  temp: mb(lfTemp('lf-from-oci-gzip')),
  out: mb(notes.get('lf-from-oci-gzip.outputBytes')),
  how: 'skopeo copy of the same image; every layer gunzipped',
});
row('layerflat stdin → docker-archive', runs.get('lf-stdin'), {
  temp: mb(lfTemp('lf-stdin')),
  out: mb(notes.get('lf-stdin.outputBytes')),
  how: 'not seekable: spooled to TMPDIR once',
});
if (dockerRun) {
  row('docker create + export \\| import (dockerd, vfs)', dockerRun, {
    rss: Math.max(rssMB(dockerRun), (dockerRun.daemonHwmKB * 1024) / MB),
    temp: `${mb(dockerRun.fsUsedDeltaPeakBytes - flatLayerBytes)} (du: ${mb(dockerGrowth - flatLayerBytes)})`,
    out: `≈ ${mb(flatLayerBytes)} (in the store)`,
    how:
      `RSS: dockerd/containerd peak (client ${rssMB(dockerRun).toFixed(0)} MB); temp: peak drop of free space ` +
      "less the new tree (du: data-root growth less the new tree) — the container's two vfs copies; " +
      `\`docker load\` before it took ${s(runs.get('docker-load')?.wall)} s, not counted`,
  });
}
if (buildahRun) {
  row('buildah from + commit --squash (vfs)', buildahRun, {
    temp: `${mb(buildahRun.fsUsedDeltaPeakBytes - flatLayerBytes)} (du: ${mb(buildahGrowth - flatLayerBytes)})`,
    out: `≈ ${mb(flatLayerBytes)} (in the store)`,
    how:
      'temp: as for docker; the peak is above what the store keeps afterwards, so the commit also writes ' +
      `transient files; \`buildah pull docker-archive:\` before it took ${s(runs.get('buildah-pull')?.wall)} s, ` +
      'not counted',
  });
}

const seekable = [
  'lf-docker-archive',
  'lf-oci-gzip',
  'lf-from-oci-gzip',
  'lf-synth-file-1g',
  'lf-synth-file-4g',
  'lf-synth-file-1k',
  'lf-synth-paths-300k',
];
const r1g = rssMB(runs.get('lf-synth-file-1g'));
const r1k = rssMB(runs.get('lf-synth-file-1k'));
const rMany = rssMB(runs.get('lf-synth-paths-300k'));
const r4g = rssMB(runs.get('lf-synth-file-4g'));
const probe = (k) => notes.get(`memProbe.${k}`);
const probeHeaps =
  ['file-1k', 'file-1g', 'file-4g'].map((k) => `${k.replace('file-', '')} ${mb(probe(k)?.heapUsed)}`).join(', ') +
  ' MB';
const heapFlat =
  ['file-1k', 'file-1g', 'file-4g'].every((k) => probe(k)) &&
  Math.max(...['file-1k', 'file-1g', 'file-4g'].map((k) => probe(k).heapUsed)) -
    Math.min(...['file-1k', 'file-1g', 'file-4g'].map((k) => probe(k).heapUsed)) <=
    16e6;
const rssFlat = r1g && r4g && r1k ? Math.max(r1k, r1g, r4g) - Math.min(r1k, r1g, r4g) <= 16 : undefined;
/** holds: RSS flat; partly: what layerflat keeps (the heap) is flat but the process RSS is not. */
const sizeVerdict = rssFlat === undefined ? undefined : rssFlat ? true : heapFlat ? 'partly' : false;
const maxTemp = Math.max(...seekable.filter((n) => runs.has(n)).map(lfTemp));
const fromOci = jsonOut('lf-from-oci-gzip');
const daJson = jsonOut('lf-docker-archive');
const manyJson = jsonOut('lf-synth-paths-300k');

const targets = [
  [
    'docker-archive → docker-archive wall ≤ 1.5× floor',
    lfDa && floor ? `${s(lfDa.wall)} s = ${times(lfDa.wall, floor)} of ${s(floor)} s` : 'n/a',
    lfDa && floor ? lfDa.wall <= 1.5 * floor : undefined,
  ],
  [
    'peak RSS ≤ 200 MB: big image, uncompressed output',
    `→ docker-archive ${rssMB(lfDa)?.toFixed(0)} MB; ` +
      `OCI gzip → docker-archive ${rssMB(runs.get('lf-from-oci-gzip'))?.toFixed(0)} MB`,
    Math.max(rssMB(lfDa), rssMB(runs.get('lf-from-oci-gzip'))) <= 200,
  ],
  ['peak RSS ≤ 200 MB: big image, gzip output', `→ OCI gzip ${rssMB(lfOci)?.toFixed(0)} MB`, rssMB(lfOci) <= 200],
  ['peak RSS ≤ 200 MB: 300k paths in one layer', `${rMany?.toFixed(0)} MB`, rMany <= 200],
  [
    'RSS independent of file size',
    r1g && r4g
      ? `RSS: one 1 KiB file ${r1k?.toFixed(0)} MB, 1 GiB ${r1g.toFixed(0)} MB, 4 GiB ${r4g.toFixed(0)} MB; ` +
        `JS heap: ${probeHeaps}`
      : 'n/a',
    sizeVerdict,
  ],
  [
    'temp disk ≤ 64 MB for seekable inputs',
    `${mb(maxTemp)} MB (largest over the seekable runs)`,
    maxTemp <= 64 * 1024 * 1024,
  ],
  [
    'gzip OCI output ≤ 1.5× `pigz -p 2`',
    lfOci && pigz ? `${s(lfOci.wall)} s vs ${s(pigz.wall)} s = ${times(lfOci.wall, pigz.wall)}` : 'n/a',
    lfOci && pigz ? lfOci.wall <= 1.5 * pigz.wall : undefined,
  ],
  [
    'each compressed layer decompressed once',
    fromOci ? `layerPasses ${fromOci.layerPasses} for layersIn ${fromOci.layersIn}` : 'n/a',
    fromOci ? fromOci.layerPasses === fromOci.layersIn : undefined,
  ],
];
if (dockerRun && lfDa)
  targets.push([
    'ahead of `docker export \\| import`',
    `${times(dockerRun.wall, lfDa.wall)} faster (${s(dockerRun.wall)} s vs ${s(lfDa.wall)} s)`,
    undefined,
  ]);
if (buildahRun && lfDa)
  targets.push([
    'ahead of `buildah commit --squash`',
    `${times(buildahRun.wall, lfDa.wall)} faster (${s(buildahRun.wall)} s vs ${s(lfDa.wall)} s)`,
    undefined,
  ]);

const cmd = (name) => {
  const r = runs.get(name);
  if (!r) return undefined;
  const c = r.cmd.map((a) => (/^[\w./:=@+,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
  return `# ${name}\n${c}`;
};

const main = `# Benchmarks

Measured by \`scripts/bench.sh\` (\`npm run bench\`, as root): it builds a big realistic image with a
real engine once (\`scripts/bench/big-image.sh\`, cached under \`/var/cache/layerflat/bench/\`), then
times layerflat against the floor (what the disk itself needs) and against the peers that run here,
all in one run on the same input file. Raw results (\`results.jsonl\`, each run's \`/usr/bin/time -v\`
report and output) stay in \`${runDir}\`.

## Machine and run

| | |
| --- | --- |
| date (UTC) | ${date} |
| CPUs | ${nproc} × ${cpu} |
| RAM | ${(ramBytes / 2 ** 30).toFixed(1)} GiB |
| disk | ${(disk ?? '')
  .split(' ')
  .map((x, i) => ['', 'fs ', 'size ', 'free '][i] + x)
  .join(', ')} (\`lsblk\` name/rotational/size: ${blockDev || 'n/a'}) |
| kernel | ${kernel} |
| node | ${nodeVersion} |
| layerflat revision | ${notes.get('revision') ?? 'n/a'} (built by the run) |
| tools | ${pigzV}; ${opensslV}; dockerd ${dockerV}; ${buildahV} |
| page cache dropped before each timed step | ${dropped} (\`sync; echo 3 > /proc/sys/vm/drop_caches\`) |
| load average (1/5/15 min) | before ${notes.get('loadBefore')}, after ${notes.get('loadAfter')}; \
1-min load at each step's start is in \`results.jsonl\` |

## The input

A \`docker save\` of \`scripts/bench/big-image.Dockerfile\`, built by dockerd on vfs FROM a debootstrap'd
Debian bookworm minbase: python3, perl, gcc/g++, Boost headers, numpy/scipy/matplotlib/pandas,
OpenJDK 17, Go 1.19, TeX Live, each in its own RUN step; the apt caches deleted in a later layer; a
\`chown -R\` over Boost, Go and Python's dist-packages (every file there written again); Go purged;
docs slimmed.

| | |
| --- | --- |
| archive | ${mb(image.bytes)} MB, ${image.layerCount} layers |
| tar entries over all layers | ${image.entriesInLayers?.toLocaleString('en-US')} |
| paths in the flat layer | ${daJson ? daJson.entries.kept.toLocaleString('en-US') : 'n/a'} (dropped: ${
  daJson
    ? Object.entries(daJson.entries.dropped)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ')
    : 'n/a'
}) |
| flat layer | ${mb(flatLayerBytes)} MB |
| layers (MB / entries) | ${(image.layers ?? []).map((l) => `${mb(l.bytes)}/${l.entries}`).join(', ')} |

## Results

Wall time in seconds; × = wall / floor; peak RSS in MB (10^6 bytes, from \`/usr/bin/time -v\`); temporary disk in MB is
what the run needed beyond its input and its final output (layerflat: peak of a fresh \`TMPDIR\` plus
anything the output dir held beyond the final output, sampled every 0.5 s).

| step | wall s | × floor | peak RSS MB | temp disk MB | output MB | notes |
| --- | ---: | ---: | ---: | ---: | ---: | --- |
${rows.join('\n')}

### Memory

| input | entries | largest file | peak RSS MB |
| --- | ---: | ---: | ---: |
| synthetic: one file | 2 | 1 GiB | ${r1g?.toFixed(0) ?? 'n/a'} |
| synthetic: one file | 2 | 4 GiB | ${r4g?.toFixed(0) ?? 'n/a'} |
| synthetic: one file | 2 | 1 KiB | ${r1k?.toFixed(0) ?? 'n/a'} |
| synthetic: many small files | ${manyJson ? manyJson.entries.in.toLocaleString('en-US') : 'n/a'} | 16 B | \
${rMany?.toFixed(0) ?? 'n/a'} |
| the big image | ${daJson ? daJson.entries.in.toLocaleString('en-US') : 'n/a'} | — | \
${rssMB(lfDa)?.toFixed(0) ?? 'n/a'} |

What the process held at its peak, sampled through the library API (\`scripts/bench/mem-probe.mjs\`,
\`process.memoryUsage()\` every 20 ms; MB): JS heap used / ArrayBuffers (read buffers, mostly consumed
and waiting for the garbage collector) / RSS.

| input | heap used | ArrayBuffers | RSS |
| --- | ---: | ---: | ---: |
${['file-1k', 'file-1g', 'file-4g', 'paths-300k', 'big']
  .filter(probe)
  .map((k) => `| ${k} | ${mb(probe(k).heapUsed)} | ${mb(probe(k).arrayBuffers)} | ${mb(probe(k).rss)} |`)
  .join('\n')}

A big file's data streams from the input file into the output file through a few reused
buffers (three 256 KiB read buffers, one 1 MiB write buffer, the digest thread's 1 MiB), so no
buffer is allocated per read. The "ArrayBuffers" column counts those reused buffers and, for
inputs with many entries, the short-lived header and window copies.

### Layer passes

\`layerflat flatten oci:…big-oci-gzip:big … --json\` (a skopeo copy of the same image with gzip layers):
layerPasses ${fromOci?.layerPasses ?? 'n/a'} for layersIn ${fromOci?.layersIn ?? 'n/a'}; each layer was gunzipped
${fromOci && fromOci.layerPasses === fromOci.layersIn ? 'exactly once' : 'more than once'}\
${fromOci ? ` (hardlinks re-homed: ${fromOci.entries.hardlinksRehomed})` : ''}.

## Targets

| target | measured | |
| --- | --- | --- |
${targets.map(([t, m, c]) => `| ${t} | ${m} | ${c === undefined ? '' : ok(c)} |`).join('\n')}

## Commands

Each timed step ran as \`/usr/bin/time -v CMD\` after \`sync; echo 3 > /proc/sys/vm/drop_caches\`.
layerflat ran with \`TMPDIR\` set to a fresh empty directory.

\`\`\`sh
${[
  'floor-cp',
  'floor-sha256',
  'lf-docker-archive',
  'lf-oci-gzip',
  'pigz-p2',
  'lf-from-oci-gzip',
  'lf-stdin',
  'lf-synth-file-1g',
  'lf-synth-file-4g',
  'lf-synth-file-1k',
  'lf-synth-paths-300k',
  'docker-load',
  'docker-export-import',
  'buildah-pull',
  'buildah-squash',
]
  .map(cmd)
  .filter(Boolean)
  .join('\n')}
\`\`\`
`;

// Sections other scripts write (and the hand-kept notes) survive a new report, in this order.
const KEPT_SECTIONS = [
  '## Notes',
  '## Against the previous revision',
  '## Deep paths',
  '## Registry to registry',
  '## End-to-end VFS cost',
];
let tail = '';
if (docPath !== '-' && existsSync(docPath)) {
  const old = readFileSync(docPath, 'utf8');
  for (const heading of KEPT_SECTIONS) {
    const at = old.search(new RegExp(`^${heading}$`, 'm'));
    if (at < 0) continue;
    const rest = old.slice(at);
    const next = rest.slice(1).search(/^## /m);
    tail += `\n${next >= 0 ? rest.slice(0, next + 1) : rest}`;
  }
}
const text = `${main}${tail.replace(/\n{3,}/g, '\n\n').replace(/\n+$/, '\n')}`;
if (docPath === '-') process.stdout.write(text);
else writeFileSync(docPath, text);
