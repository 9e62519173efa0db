/** Perf sanity (prints numbers, asserts nothing about speed): readTar over in-memory archives. */
import { describe, expect, it } from 'vitest';
import { readTar } from '../../src/tar/reader.js';
import { buildHeader, END_OF_ARCHIVE, paddingFor } from '../../src/tar/writer.js';
import { rechunk } from '../helpers/rechunk.js';

function archive(count: number, size: number): Buffer {
  const data = Buffer.alloc(size, 0x5a);
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    parts.push(
      buildHeader({ path: `dir${i % 100}/file-${i}`, type: 'file', mode: 0o644, size }),
      data,
      paddingFor(size),
    );
  }
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

async function measure(label: string, tar: Buffer, readBodies: boolean): Promise<void> {
  await pass(tar, readBodies); // warm up the JIT
  const t0 = performance.now();
  const { entries, bytes } = await pass(tar, readBodies);
  const ms = performance.now() - t0;
  const mbs = tar.length / 1e6 / (ms / 1000);
  const rate = ((entries / ms) * 1000).toFixed(0);
  console.log(
    `${label}: ${entries} entries, ${(tar.length / 1e6).toFixed(0)} MB in ${ms.toFixed(0)} ms = ` +
      `${mbs.toFixed(0)} MB/s, ${rate} entries/s`,
  );
  expect(entries).toBeGreaterThan(0);
  if (readBodies) expect(bytes).toBeGreaterThan(0);
}

async function pass(tar: Buffer, readBodies: boolean): Promise<{ entries: number; bytes: number }> {
  let entries = 0;
  let bytes = 0;
  for await (const item of readTar(rechunk(tar, 64 * 1024))) {
    entries++;
    if (readBodies) for await (const chunk of item.body()) bytes += chunk.length;
  }
  return { entries, bytes };
}

describe('readTar throughput (64 KiB chunks)', () => {
  const big = archive(200, 1 << 20);
  const small = archive(50_000, 100);

  it('200 MB of 1 MB files, bodies read', () => measure('1 MB files, bodies read', big, true));
  it('200 MB of 1 MB files, bodies skipped', () => measure('1 MB files, bodies skipped', big, false));
  it('50k small entries, bodies read', () => measure('50k small entries, bodies read', small, true));
  it('50k small entries, bodies skipped', () => measure('50k small entries, bodies skipped', small, false));
});
