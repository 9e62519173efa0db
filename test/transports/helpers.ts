/**
 * Helpers for transport tests: tiny images made in code, temporary directories, reading streams.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { afterEach } from 'vitest';
import type { ImageConfig, Layer, OutputImage, OutputLayer } from '../../src/image/types.js';
import { readLayerStored } from '../../src/layers/read.js';
import { buildTar, type EntrySpec } from '../helpers/tar-builder.js';

export const sha256 = (data: Buffer | string) => `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`;

/** A small layer tar. */
export function layerTar(files: Record<string, string> = { 'etc/': '', 'etc/hello': 'hello\n' }): Buffer {
  const specs: EntrySpec[] = Object.entries(files).map(([p, content]) =>
    p.endsWith('/') ? { path: p } : { path: p, content },
  );
  return buildTar(specs);
}

/** A config with the fields users care about, in a distinctive key order. */
export function sampleConfig(): ImageConfig {
  return {
    created: '2024-01-02T03:04:05Z',
    architecture: 'amd64',
    os: 'linux',
    config: {
      Env: ['PATH=/usr/bin:/bin', 'LANG=C.UTF-8'],
      Cmd: ['/bin/sh', '-c', 'echo hi'],
      WorkingDir: '/srv',
      Labels: { 'org.example': 'yes' },
      Healthcheck: { Test: ['CMD', 'true'], Interval: 30000000000 },
    },
    rootfs: { type: 'layers', diff_ids: [] },
    history: [{ created: '2024-01-02T03:04:05Z', created_by: 'layerflat test' }],
    'x-unknown-field': { kept: true },
  };
}

/** A new (uncompressed, open-once) layer from bytes. */
export function newLayer(data: Buffer): OutputLayer {
  return { kind: 'new', open: async () => Readable.from([data]) };
}

/** A one-layer output image. */
export function tinyImage(tags: string[] = ['example.com/tiny:1.0'], data: Buffer = layerTar()): OutputImage {
  return { config: sampleConfig(), layers: [newLayer(data)], tags };
}

/** A new layer whose stream fails after some bytes. */
export function failingLayer(after = 1024): OutputLayer {
  return {
    kind: 'new',
    open: async () =>
      new Readable({
        read() {
          this.push(Buffer.alloc(after, 1));
          this.destroy(new Error('boom: layer stream failed midway'));
        },
      }),
  };
}

export async function readAll(stream: AsyncIterable<Buffer | Uint8Array | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/** A source layer's stored bytes, read the one way the product reads them: checked. */
export async function readStored(layer: Layer): Promise<Buffer> {
  const read = await readLayerStored(layer);
  const bytes = await readAll(read.chunks);
  await read.checked;
  return bytes;
}

/** Decompress gzip or zstd bytes (zstd through the binary); plain bytes come back as they are. */
export function decompress(data: Buffer): Buffer {
  if (data[0] === 0x1f && data[1] === 0x8b) return zlib.gunzipSync(data);
  if (data.readUInt32LE(0) === 0xfd2fb528) {
    return execFileSync('zstd', ['-dc'], { input: data, maxBuffer: 1 << 30 });
  }
  return data;
}

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary directory, removed after the test. */
export function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-transport-test-'));
  made.push(d);
  return d;
}

/** Whether a program is on PATH. */
export function haveTool(name: string): boolean {
  return (process.env['PATH'] ?? '').split(':').some((d) => d && fs.existsSync(path.join(d, name)));
}
