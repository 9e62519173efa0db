import { describe, expect, it } from 'vitest';
import {
  formatPlatform,
  hostPlatform,
  normalizePlatform,
  parsePlatform,
  platformMatches,
} from '../../src/image/platform.js';

describe('parsePlatform', () => {
  it.each([
    ['linux/amd64', { os: 'linux', architecture: 'amd64' }],
    ['linux/x86_64', { os: 'linux', architecture: 'amd64' }],
    ['linux/aarch64', { os: 'linux', architecture: 'arm64' }],
    ['linux/arm64/v8', { os: 'linux', architecture: 'arm64' }],
    ['linux/arm', { os: 'linux', architecture: 'arm', variant: 'v7' }],
    ['linux/arm/6', { os: 'linux', architecture: 'arm', variant: 'v6' }],
    ['linux/armhf', { os: 'linux', architecture: 'arm', variant: 'v7' }],
    ['Linux/386', { os: 'linux', architecture: '386' }],
    ['linux/i386', { os: 'linux', architecture: '386' }],
  ])('%s', (text, want) => {
    expect(parsePlatform(text)).toEqual(want);
  });

  it.each(['linux', 'linux/', '/amd64', 'a/b/c/d', ''])('rejects "%s" with USAGE', (text) => {
    expect(() => parsePlatform(text)).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});

describe('platformMatches', () => {
  const p = parsePlatform;
  it.each([
    ['linux/amd64', 'linux/amd64', true],
    ['linux/amd64', 'linux/x86_64', true],
    ['linux/amd64', 'linux/arm64', false],
    ['linux/amd64', 'windows/amd64', false],
    ['linux/arm64', 'linux/arm64/v8', true],
    ['linux/arm', 'linux/arm/v7', true],
    ['linux/arm', 'linux/arm/v6', false],
    ['linux/arm/v6', 'linux/arm/v6', true],
    ['linux/arm/v6', 'linux/arm/v7', false],
  ])('want %s, have %s → %s', (want, have, result) => {
    expect(platformMatches(p(want), p(have))).toBe(result);
  });

  it('treats a missing variant in the wanted platform as "any"', () => {
    expect(
      platformMatches({ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'amd64', variant: 'v3' }),
    ).toBe(true);
  });
});

describe('hostPlatform', () => {
  it('maps Node arch names to OCI ones', () => {
    const h = hostPlatform();
    const want: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm' };
    if (want[process.arch]) expect(h.architecture).toBe(want[process.arch]);
    expect(h.os).toBe(process.platform === 'win32' ? 'windows' : 'linux');
    expect(normalizePlatform(h)).toEqual(h);
  });
  it('formats os/arch[/variant]', () => {
    expect(formatPlatform({ os: 'linux', architecture: 'arm', variant: 'v7' })).toBe('linux/arm/v7');
    expect(formatPlatform({ os: 'linux', architecture: 'amd64' })).toBe('linux/amd64');
  });
});
