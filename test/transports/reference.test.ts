import { describe, expect, it } from 'vitest';
import { LayerflatError } from '../../src/errors.js';
import { describeReference, parseReference } from '../../src/transports/reference.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as LayerflatError).code;
  }
  return undefined;
}

describe('parseReference', () => {
  const ok: [string, 'source' | 'dest', object][] = [
    ['docker-archive:/x/img.tar', 'source', { transport: 'docker-archive', path: '/x/img.tar' }],
    [
      'docker-archive:img.tar:busybox:latest',
      'source',
      { transport: 'docker-archive', path: 'img.tar', ref: 'busybox:latest' },
    ],
    ['docker-archive:img.tar:@1', 'source', { transport: 'docker-archive', path: 'img.tar', ref: '@1' }],
    [
      'docker-archive:img.tar:sha256:abcdef',
      'source',
      { transport: 'docker-archive', path: 'img.tar', ref: 'sha256:abcdef' },
    ],
    ['docker-archive:out.tar:myapp', 'dest', { transport: 'docker-archive', path: 'out.tar', ref: 'myapp' }],
    ['docker-archive:-', 'dest', { transport: 'stdio', path: '-', format: 'docker-archive' }],
    ['oci:/srv/layout:v1.2', 'source', { transport: 'oci', path: '/srv/layout', ref: 'v1.2' }],
    ['oci:layout:quay.io/x/y:1', 'dest', { transport: 'oci', path: 'layout', ref: 'quay.io/x/y:1' }],
    ['oci-archive:a.tar', 'source', { transport: 'oci-archive', path: 'a.tar' }],
    ['oci-archive:-', 'source', { transport: 'stdio', path: '-', format: 'oci-archive' }],
    ['image.tar', 'source', { transport: 'auto', path: 'image.tar' }],
    ['./odd:name.tar', 'source', { transport: 'auto', path: './odd:name.tar' }],
    ['/abs/path.tar', 'dest', { transport: 'auto', path: '/abs/path.tar' }],
    ['-', 'source', { transport: 'stdio', path: '-' }],
    ['-', 'dest', { transport: 'stdio', path: '-' }],
    ['docker-daemon:busybox:latest', 'source', { transport: 'docker-daemon', path: 'busybox:latest' }],
    ['docker-daemon:quay.io/x/y', 'dest', { transport: 'docker-daemon', path: 'quay.io/x/y' }],
  ];
  it.each(ok)('%s (%s)', (text, role, want) => {
    expect(parseReference(text, role)).toEqual(want);
  });

  const bad: [string, 'source' | 'dest', string, RegExp][] = [
    ['', 'source', 'BAD_REFERENCE', /empty/],
    ['dockerarchive:x.tar', 'source', 'BAD_REFERENCE', /unknown transport "dockerarchive".*docker-archive:PATH/],
    ['nginx:latest', 'source', 'BAD_REFERENCE', /unknown transport "nginx".*leading "\.\/"/],
    ['docker-archive:', 'source', 'BAD_REFERENCE', /no path/],
    ['docker-archive::ref', 'source', 'BAD_REFERENCE', /no path/],
    ['docker-archive:x.tar:', 'source', 'BAD_REFERENCE', /empty REF/],
    ['docker-archive:x.tar:@x', 'source', 'BAD_REFERENCE', /@0, @1/],
    ['docker-archive:x.tar:@0', 'dest', 'BAD_REFERENCE', /needs a name/],
    ['docker-archive:x.tar:sha256:abc', 'dest', 'BAD_REFERENCE', /not a digest/],
    ['oci:-', 'dest', 'BAD_REFERENCE', /oci-archive:-/],
  ];
  it.each(bad)('rejects %s (%s)', (text, role, code, message) => {
    expect(codeOf(() => parseReference(text, role))).toBe(code);
    expect(() => parseReference(text, role)).toThrow(message);
  });

  const unsupported: [string, 'source' | 'dest', RegExp][] = [
    ['dir:/tmp/x', 'source', /"dir:".*skopeo copy dir:PATH oci:/],
    ['dir:/tmp/x', 'dest', /"dir:".*skopeo copy oci:layout:REF dir:PATH/],
  ];
  it.each(unsupported)('%s (%s) is not supported yet', (text, role, message) => {
    expect(codeOf(() => parseReference(text, role))).toBe('UNSUPPORTED_TRANSPORT');
    expect(() => parseReference(text, role)).toThrow(message);
  });

  it('describes references as they were typed', () => {
    const texts = [
      'docker-archive:a.tar:x:1',
      'oci:dir',
      'image.tar',
      '-',
      'docker-daemon:x/y:1',
      'docker://r:5/a/b:t',
    ];
    for (const text of texts) {
      expect(describeReference(parseReference(text, 'source'))).toBe(text);
    }
  });
});
