#!/usr/bin/env bash
# Benchmark layerflat's compression module against the usual tools.
#
#   scripts/bench-gzip.sh [DATA_FILE] [REPS]
#
# Compiles src/compress into .bench/dist (only that module, so it works while other parts of
# the tree do not build), makes ~200 MB of realistic tar data from /usr if no DATA_FILE is given,
# and prints wall time, MB/s (of uncompressed data) and ratio, best of REPS (default 3) runs:
#   - compress:   ParallelGzip at levels 1, 4 and 6 (default threads and block size),
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
import { createReadStream, createWriteStream, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
const dist = new URL('./dist/', import.meta.url);
const { ParallelGzip, compressStream, decompress, defaultGzipThreads, DEFAULT_BLOCK_SIZE, findExecutable } =
  await import(new URL('compress/index.js', dist).href);

const [data, repsArg, scratch] = process.argv.slice(2);
const reps = Number(repsArg);
const size = statSync(data).size;
readFileSync(data); // warm the page cache
const cores = availableParallelism();
const mb = (b) => b / 1e6;

async function time(fn) {
  let best = Infinity, out = 0;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    out = await fn();
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return { s: best, out };
}
function report(name, { s, out }, showRatio = true) {
  const rawBytes = size;
  const ratio = showRatio ? ` ratio ${(out / rawBytes).toFixed(3)}` : '';
  console.log(`${name.padEnd(44)} ${s.toFixed(2).padStart(6)} s ${mb(rawBytes / s).toFixed(0).padStart(5)} MB/s${ratio}`);
}
async function viaStream(makeTransform, input = data) {
  const t = makeTransform();
  let n = 0;
  t.on('data', (c) => (n += c.length));
  await pipeline(createReadStream(input, { highWaterMark: 1 << 20 }), t, createWriteStream('/dev/null'));
  return n;
}
function viaTool(cmd, args, input = data) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: [ 'pipe', 'pipe', 'inherit' ] });
    let n = 0;
    p.stdout.on('data', (c) => (n += c.length));
    createReadStream(input).pipe(p.stdin);
    p.on('close', (code) => (code === 0 ? resolve(n) : reject(new Error(`${cmd} exit ${code}`))));
  });
}
async function decode(file) {
  const { stream } = await decompress(createReadStream(file, { highWaterMark: 1 << 20 }), file);
  let n = 0;
  for await (const c of stream) n += c.length;
  return n;
}

console.log(`data ${data}: ${mb(size).toFixed(0)} MB; ${cores} CPUs; node ${process.version}; ` +
  `default gzip threads ${defaultGzipThreads()}, block ${DEFAULT_BLOCK_SIZE / 1024} KiB; best of ${reps}`);
console.log('-- compress');
for (const level of [1, 4, 6]) {
  report(`layerflat ParallelGzip -${level}`, await time(() => viaStream(() => new ParallelGzip({ level }))));
  if (findExecutable('pigz')) report(`pigz -p ${cores} -${level}`, await time(() => viaTool('pigz', ['-p', String(cores), `-${level}`, '-c'])));
  report(`node:zlib createGzip -${level} (1 thread)`, await time(() => viaStream(() => zlib.createGzip({ level }))));
}
if (findExecutable('gzip')) report('gzip -6 (1 thread)', await time(() => viaTool('gzip', ['-6', '-c'])));
if (findExecutable('zstd')) {
  report('layerflat compressStream zstd -3 -T0', await time(() => viaStream(() => compressStream('zstd'))));
}

console.log('-- decompress (MB/s of output)');
const gz = `${scratch}/d.gz`, zs = `${scratch}/d.zst`;
await pipeline(createReadStream(data), new ParallelGzip({ level: 6 }), createWriteStream(gz));
report('layerflat decompress gzip', await time(() => decode(gz)), false);
if (findExecutable('gzip')) report('gzip -dc', await time(() => viaTool('gzip', ['-dc'], gz)), false);
if (findExecutable('pigz')) report('pigz -dc', await time(() => viaTool('pigz', ['-dc'], gz)), false);
if (findExecutable('zstd')) {
  await pipeline(createReadStream(data), compressStream('zstd'), createWriteStream(zs));
  report('layerflat decompress zstd', await time(() => decode(zs)), false);
  report('zstd -dc', await time(() => viaTool('zstd', ['-dc'], zs)), false);
}
JS

node "$OUT/bench.mjs" "$DATA" "$REPS" "$OUT"
