#!/usr/bin/env node
// scripts/bench/mem-probe.mjs SRC DEST — run layerflat's flatten() through the library API while
// sampling process.memoryUsage() every 20 ms; prints the peaks (bytes) as JSON. Tells what the
// process RSS is made of: the JS heap (what layerflat keeps) vs ArrayBuffers (read buffers,
// mostly already consumed and waiting for the garbage collector).
import { flatten } from '../../dist/index.js';

const [source, dest] = process.argv.slice(2);
const peak = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
const sample = () => {
  const m = process.memoryUsage();
  for (const k of Object.keys(peak)) peak[k] = Math.max(peak[k], m[k]);
};
sample();
const timer = setInterval(sample, 20);
await flatten({ source, dest });
clearInterval(timer);
sample(); // a run shorter than one interval still reports
process.stdout.write(`${JSON.stringify(peak)}\n`);
