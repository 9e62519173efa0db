import { describe, expect, it } from 'vitest';
import { parseChallenges } from '../../../src/transports/registry/auth.js';
import { registryMessage } from '../../../src/transports/registry/client.js';

describe('WWW-Authenticate challenges', () => {
  it('reads a Bearer challenge with realm, service and scope', () => {
    const h =
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",' +
      'scope="repository:library/busybox:pull"';
    expect(parseChallenges(h)).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:library/busybox:pull',
        },
      },
    ]);
  });

  it('reads Basic, escaped quotes, unquoted values and several challenges in one header', () => {
    expect(parseChallenges('Basic realm="Registry Realm"')).toEqual([
      { scheme: 'basic', params: { realm: 'Registry Realm' } },
    ]);
    expect(parseChallenges('Bearer realm="a\\"b", error=insufficient_scope, Basic realm=z')).toEqual([
      { scheme: 'bearer', params: { realm: 'a"b', error: 'insufficient_scope' } },
      { scheme: 'basic', params: { realm: 'z' } },
    ]);
    expect(parseChallenges('')).toEqual([]);
  });
});

describe("the registry's own error words", () => {
  it('joins the codes and messages of an errors array, else cuts the text short', () => {
    const body = Buffer.from(
      JSON.stringify({ errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }] }),
    );
    expect(registryMessage(body)).toBe('DENIED requested access to the resource is denied');
    expect(registryMessage(Buffer.from('<html>\n  bad gateway </html>'))).toBe('<html> bad gateway </html>');
  });
});
