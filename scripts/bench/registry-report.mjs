#!/usr/bin/env node
// scripts/bench/registry-report.mjs RUN_DIR... — the "## Registry to registry" section body (markdown,
// on stdout) from each RUN_DIR/results.jsonl that scripts/bench/registry.sh wrote (one RUN_DIR per
// image); the script puts it into docs/benchmarks.md with scripts/e2e/doc-section.mjs.
import { readFileSync } from 'node:fs';

const runDirs = process.argv.slice(2);
if (!runDirs.length) {
  console.error('usage: registry-report.mjs RUN_DIR...');
  process.exit(2);
}

const MB = 1e6;
const mb = (b) => (b === undefined || Number.isNaN(b) ? 'n/a' : (b / MB).toFixed(b < 10 * MB ? 1 : 0));
const s1 = (x) => (x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(1));
const median = (xs) => {
  const a = [...xs].sort((x, y) => x - y);
  if (!a.length) return NaN;
  return a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
};
const range = (xs) => (xs.length ? `${s1(Math.min(...xs))}–${s1(Math.max(...xs))}` : 'n/a');
/** "`repo1`, `repo2`: TEXT; `repo3`: OTHER" — the repositories whose upload counts read the same, together */
const groupBy = (mounts, text) => {
  const groups = new Map();
  for (const m of mounts) groups.set(text(m), [...(groups.get(text(m)) ?? []), `\`${m.repo}\``]);
  return [...groups].map(([t, repos]) => `${repos.join(', ')}: ${t}`).join('; ');
};
const loadavg = (u) => /load average: .*/.exec(u ?? '')?.[0] ?? 'n/a';

const STEPS = [
  ['skopeo-same', '`skopeo copy` R1/bench/src:latest → R1/bench/copy-N:latest (same registry)'],
  ['skopeo-reg2', '**floor**: `skopeo copy` R1/bench/src:latest → R2/bench/copy:latest (a second, empty registry)'],
  ['lf-gzip', '`layerflat flatten` R1/bench/src:latest → R1/bench/flat-gzip:rN (default: gzip)'],
  ['lf-none', '`layerflat flatten … --compress none` → R1/bench/flat-none:rN'],
  ['lf-verify', '`layerflat flatten … --verify` → R1/bench/flat-verify:rN (gzip)'],
  ['lf-archive', '`layerflat flatten` R1/bench/src:latest → docker-archive file (uncompressed)'],
  ['lf-reg2', '`layerflat flatten` R1/bench/src:latest → R2/bench/flat-gzip:latest (gzip, a second, empty registry)'],
];

