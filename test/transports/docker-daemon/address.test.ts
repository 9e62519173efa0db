import { describe, expect, it } from 'vitest';
import { parseDockerHost } from '../../../src/transports/docker-daemon/address.js';

describe('parseDockerHost (DOCKER_HOST as the docker CLI reads it)', () => {
  const ok: [string | undefined, object][] = [
    [undefined, { kind: 'unix', socketPath: '/var/run/docker.sock', text: 'unix:///var/run/docker.sock' }],
    ['', { kind: 'unix', socketPath: '/var/run/docker.sock' }],
    ['unix://', { kind: 'unix', socketPath: '/var/run/docker.sock', text: 'unix://' }],
    ['unix:///tmp/e2e/docker.sock', { kind: 'unix', socketPath: '/tmp/e2e/docker.sock' }],
    ['unix://relative.sock', { kind: 'unix', socketPath: 'relative.sock' }],
    ['tcp://10.0.0.5:2375', { kind: 'tcp', host: '10.0.0.5', port: 2375 }],
    ['tcp://docker.example', { kind: 'tcp', host: 'docker.example', port: 2375 }],
    ['tcp://docker.example:4243/', { kind: 'tcp', host: 'docker.example', port: 4243 }],
    ['tcp://:2375', { kind: 'tcp', host: '127.0.0.1', port: 2375 }],
    ['tcp://[::1]:2375', { kind: 'tcp', host: '::1', port: 2375 }],
    ['http://localhost:2375', { kind: 'tcp', host: 'localhost', port: 2375 }],
  ];
  it.each(ok)('%s', (text, want) => {
    expect(parseDockerHost(text)).toMatchObject(want);
  });

  const bad: [string, RegExp][] = [
    ['/var/run/docker.sock', /expected unix:\/\/PATH or tcp:\/\/HOST:PORT/],
    ['localhost:2375', /expected unix:\/\/PATH or tcp:\/\/HOST:PORT/],
    ['ssh://me@host', /ssh:\/\/ is not supported; forward the socket/],
    ['https://host:2376', /TLS to the Docker daemon is not supported/],
    ['npipe:////./pipe/docker_engine', /npipe/],
    ['fd://', /dockerd listens on/],
    ['gopher://x', /unknown scheme "gopher:\/\/"/],
    ['tcp://host:99999', /out of range/],
    ['tcp://host:2375/v1.41', /a path after the address is not supported/],
  ];
  it.each(bad)('rejects %s', (text, message) => {
    expect(() => parseDockerHost(text)).toThrow(message);
    expect(() => parseDockerHost(text)).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});
