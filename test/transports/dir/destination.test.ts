/** Removing a failed unpack's files as the user who made them, whatever modes its directories got. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../../helpers/cli.js';
import { tempDir } from '../helpers.js';

const NOBODY = 65534;
const root = process.geteuid?.() === 0;
const MODULE = path.resolve('dist/transports/dir/destination.js');

beforeAll(() => ensureBuilt());

describe.skipIf(!root)('emptyRootfs as an unprivileged user', () => {
  it('opens read-only and mode-0 directories to their owner first, never following a symlink', () => {
    const base = tempDir();
    fs.chmodSync(base, 0o755);
    const dir = path.join(base, 'rootfs');
    const outside = path.join(base, 'outside');
    fs.mkdirSync(outside, 0o500);
    fs.mkdirSync(path.join(dir, 'ro/zero'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'ro/f'), 'x');
    fs.writeFileSync(path.join(dir, 'ro/zero/g'), 'y');
    fs.symlinkSync(outside, path.join(dir, 'ro/link'));
    for (const p of [
      dir,
      path.join(dir, 'ro'),
      path.join(dir, 'ro/zero'),
      path.join(dir, 'ro/f'),
      path.join(dir, 'ro/zero/g'),
    ]) {
      fs.lchownSync(p, NOBODY, NOBODY);
    }
    fs.lchownSync(path.join(dir, 'ro/link'), NOBODY, NOBODY);
    fs.chmodSync(path.join(dir, 'ro/zero'), 0);
    fs.chmodSync(path.join(dir, 'ro'), 0o555);
    const script = `import(${JSON.stringify(MODULE)}).then((m) => m.emptyRootfs({ real: ${JSON.stringify(dir)} }))`;
    const run = spawnSync(process.execPath, ['-e', script], { uid: NOBODY, gid: NOBODY, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(fs.readdirSync(dir)).toEqual([]);
    expect(fs.statSync(outside).mode & 0o777).toBe(0o500);
  });
});