/** Everything one RUN_DIR says. */
function load(runDir) {
  const lines = readFileSync(`${runDir}/results.jsonl`, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  const notes = new Map(lines.filter((l) => l.note).map((l) => [l.note, l.value]));
  const measured = lines.filter((l) => l.name);
  const read = (file) => {
    try {
      return readFileSync(`${runDir}/${file}`, 'utf8');
    } catch {
      return undefined;
    }
  };
  const jsonOut = (name) => {
    try {
      return JSON.parse(read(`${name}.out`) ?? '');
    } catch {
      return undefined;
    }
  };
  /** user + sys CPU seconds from a `/usr/bin/time -v` report */
  const cpuSeconds = (name) => {
    const t = read(`${name}.time`) ?? '';
    const get = (label) => Number(new RegExp(`${label} \\(seconds\\): ([\\d.]+)`).exec(t)?.[1] ?? NaN);
    return get('User time') + get('System time');
  };
  /** the error line of a failed run: layerflat's `layerflat: error …`, else the last line of stderr */
  const errorLine = (name) => {
    const err = (read(`${name}.err`) ?? '')
      .split('\n')
      .filter((l) => l.trim() && !/^\s*Command (exited|terminated)/.test(l));
    return [...err].reverse().find((l) => /error/i.test(l)) ?? err[err.length - 1] ?? '?';
  };
  const emptyDir = notes.get('emptyDirBytes') ?? 0;
  const stats = new Map();
  for (const [step] of STEPS) {
    const runs = measured.filter((r) => r.name.startsWith(`${step}.r`));
    if (!runs.length) continue;
    const ok = runs.filter((r) => r.rc === 0);
    const basis = ok.length ? ok : runs; // memory and disk of failed runs still tell something
    stats.set(step, {
      runs,
      ok,
      failed: runs.filter((r) => r.rc !== 0),
      wall: ok.length ? median(ok.map((r) => r.wall)) : NaN,
      cpu: ok.length ? median(ok.map((r) => cpuSeconds(r.name))) : NaN,
      rssMB: Math.max(...basis.map((r) => (r.rssKB * 1024) / MB)),
      tempBytes: Math.max(...basis.map((r) => Math.max(0, (r.watchPeakBytes[0] ?? 0) - emptyDir))),
      tmpLeft: Math.max(...runs.map((r) => notes.get(`${r.name}.tmpLeftEntries`) ?? 0)),
      growth: notes.get(`${step}.r1.registryGrowthBytes`),
      output: notes.get(`${step}.r1.outputBytes`),
      loads: runs.map((r) => Number(r.load)),
    });
  }
  return { notes, stats, jsonOut, errorLine, read };
}

const runsData = runDirs.map(load);
const first = runsData[0].notes;
const [nproc, cpu, ramBytes, nodeVersion, lfVersion, revision, registryV, skopeoV, date, dropped, fs] =
  first.get('machine') ?? [];

/** The subsection of one image. */
function imageSection({ notes, stats, jsonOut, errorLine, read }) {
  const st = (k) => stats.get(k);
  const good = (k) => st(k) && st(k).ok.length > 0;
  const image = notes.get('image') ?? {};
  const [imagePath, imageKind, imageBytes, imageTitle] = notes.get('imageFile') ?? [];
  const manifest = notes.get('srcManifest') ?? { layers: [], config: {} };
  const inputBytes = manifest.layers.reduce((n, l) => n + l.size, 0) + (manifest.config?.size ?? 0);
  const layerTypes = [...new Set(manifest.layers.map((l) => l.mediaType))];
  const layerTarBytes = (image.layers ?? []).reduce((n, l) => n + l.bytes, 0);
  const lfNone = jsonOut('lf-none.r1') ?? jsonOut('lf-none.r2') ?? jsonOut('lf-none.r3');
  const lfArchive = jsonOut('lf-archive.r1');
  const lfGzip = jsonOut('lf-gzip.r1') ?? jsonOut('lf-reg2.r1');
  const flat = lfNone ?? lfArchive;
  const loads = [...stats.values()].flatMap((x) => x.loads).filter((x) => !Number.isNaN(x));
  const nRuns = Math.max(0, ...[...stats.values()].map((x) => x.runs.length));
  const ratio = (a, b) => (good(a) && good(b) ? `${(st(a).wall / st(b).wall).toFixed(2)}×` : 'n/a');

  // what R1's access log says of skopeo's uploads: the untimed probe, then each timed copy-N
  const probe = notes.get('probe');
  const timed = [...notes.entries()].filter(([k]) => /^skopeo-same\.r\d+\.mounts$/.test(k)).map(([, v]) => v);
  const skipped =
    (notes.get('probeSkippedLines') ?? 0) +
    [...notes.entries()].filter(([k]) => /^skopeo-same\.r\d+\.skippedLines$/.test(k)).reduce((n, [, v]) => n + v, 0);
  const mounts = probe ? [probe, ...timed] : timed;
  const what = (u) =>
    u.uploaded.length === 0
      ? 'nothing uploaded'
      : `${u.uploaded.length} blob${u.uploaded.length > 1 ? 's' : ''} uploaded (${u.uploaded
          .map((d) => (d === manifest.config?.digest ? 'the config' : `\`${d.slice(0, 19)}…\``))
          .join(', ')})`;
  const mountedAll = mounts.length > 0 && mounts.every((m) => m.mounted > 0);
  let mountText;
  if (!mounts.length) mountText = 'The same-registry copy did not run.';
  else if (mounts.some((m) => m.mounted > 0))
    mountText =
      "Into another repository of the same registry, distribution **mounted** the layers: in R1's access log, " +
      groupBy(mounts, (m) => `${m.mounted} \`mount=\` requests answered 201, ${m.refused} 202, ${what(m)}`) +
      ` (the image has ${manifest.layers.length} layers and a config). skopeo printed ` +
      (skipped
        ? `${skipped} "skipped: already exists" lines`
        : 'no "skipped: already exists" line, only "Copying blob …"') +
      '. So that copy moves a manifest and a config and is no floor' +
      (st('skopeo-reg2')
        ? '; the I/O floor is `skopeo copy` into the second registry R2, stopped, emptied and started again before ' +
          'every run: every blob byte read from R1 and written to R2.'
        : '.') +
      (mountedAll ? '' : ' (Not every copy mounted: see the counts.)');
  else
    mountText =
      'Into another repository of the same registry, distribution did **not** mount the layers (' +
      groupBy(mounts, (m) => `${m.refused} \`mount=\` requests answered 202, ${what(m)}`) +
      '): every blob byte was read and written, so that copy is the I/O floor.';

  const rows = STEPS.filter(([step]) => stats.has(step)).map(([step, label]) => {
    const x = st(step);
    const firstFailed = x.runs.find((r) => r.name === `${step}.r1`)?.rc !== 0;
    const growth =
      x.output !== undefined
        ? `— (archive ${mb(x.output)} MB)`
        : x.growth === undefined
          ? 'n/a'
          : `${mb(x.growth)}${firstFailed && x.growth > MB ? ' (a failed upload, left)' : ''}`;
    const mark = x.ok.length ? '' : ' (failed runs)';
    const median = !x.ok.length
      ? '**failed**'
      : `${s1(x.wall)}${x.ok.length < x.runs.length ? ` (${x.ok.length} of ${x.runs.length} ok)` : ''}`;
    const rate = !x.ok.length
      ? '—'
      : step === 'skopeo-same' && mountedAll
        ? '— (mounted)'
        : s1(inputBytes / MB / x.wall);
    return (
      `| ${label} | ${x.runs.map((r) => (r.rc === 0 ? s1(r.wall) : `${s1(r.wall)} ✗`)).join(', ')} | ` +
      `${median} | ${rate} | ${s1(x.cpu)} | ${x.rssMB.toFixed(0)}${mark} | ${x.tempBytes}${mark} | ${growth} |`
    );
  });

  const floorStep = st('skopeo-reg2') ? 'skopeo-reg2' : 'skopeo-same';
  const lfVsFloor = st('lf-reg2') ? 'lf-reg2' : 'lf-gzip';
  // 2-4 sentences: the floor, layerflat against it and why, what the gzip and --verify cost, memory and disk
  const say = [];
  if (good(floorStep)) {
    say.push(
      `The floor, \`skopeo copy\` into ${floorStep === 'skopeo-reg2' ? 'a second registry' : 'another repository'}, ` +
        `moves the ${mb(inputBytes)} MB of gzip blobs unchanged in ${s1(st(floorStep).wall)} s ` +
        `(${s1(inputBytes / MB / st(floorStep).wall)} MB/s, ${s1(st(floorStep).cpu)} s of skopeo CPU).`,
    );
  }
  if (good(lfVsFloor) && good(floorStep)) {
    const busy = st(lfVsFloor).cpu / (st(lfVsFloor).wall * nproc);
    say.push(
      `layerflat into the same place takes ${s1(st(lfVsFloor).wall)} s, ${ratio(lfVsFloor, floorStep)} the floor, ` +
        `with ${s1(st(lfVsFloor).cpu)} s of CPU (${(busy * 100).toFixed(0)}% of ${nproc} cores over its wall time), ` +
        `because unlike a copy it gunzips every layer (${mb(flat?.bytes?.tarIn)} MB of tar), merges them and gzips ` +
        `the ${mb(flat?.bytes?.tarOut)} MB flat layer (to ${mb(lfGzip?.bytes?.written)} MB)` +
        (busy >= 0.8
          ? ': it is bound by CPU, not by the registry or the disk.'
          : loads.length && Math.min(...loads) > nproc
            ? '; it had to share the CPUs (a 1-min load of ' +
              `${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} ` +
              `on ${nproc} CPUs), so on an idle machine it would be faster.`
            : '.'),
    );
  } else if (st(lfVsFloor) && !good(lfVsFloor)) {
    say.push('layerflat into the same place failed in every run (see below), so it has no number against the floor.');
  }
  const partly = (k) =>
    st(k).ok.length < st(k).runs.length ? `, ${st(k).ok.length} of ${st(k).runs.length} runs succeeded` : '';
  const others = [];
  if (good('lf-none'))
    others.push(
      `${s1(st('lf-none').wall)} s with \`--compress none\` ` +
        `(${ratio('lf-none', floorStep)} the floor${partly('lf-none')})`,
    );
  if (good('lf-archive'))
    others.push(
      `${s1(st('lf-archive').wall)} s into a docker-archive file ` +
        `(${ratio('lf-archive', floorStep)}${partly('lf-archive')})`,
    );
  const costs = [];
  if (good('lf-none') && good('lf-gzip'))
    costs.push(`the gzip costs the other ${s1(st('lf-gzip').wall - st('lf-none').wall)} s of the default run`);
  if (good('lf-verify') && good('lf-gzip'))
    costs.push(
      `\`--verify\` adds ${s1(st('lf-verify').wall - st('lf-gzip').wall)} s (it reads the source and the pushed ` +
        'image again before the tag is set)',
    );
  if (others.length || costs.length)
    say.push(
      (others.length
        ? 'Without the gzip of the flat layer, which leaves the gunzip of the source and the merge, it takes ' +
          others.join(' and ')
        : '') +
        (others.length && costs.length ? '; ' : '') +
        costs.join(', and ') +
        '.',
    );
  const lfSteps = [...stats.keys()].filter((k) => k.startsWith('lf-'));
  if (lfSteps.length) {
    const maxTemp = Math.max(...lfSteps.map((k) => st(k).tempBytes));
    const maxLeft = Math.max(...lfSteps.map((k) => st(k).tmpLeft));
    const maxRss = Math.max(...lfSteps.map((k) => st(k).rssMB));
    say.push(
      (maxTemp === 0 && maxLeft === 0
        ? 'No layerflat run wrote a byte of temporary disk (its `TMPDIR` and `--tmp-dir` stayed empty at every sample)'
        : `layerflat's temporary directory peaked at ${maxTemp} bytes (${maxLeft} entries left at the end)`) +
        `, and its peak RSS was at most ${maxRss.toFixed(0)} MB` +
        (maxRss > 200 ? ' (above the 200 MB of the targets above)' : '') +
        ': layers stream from the registry into the merge, two read ahead, ' +
        'and the flat layer streams up as it is made.',
    );
  }

  const uuid = (t) => t.replace(/\/uploads\/[0-9a-f-]{36}/g, '/uploads/<uuid>');
  // each failed run as recorded: its exact command and its error line, no diagnosis
  const failures = [...stats.entries()]
    .filter(([, x]) => x.failed.length)
    .map(([step, x]) =>
      [
        `- ${step}: ${x.failed.length} of ${x.runs.length} runs failed, ` +
          `after ${range(x.failed.map((r) => r.wall))} s, exit ${[...new Set(x.failed.map((r) => r.rc))].join('/')}:`,
        ...x.failed.map(
          (r) => `  - ${r.name.slice(step.length + 1)}: \`${r.cmd.join(' ')}\` → \`${uuid(errorLine(r.name))}\``,
        ),
      ].join('\n'),
    );
  // what the registries logged of the uploads that broke off, and what their cancels were answered
  const regLogs = ['1', '2'].map((n) => read(`registry-${n}/registry.log`) ?? '');
  const cutOff = regLogs.flatMap((t) =>
    [...t.matchAll(/client disconnected during blob PATCH.* copied=(\d+)/g)].map((m) => Number(m[1])),
  );
  const deletes = regLogs.flatMap((t) =>
    [...t.matchAll(/"DELETE \/v2\/[^"]*\/blobs\/uploads\/[^"]*" (\d{3})/g)].map((m) => m[1]),
  );
  const deleteCodes = [...new Set(deletes)].map((c) => `${deletes.filter((d) => d === c).length} × ${c}`);
  const answered = deletes.length ? ` (answered ${deleteCodes.join(', ')})` : '';
  const uploadLog = !(failures.length || cutOff.length)
    ? ''
    : '\nThe registries logged ' +
      (cutOff.length
        ? `\`client disconnected during blob PATCH\` ${cutOff.length} time${cutOff.length > 1 ? 's' : ''}, after ` +
          (cutOff.length > 1
            ? `${mb(Math.min(...cutOff))}–${mb(Math.max(...cutOff))} MB of the upload each`
            : `${mb(cutOff[0])} MB of the upload`)
        : 'no `client disconnected during blob PATCH`') +
      (deletes.length
        ? `, and ${deletes.length} \`DELETE\` of an upload${answered}.`
        : ', and no `DELETE` of an upload.') +
      (cutOff.length
        ? " An upload cut mid-PATCH stays in the registry's upload area (the growth column) until its purge, " +
          'because distribution refuses the `DELETE` that would cancel it.'
        : '') +
      '\n';

  const entriesIn = image.entriesInLayers?.toLocaleString('en-US') ?? 'n/a';
  const imageRow =
    `${imageKind}: \`${imagePath}\`, ${mb(imageBytes)} MB, ${image.layerCount} layers ` +
    `(${mb(layerTarBytes)} MB of layer tars, ${entriesIn} entries)`;
  const registryRow =
    'pushed as `bench/src:latest` by ' +
    '`skopeo copy --dest-tls-verify=false docker-archive:FILE docker://R1/bench/src:latest` ' +
    `(${notes.get('pushSeconds')} s, not timed), which gzips each layer: ${manifest.layers.length} layers ` +
    `(${layerTypes.map((t) => `\`${t}\``).join(', ')}), ${mb(inputBytes)} MB with the config ` +
    `(R1's storage: ${mb(notes.get('srcRegistryBytes'))} MB) — the input of every step`;
  const flatRow =
    `${mb(flat?.bytes?.tarOut)} MB of tar (${flat?.entries?.kept?.toLocaleString('en-US') ?? 'n/a'} entries)` +
    `${lfGzip ? `, ${mb(lfGzip.bytes.written)} MB gzipped` : ''}; ` +
    `layerPasses ${flat?.layerPasses ?? 'n/a'} for layersIn ${flat?.layersIn ?? 'n/a'}`;
  const loadRange = loads.length ? `${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}` : 'n/a';
  const loadRow =
    `before: ${loadavg(notes.get('uptimeBefore'))}; after: ${loadavg(notes.get('uptimeAfter'))}; ` +
    `1-min load at the runs' starts ${loadRange}`;
  const tableHead =
    '| step | runs (s; ✗ failed) | median wall s | MB/s of input | CPU s | peak RSS MB | temp disk bytes ' +
    '| registry growth MB |';

  return `### ${imageTitle ?? imageKind}

| | |
| --- | --- |
| image | ${imageRow} |
| in the registry | ${registryRow} |
| flat layer | ${flatRow} |
| load (\`uptime\`) | ${loadRow} |

${nRuns} run${nRuns === 1 ? '' : 's'} of each step, round-robin.

${tableHead}
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

${mountText}

${say.join(' ')}
${
  failures.length
    ? '\nFailed runs (each with its exact command and its error, as recorded; ' +
      'R1 and R2 are the ports of that run):\n\n' +
      `${failures.join('\n')}\n`
    : ''
}${uploadLog}`;
}

