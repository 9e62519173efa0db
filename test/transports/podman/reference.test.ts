import { describe, expect, it } from 'vitest';
import { LayerflatError } from '../../../src/errors.js';
import { describeReference, parseReference } from '../../../src/transports/reference.js';

function failure(fn: () => unknown): LayerflatError {
  try {
    fn();
  } catch (err) {
    return err as LayerflatError;
  }
  throw new Error('expected an error');
}

const ID = 'a'.repeat(64);

describe('containers-storage: and podman: references', () => {
  const ok: [string, 'source' | 'dest', string][] = [
    ['containers-storage:app', 'source', 'app'],
    ['containers-storage:app:1.2', 'source', 'app:1.2'],
    ['containers-storage:localhost/app:1.2', 'dest', 'localhost/app:1.2'],
    ['containers-storage:registry.example.com:5000/team/app:v1', 'source', 'registry.example.com:5000/team/app:v1'],
    [`containers-storage:app@sha256:${ID}`, 'source', `app@sha256:${ID}`],
    [`containers-storage:${ID}`, 'source', ID],
    ['containers-storage:sha256:4e1976', 'source', 'sha256:4e1976'],
    ['containers-storage:4e1976', 'source', '4e1976'],
    ['containers-storage:cafe', 'dest', 'cafe'], // a hex word is a name for a destination
    ['podman:app-flat', 'dest', 'app-flat'],
    ['podman:quay.io/x/y', 'source', 'quay.io/x/y'],
  ];
  it.each(ok)('%s (%s)', (text, role, name) => {
    const ref = parseReference(text, role);
    expect(ref).toEqual({ transport: 'containers-storage', path: name });
    expect(describeReference(ref)).toBe(`containers-storage:${name}`);
  });

  const bad: [string, 'source' | 'dest', string, RegExp][] = [
    ['containers-storage:', 'source', 'BAD_REFERENCE', /no image name or ID/],
    ['podman:', 'dest', 'BAD_REFERENCE', /no image name or ID/],
    ['containers-storage:-rm', 'source', 'BAD_REFERENCE', /not an image name or ID/],
    ['containers-storage:a b', 'source', 'BAD_REFERENCE', /not an image name or ID/],
    ['containers-storage:App', 'source', 'BAD_REFERENCE', /lower-case/],
    [`containers-storage:${ID}`, 'dest', 'BAD_REFERENCE', /not an image ID/],
    ['containers-storage:sha256:abcd', 'dest', 'BAD_REFERENCE', /not an image ID/],
    [`containers-storage:app@sha256:${ID}`, 'dest', 'BAD_REFERENCE', /not a digest/],
    ['containers-storage:app@sha256:xyz', 'source', 'BAD_REFERENCE', /not an image name/],
    ['containers-storage:[vfs@/var/lib/x+/run/x]app', 'source', 'UNSUPPORTED', /storage-specifier/],
  ];
  it.each(bad)('rejects %s (%s)', (text, role, code, message) => {
    const err = failure(() => parseReference(text, role));
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
  });

  it('names containers-storage: among the transports when one is unknown', () => {
    expect(failure(() => parseReference('podmn:x', 'source')).message).toMatch(/containers-storage:NAME/);
  });
});
