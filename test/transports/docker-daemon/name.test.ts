import { describe, expect, it } from 'vitest';
import { parseReference } from '../../../src/transports/reference.js';

const ID = `sha256:${'ab12'.repeat(16)}`;

describe('docker-daemon: references (as skopeo spells them)', () => {
  const ok: [string, 'source' | 'dest', string][] = [
    ['docker-daemon:busybox', 'source', 'busybox'],
    ['docker-daemon:busybox:1.36', 'dest', 'busybox:1.36'],
    ['docker-daemon:localhost:5000/team/app:v2', 'source', 'localhost:5000/team/app:v2'],
    [`docker-daemon:${ID}`, 'source', ID],
    ['docker-daemon:4e197630449c', 'source', '4e197630449c'], // a short ID (the daemon resolves it)
  ];
  it.each(ok)('%s (%s)', (text, role, name) => {
    expect(parseReference(text, role)).toEqual({ transport: 'docker-daemon', path: name });
  });

  const bad: [string, 'source' | 'dest', RegExp][] = [
    ['docker-daemon:', 'source', /no image name after "docker-daemon:"/],
    [`docker-daemon:${ID}`, 'dest', /needs a NAME\[:TAG\], not an image ID/],
    ['docker-daemon:sha256:abc', 'source', /all 64 hex digits/],
    ['docker-daemon:busybox@sha256:abc', 'source', /with a digest are not supported/],
    ['docker-daemon:Busybox', 'source', /not an image name/],
    ['docker-daemon:a b', 'source', /not an image name/],
    ['docker-daemon:x/?:1', 'dest', /not an image name/],
    [`docker-daemon:${'ab12'.repeat(16)}`, 'dest', /cannot be 64 hex digits/],
  ];
  it.each(bad)('rejects %s (%s)', (text, role, message) => {
    expect(() => parseReference(text, role)).toThrow(message);
    expect(() => parseReference(text, role)).toThrow(expect.objectContaining({ code: 'BAD_REFERENCE' }));
  });
});
