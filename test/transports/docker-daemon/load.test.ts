import { describe, expect, it } from 'vitest';
import { errorOf } from '../../../src/transports/docker-daemon/load.js';

describe("errorOf (a line of POST /images/load's JSON stream)", () => {
  it('finds the error a line reports', () => {
    const line = JSON.stringify({ errorDetail: { message: 'unexpected EOF\nmore' }, error: 'unexpected EOF' });
    expect(errorOf(line)).toBe('unexpected EOF');
    expect(errorOf(JSON.stringify({ error: 'no space left on device' }))).toBe('no space left on device');
  });

  it('passes progress and success lines', () => {
    expect(errorOf(JSON.stringify({ stream: 'Loaded image: x:1\n' }))).toBeUndefined();
    expect(errorOf('')).toBeUndefined();
    expect(errorOf('not json')).toBeUndefined();
  });
});
