import { describe, expect, it } from 'vitest';
import { describeRegistryImage, parseRegistryImage } from '../../../src/transports/registry/reference.js';
import { parseReference } from '../../../src/transports/reference.js';

const parse = (rest: string) => parseRegistryImage(rest, `docker:${rest}`);
const D = `sha256:${'ab'.repeat(32)}`;

describe('docker:// references, as skopeo and podman spell them', () => {
  it('applies Docker Hub rules: no host, library/ for one-part names, :latest, registry-1 for the API', () => {
    expect(parse('//busybox')).toEqual({
      registry: 'docker.io',
      host: 'registry-1.docker.io',
      repository: 'library/busybox',
      ref: 'latest',
    });
    expect(parse('//jupyter/scipy-notebook:2024')).toMatchObject({
      registry: 'docker.io',
      repository: 'jupyter/scipy-notebook',
      ref: '2024',
    });
    expect(parse('//docker.io/busybox:1')).toMatchObject({ repository: 'library/busybox', ref: '1' });
    expect(parse('//index.docker.io/library/busybox')).toMatchObject({ registry: 'docker.io' });
  });

  it('takes a host with a port, localhost, a tag and a digest (the digest wins)', () => {
    expect(parse('//127.0.0.1:5000/lf/rules:flat')).toEqual({
      registry: '127.0.0.1:5000',
      host: '127.0.0.1:5000',
      repository: 'lf/rules',
      ref: 'flat',
    });
    expect(parse('//localhost/x')).toMatchObject({ registry: 'localhost', repository: 'x', ref: 'latest' });
    expect(parse(`//quay.io/a/b:t@${D}`)).toMatchObject({ registry: 'quay.io', repository: 'a/b', ref: D });
  });

  it('refuses what is not a reference, naming why', () => {
    expect(() => parse('busybox')).toThrow(/docker:\/\//);
    expect(() => parse('//Busybox')).toThrow(/repository name/);
    expect(() => parse('//x@sha256:12')).toThrow(/not a digest/);
    expect(() => parse('//x:a$b')).toThrow(/not a valid tag/);
  });

  it('is what parseReference gives for docker:, and describes itself back', () => {
    const ref = parseReference('docker://127.0.0.1:5000/lf/rules', 'source');
    expect(ref).toMatchObject({ transport: 'docker', path: '127.0.0.1:5000/lf/rules', ref: 'latest' });
    expect(describeRegistryImage(ref.registry!)).toBe('docker://127.0.0.1:5000/lf/rules:latest');
    expect(describeRegistryImage({ registry: 'r', repository: 'a', ref: D })).toBe(`docker://r/a@${D}`);
  });
});
