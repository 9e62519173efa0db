import { describe, expect, it } from 'vitest';
import { ReadAhead } from '../../src/bytes/read-ahead.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('ReadAhead', () => {
  it('reads ahead up to its cap only, then hands over every byte in order', async () => {
    let pulled = 0;
    let finished = false;
    async function* source() {
      try {
        for (let i = 0; i < 10; i++) {
          pulled++;
          yield Buffer.alloc(100, i);
        }
      } finally {
        finished = true;
      }
    }
    const ahead = new ReadAhead(source(), 250);
    await tick();
    expect(pulled).toBe(3); // 300 bytes queued ≥ the cap of 250: it stops asking
    const got: number[] = [];
    for await (const c of ahead.chunks()) got.push(c[0]!);
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(finished).toBe(true);
  });

  it("passes the source's error on after the bytes that came before it", async () => {
    async function* source() {
      yield Buffer.from('a');
      throw new Error('dropped');
    }
    const ahead = new ReadAhead(source(), 10);
    const got: string[] = [];
    await expect(
      (async () => {
        for await (const c of ahead.chunks()) got.push(c.toString());
      })(),
    ).rejects.toThrow('dropped');
    expect(got).toEqual(['a']);
  });

  it('cancel releases the source (its finally runs)', async () => {
    let released = false;
    async function* source() {
      try {
        for (;;) yield Buffer.alloc(10);
      } finally {
        released = true;
      }
    }
    const ahead = new ReadAhead(source(), 20);
    await tick();
    ahead.cancel();
    await tick();
    expect(released).toBe(true);
  });
});
