import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  hostTag,
  parseTempName,
  removeStaleTemps,
  spoolDirName,
  tempNameBeside,
  tempTag,
} from '../../src/fsio/temp-names.js';
import { deadPid, livePid } from '../helpers/processes.js';
import { tempDir } from '../transports/helpers.js';

const NAME_MAX = 255;
const bytes = (s: string) => Buffer.byteLength(s);

/** A temporary name as another process (`pid`, on `host`) would have made it beside `dest`. */
function nameOf(dest: string, pid: number, host = hostTag()): string {
  const mine = `layerflat-${hostTag()}-${process.pid}-`;
  return path.basename(tempNameBeside(dest)).replace(mine, `layerflat-${host}-${pid}-`);
}

describe('temporary names', () => {
  it('carry the host and the pid, and are told from every other name', () => {
    const name = path.basename(tempNameBeside('/some/dir/out.tar'));
    expect(name).toMatch(new RegExp(`^\\.out\\.tar\\.layerflat-${hostTag()}-${process.pid}-[0-9a-f]{8}\\.tmp$`));
    expect(parseTempName(name)).toEqual({ host: hostTag(), pid: process.pid });
    expect(parseTempName(`.${tempTag()}`)).toEqual({ host: hostTag(), pid: process.pid }); // a layout's staging dir
    expect(parseTempName(path.basename(spoolDirName('spool')))).toEqual({ host: hostTag(), pid: process.pid });
    expect(parseTempName(path.basename(spoolDirName('out')))).toEqual({ host: hostTag(), pid: process.pid });
    for (const other of [
      'out.tar',
      '.out.tar',
      '.out.tar.tmp',
      'layerflat-x',
      `${tempTag()}.tar`,
      `.${tempTag()}.tmpx`,
    ]) {
      expect(parseTempName(other), other).toBeUndefined();
    }
  });

  it('a DEST name that itself looks like a temporary of another process does not fool the parse', () => {
    const dead = deadPid();
    const dest = `/d/.x.layerflat-${hostTag()}-${dead}-deadbeef.tmp`; // a user's file named like a dead temp
    expect(parseTempName(path.basename(tempNameBeside(dest)))).toEqual({ host: hostTag(), pid: process.pid });
  });

  it.each([
    ['250 bytes of ASCII', 'a'.repeat(250)],
    ['250 bytes of 2-byte UTF-8', 'é'.repeat(125)],
    ['250 bytes of 3-byte UTF-8', `${'日'.repeat(83)}x`],
    ['250 bytes of 4-byte UTF-8', `${'🐳'.repeat(62)}xy`],
    ['255 bytes of ASCII', 'b'.repeat(255)],
  ])('a DEST name of %s gets a temporary name that fits NAME_MAX and can be created', (_what, base) => {
    expect(bytes(base)).toBeGreaterThanOrEqual(250);
    const dir = tempDir();
    const temp = tempNameBeside(path.join(dir, base));
    const name = path.basename(temp);
    expect(bytes(name)).toBeLessThanOrEqual(NAME_MAX);
    const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
    expect(loneSurrogate.test(name)).toBe(false); // cut between characters, never inside one
    expect(name).not.toContain('\uFFFD');
    expect(base.startsWith(name.slice(1, name.indexOf('.layerflat-')))).toBe(true);
    expect(parseTempName(name)).toEqual({ host: hostTag(), pid: process.pid });
    fs.writeFileSync(temp, 'x'); // no ENAMETOOLONG
    expect(fs.readdirSync(dir)).toEqual([name]);
  });
});

describe('removeStaleTemps', () => {
  it('removes the temporaries of dead processes of this host, and nothing else', async () => {
    const dir = tempDir();
    const dead = deadPid();
    const live = livePid();
    const make = (name: string, asDir = false) => {
      const p = path.join(dir, name);
      if (asDir) {
        fs.mkdirSync(p);
        fs.writeFileSync(path.join(p, 'inside'), 'x');
      } else fs.writeFileSync(p, 'x');
      return name;
    };
    const stale = [
      make(nameOf('out.tar', dead)),
      make(nameOf('layout', dead), true), // a staged layout directory
      make(nameOf('a'.repeat(250), dead)),
    ];
    const kept = [
      make(nameOf('out.tar', live)), // still running
      make(nameOf('out.tar', process.pid)), // ourselves
      make(nameOf('out.tar', dead, 'another_host')), // another host's pid means nothing here
      make('out.tar'),
      make('.out.tar.tmp'),
      make(`.out.tar.layerflat-${hostTag()}-${dead}.tmp`), // not our exact shape
      make(`.out.tar.layerflat-${hostTag()}-${dead}-deadbeef.tmp.keep`),
      // the temporary of a running process whose DEST name holds a dead process's tag
      make(nameOf(`.x.layerflat-${hostTag()}-${dead}-deadbeef.tmp`, live)),
      make(nameOf(`x.layerflat-${hostTag()}-${dead}-deadbeef`, process.pid)),
    ];
    const removed = await removeStaleTemps(dir, ['beside']);
    expect(removed.map((p) => path.basename(p)).sort()).toEqual([...stale].sort());
    expect(fs.readdirSync(dir).sort()).toEqual([...kept].sort());
  });

  it('removes only the kinds asked for', async () => {
    const dir = tempDir();
    const dead = deadPid();
    const swap = (name: string) => name.replace(`-${process.pid}-`, `-${dead}-`);
    const beside = swap(path.basename(tempNameBeside(path.join(dir, 'out.tar'))));
    const staging = swap(`.${tempTag()}`);
    const spool = swap(path.basename(spoolDirName('spool')));
    const out = swap(path.basename(spoolDirName('out')));
    for (const n of [beside, staging, spool, out]) fs.mkdirSync(path.join(dir, n));
    await removeStaleTemps(dir, ['spool']);
    expect(fs.readdirSync(dir).sort()).toEqual([beside, staging].sort());
    await removeStaleTemps(dir, ['staging']);
    expect(fs.readdirSync(dir)).toEqual([beside]);
    await removeStaleTemps(dir, ['beside']);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('a missing or unreadable directory is no error', async () => {
    expect(await removeStaleTemps(path.join(os.tmpdir(), 'no-such-dir-layerflat'), ['beside'])).toEqual([]);
  });
});