const out = `Measured by \`scripts/bench/registry.sh\` (\`npm run bench:registry\`, as root) on ${date}. R1 and R2 are
\`docker-registry serve\` instances the script started on 127.0.0.1 (plain http, so \`--tls-verify=false\`), each with
its storage in a fresh directory; every image gets its own.

| | |
| --- | --- |
| machine | ${nproc} × ${cpu}, ${mb(ramBytes)} MB RAM, storage on ${fs}; node ${nodeVersion} |
| layerflat | ${lfVersion}, revision ${revision} |
| registry, copier | ${registryV}; ${skopeoV} |
| page cache dropped before each run | ${dropped} |

The steps run round-robin, so they share whatever background load there was (other work on the machine disturbs the
timings: see the load rows). Wall s: the **median** of the runs that succeeded (all listed); MB/s: of the
image's input in R1 (its compressed blobs); CPU s: median user + sys of the timed process alone (not the registry's);
peak RSS: the largest of the runs (\`/usr/bin/time -v\`, MB = 10^6 bytes); temp disk: the largest peak of the run's
fresh \`TMPDIR\` (also layerflat's \`--tmp-dir\`), \`du -sb\` every 0.2 s less the empty directory's own
${first.get('emptyDirBytes')} bytes; registry growth: the destination's storage, \`du -sb\` after less before, in the
first run (distribution keeps one copy of a blob per digest and the gzip flat layer is the same bytes in every run and
step, so only the first run to push it grows R1; R2 starts empty every run).

${runsData.map(imageSection).join('\n')}`;
process.stdout.write(out);
