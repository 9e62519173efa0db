#!/usr/bin/env bash
# Benchmark layerflat's compression module against the usual tools.
#
#   scripts/bench-gzip.sh [DATA_FILE] [REPS]
#
# Compiles src/compress into .bench/dist (only that module, so it works while other parts of
# the tree do not build), makes ~200 MB of realistic tar data from /usr if no DATA_FILE is given,
# and prints wall time, MB/s (of uncompressed data), CPU time (user+sys, all threads) and ratio,
# best of REPS (default 3) runs
# (contenders run round-robin so they share whatever background load there is):
#   - compress:   ParallelGzip at levels 1, 4, 5 and 6 (default threads and block size),
#                 single-threaded node:zlib createGzip, pigz -p <cores>, gzip, zstd via compressStream
#   - decompress: our decompress() for gzip and zstd, vs gzip -dc / pigz -dc / zstd -dc
# Output goes to /dev/null; the input is read once beforehand so it is in the page cache.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-}
REPS=${2:-3}
OUT=.bench
mkdir -p "$OUT"

npx tsc --outDir "$OUT/dist" --rootDir src --target ES2022 --module NodeNext --moduleResolution NodeNext \
  --strict --skipLibCheck --types node --declaration false --sourceMap false \
  src/compress/index.ts src/image/digest.ts

if [[ -z "$DATA" ]]; then
  DATA=$OUT/data.tar
  if [[ ! -s $DATA ]]; then
    echo "making $DATA (binaries, shared libraries, headers, python) ..." >&2
    {
      tar -cf - -C / usr/bin 2>/dev/null | head -c 60000000 || true
      tar -cf - -C / usr/lib 2>/dev/null | head -c 60000000 || true
      tar -cf - -C / usr/include 2>/dev/null | head -c 40000000 || true
      tar -cf - -C / usr/share 2>/dev/null | head -c 40000000 || true
    } > "$DATA"
  fi
fi

cat > "$OUT/bench.mjs" <<'JS'
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
const dist = new URL('./dist/', import.meta.url);
const { ParallelGzip, compressStream, decompress, defaultGzipThreads, DEFAULT_BLOCK_SIZE, DEFAULT_GZIP_LEVEL, findExecutable } =
  await import(new URL('compress/index.js', dist).href);

const [data, repsArg, scratch] = process.argv.slice(2);
const reps = Number(repsArg);
const size = statSync(data).size;
readFileSync(data); // warm the page cache
const cores = availableParallelism();
const mb = (b) => b / 1e6;

/**
 * Run the contenders round-robin, `reps` rounds, so that they all see the same background load;
 * report each one's best wall time.
 */
async function compare(contenders, showRatio = true) {
  const best = contenders.map(() => ({ s: Infinity, out: 0, cpu: 0 }));
  for (let r = 0; r < reps; r++) {
    for (const [i, [, fn]] of contenders.entries()) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const res = await fn();
      const s = (performance.now() - t0) / 1000;
      const c = process.cpuUsage(c0);
      const out = typeof res === 'number' ? res : res.out;
      const cpu = typeof res === 'number' ? (c.user + c.system) / 1e6 : res.cpu;
      if (s < best[i].s) best[i] = { s, out, cpu };
    }
  }
  for (const [i, [name]] of contenders.entries()) report(name, best[i], showRatio);
}
function report(name, { s, out, cpu }, showRatio = true) {
  const ratio = showRatio ? ` ratio ${(out / size).toFixed(3)}` : '';
  const cpuText = Number.isFinite(cpu) ? ` cpu ${cpu.toFixed(2).padStart(5)} s` : '';
  console.log(`${name.padEnd(40)} ${s.toFixed(2).padStart(6)} s ${mb(size / s).toFixed(0).padStart(5)} MB/s${cpuText}${ratio}`);
}
async function viaStream(makeTransform, input = data) {
  const t = makeTransform();
  let n = 0;
  t.on('data', (c) => (n += c.length));
  await pipeline(createReadStream(input, { highWaterMark: 1 << 20 }), t, createWriteStream('/dev/null'));
  return n;
}
const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
/** Run a tool on `input`; its CPU time (user + sys) comes from /usr/bin/time when there is one. */
function viaTool(cmd, args, input = data) {
  return new Promise((resolve, reject) => {
    const [file, argv] = timeBin ? [timeBin, ['-f', 'LFCPU %U %S', cmd, ...args]] : [cmd, args];
    const p = spawn(file, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    let n = 0;
    let err = '';
    p.stdout.on('data', (c) => (n += c.length));
    p.stderr.on('data', (c) => (err += c));
    createReadStream(input).pipe(p.stdin);
    p.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${cmd} exit ${code}: ${err}`));
      const m = /LFCPU ([\d.]+) ([\d.]+)/.exec(err);
      resolve({ out: n, cpu: m ? Number(m[1]) + Number(m[2]) : NaN });
    });
  });
}
async function decode(file) {
  const { stream } = await decompress(createReadStream(file, { highWaterMark: 1 << 20 }), file);
  let n = 0;
  for await (const c of stream) n += c.length;
  return n;
}

console.log(`data ${data}: ${mb(size).toFixed(0)} MB; ${cores} CPUs; node ${process.version}; ` +
  `default gzip level ${DEFAULT_GZIP_LEVEL}, threads ${defaultGzipThreads()}, block ${DEFAULT_BLOCK_SIZE / 1024} KiB; best of ${reps}`);
console.log('-- compress');
const hasPigz = !!findExecutable('pigz');
for (const level of [1, 4, 5, 6]) {
  await compare([
    [`layerflat ParallelGzip -${level}`, () => viaStream(() => new ParallelGzip({ level }))],
    ...(hasPigz ? [[`pigz -p ${cores} -${level}`, () => viaTool('pigz', ['-p', String(cores), `-${level}`, '-c'])]] : []),
    [`node:zlib createGzip -${level} (1 thread)`, () => viaStream(() => zlib.createGzip({ level }))],
  ]);
}
if (findExecutable('gzip')) await compare([['gzip -6 (1 thread)', () => viaTool('gzip', ['-6', '-c'])]]);
if (findExecutable('zstd')) {
  await compare([
    ['layerflat compressStream zstd -3 -T0', async () => ({ out: await viaStream(() => compressStream('zstd')), cpu: NaN })],
    ['zstd -3 -T0', () => viaTool('zstd', ['-q', '-3', '-T0', '-c'])],
  ]);
}

console.log('-- decompress (MB/s of output)');
const gz = `${scratch}/d.gz`, zs = `${scratch}/d.zst`;
await pipeline(createReadStream(data), new ParallelGzip({ level: 6 }), createWriteStream(gz));
await compare([
  ['layerflat decompress gzip', () => decode(gz)],
  ...(findExecutable('gzip') ? [['gzip -dc', () => viaTool('gzip', ['-dc'], gz)]] : []),
  ...(hasPigz ? [['pigz -dc', () => viaTool('pigz', ['-dc'], gz)]] : []),
], false);
if (findExecutable('zstd')) {
  await pipeline(createReadStream(data), compressStream('zstd'), createWriteStream(zs));
  await compare([
    ['layerflat decompress zstd', async () => ({ out: await decode(zs), cpu: NaN })], // CPU is zstd's, not ours
    ['zstd -dc', () => viaTool('zstd', ['-dc'], zs)],
  ], false);
}
JS

node "$OUT/bench.mjs" "$DATA" "$REPS" "$OUT"
