import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { TarStreamWriter } from '../../src/tar/archive-stream-writer.js';

/** A stream that keeps what it is given. */
function sink(): { out: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  return { out, bytes: () => Buffer.concat(chunks) };
}

async function* pieces(total: number, piece: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < total; at += piece) yield Buffer.alloc(Math.min(piece, total - at), 7);
}

describe('TarStreamWriter.addSized', () => {
  it('writes the header, every byte and the padding of a member whose producer succeeds', async () => {
    const { out, bytes } = sink();
    const writer = new TarStreamWriter(out);
    await writer.addSized('m', 3_000_000, (consume) => consume.write(pieces(3_000_000, 100_000)));
    expect(bytes().length).toBe(512 + 3_000_000 + (512 - (3_000_000 % 512)));
  });

  it.each([
    ['many writes', 3 << 20],
    ['one write short of 1 MiB', (1 << 20) - 512],
  ])(
    'holds the last piece back until the producer has resolved: one that fails after its last byte (%s) ' +
      'leaves the member short',
    async (_what, size) => {
      const { out, bytes } = sink();
      const writer = new TarStreamWriter(out);
      const failing = writer.addSized('m', size, async (consume) => {
        await consume.write(pieces(size, 64 * 1024)); // every byte of the member…
        throw new Error('the check failed'); // …and then its check fails
      });
      await expect(failing).rejects.toThrow('the check failed');
      expect(bytes().length).toBeGreaterThanOrEqual(512);
      expect(bytes().length, 'the member is cut short').toBeLessThan(512 + size);
    },
  );
});
