import { describe, expect, it } from 'vitest';
import {
  familiarImageName,
  hasExplicitTag,
  normalizeImageName,
  parseImageName,
  sameImageName,
} from '../../src/image/name.js';

describe('image names', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['docker.io/library/busybox:latest', 'docker.io/library/busybox:latest'],
    ['index.docker.io/library/busybox', 'docker.io/library/busybox:latest'],
    ['me/app', 'docker.io/me/app:latest'],
    ['localhost/app:dev', 'localhost/app:dev'],
    ['localhost:5000/app', 'localhost:5000/app:latest'],
    ['quay.io/a/b/c:v1', 'quay.io/a/b/c:v1'],
    ['busybox@sha256:abc', 'docker.io/library/busybox:latest'],
  ])('normalises %s', (text, want) => {
    expect(normalizeImageName(text)).toBe(want);
  });

  it('gives the familiar form', () => {
    expect(familiarImageName('docker.io/library/busybox:latest')).toBe('busybox:latest');
    expect(familiarImageName('docker.io/me/app:1')).toBe('me/app:1');
    expect(familiarImageName('localhost/app:dev')).toBe('localhost/app:dev');
  });

  it('compares names with defaults applied', () => {
    expect(sameImageName('x', 'docker.io/library/x:latest')).toBe(true);
    expect(sameImageName('x:latest', 'x')).toBe(true);
    expect(sameImageName('x:1', 'x')).toBe(false);
    expect(sameImageName('localhost/x', 'x')).toBe(false);
  });

  it('rejects what is no name', () => {
    expect(parseImageName('Upper/Case')).toBeUndefined();
    expect(parseImageName('has space')).toBeUndefined();
    expect(parseImageName('')).toBeUndefined();
  });

  it('tells an explicit tag', () => {
    expect(hasExplicitTag('x:1')).toBe(true);
    expect(hasExplicitTag('localhost:5000/x')).toBe(false);
    expect(hasExplicitTag('latest')).toBe(false);
  });
});
