import { describe, expect, it } from 'vitest';
import { oneLine, parseInspect, parseLoaded, saysNoSuchImage } from '../../../src/transports/podman/output.js';
import { targetNames } from '../../../src/transports/podman/sink.js';
import { bytesLabel } from '../../../src/transports/podman/source.js';
import { freeBytes, freeBytesByDf, parseDfAvailable } from '../../../src/fsio/free-space.js';

const ID = '4e197630449cb2124c5b2841159cd10efa73a22f9af7b24c3fdcf7fd039363ed';

describe('podman output', () => {
  it('reads image inspect JSON (4.3 and 1.6.4 print the same fields)', () => {
    const json = JSON.stringify([{ Id: ID, Size: 2265865, RepoTags: ['localhost/x:1'], GraphDriver: { Name: 'vfs' } }]);
    expect(parseInspect(json, 'x')).toEqual({ id: ID, size: 2265865, repoTags: ['localhost/x:1'] });
    expect(parseInspect(JSON.stringify([{ Id: ID, Size: 0, RepoTags: null }]), 'x').repoTags).toEqual([]);
  });

  it.each(['', 'null', '[]', '{}', JSON.stringify([{ Id: 'abc', Size: 1 }]), JSON.stringify([{ Id: ID }])])(
    'refuses inspect output %j as ENGINE_FAILED',
    (text) => {
      expect(() => parseInspect(text, 'x')).toThrow(/output without an image Id and Size/);
    },
  );

  it('reads what podman load says it loaded', () => {
    // 4.x: one line per name; an untagged image as its ID
    expect(parseLoaded('Loaded image: localhost/a:1\nLoaded image: localhost/b:2\n')).toEqual([
      'localhost/a:1',
      'localhost/b:2',
    ]);
    expect(parseLoaded(`Loaded image: sha256:${ID}\n`)).toEqual([`sha256:${ID}`]);
    // 1.6.4: fmt.Println("Loaded image(s): " + names), names joined with ", "
    expect(parseLoaded('Getting image source signatures\nLoaded image(s): localhost/a:1, localhost/b:2\n')).toEqual([
      'localhost/a:1',
      'localhost/b:2',
    ]);
    expect(parseLoaded('Loaded images: a:1,b:2')).toEqual(['a:1', 'b:2']);
    expect(parseLoaded('Copying blob 1234\nWriting manifest to image destination\n')).toEqual([]);
  });

  it('reads the Available column of df -PB1', () => {
    const df =
      'Filesystem        1-blocks        Used   Available Capacity Mounted on\n' +
      '/dev/vda     270355722240 32212254720 77309411328      30% /\n';
    expect(parseDfAvailable(df)).toBe(77309411328);
    const spaced = 'Filesystem 1-blocks Used Available Capacity Mounted on\nmy dev 1000 400 600 40% /mnt/with space\n';
    expect(parseDfAvailable(spaced)).toBe(600);
    expect(parseDfAvailable('df: /nope: No such file or directory\n')).toBeUndefined();
    expect(parseDfAvailable('Filesystem 1-blocks Used Available Capacity Mounted on\n')).toBeUndefined();
  });

  it('puts podman stderr on one line and knows its "no such image" wordings', () => {
    expect(oneLine('Error: a\n\n  b \n')).toBe('Error: a; b');
    expect(oneLine('x'.repeat(500), 10)).toBe(`${'x'.repeat(10)}…`);
    expect(oneLine('\x1b[31mError\x1b[0m: red')).toBe('Error: red');
    // 4.3
    expect(saysNoSuchImage('Error: inspecting object: nosuch: image not known')).toBe(true);
    // 1.6.4
    expect(
      saysNoSuchImage('Error: error getting image "nosuch": unable to find \'nosuch\' in local storage: no such image'),
    ).toBe(true);
    expect(saysNoSuchImage('Error: permission denied')).toBe(false);
  });

  it('names the flat image after DEST and the -t names, each with a tag, once', () => {
    expect(targetNames('app-flat')).toEqual(['app-flat:latest']);
    expect(targetNames('localhost/app:2', ['app:2', 'localhost/app:2', 'x'])).toEqual([
      'localhost/app:2',
      'app:2',
      'x:latest',
    ]);
    expect(targetNames('registry:5000/app')).toEqual(['registry:5000/app:latest']);
  });

  it('says sizes in bytes and in units', () => {
    expect(bytesLabel(999)).toBe('999 bytes');
    expect(bytesLabel(4212345678)).toBe('4.21 GB (4212345678 bytes)');
  });

  it('finds free space with df (Node 16) as with statfs', async () => {
    const [a, b] = [await freeBytes('.'), await freeBytesByDf('.')];
    expect(a).toBeGreaterThan(0);
    expect(Math.abs(a! - b!)).toBeLessThan(2 ** 30); // other writers may change it in between
    expect(await freeBytesByDf('/no/such/dir')).toBeUndefined();
  });
});
