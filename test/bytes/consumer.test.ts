import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { coalesce } from '../../src/bytes/consumer.js';

describe('coalesce', () => {
  it('coalesces small chunks', async () => {
    const parts = Array.from({ length: 100 }, () => Buffer.alloc(512, 1));
    const out: Buffer[] = [];
    for await (const c of coalesce(Readable.from(parts), 4096)) out.push(c);
    expect(out.map((b) => b.length)).toEqual([...Array(12).fill(4096), 2048]);
  });
});
