import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pendingTemporaries, registerTemp, removeTemporaries } from '../../src/fsio/cleanup.js';
import { stageFile } from '../../src/fsio/staged-output.js';
import { tempDir } from '../transports/helpers.js';

describe('temporaries', () => {
  it('removeTemporaries removes what was registered and nothing else', async () => {
    const dir = tempDir();
    const keep = path.join(dir, 'keep');
    fs.writeFileSync(keep, 'x');
    const staged = await stageFile(path.join(dir, 'out.tar'), false);
    expect(fs.existsSync(staged.temp)).toBe(true);
    removeTemporaries();
    expect(fs.readdirSync(dir)).toEqual(['keep']);
    expect(pendingTemporaries()).toBe(0);
  });

  it('a discarded or committed output is no longer registered', async () => {
    const dir = tempDir();
    const before = pendingTemporaries();
    const a = await stageFile(path.join(dir, 'a.tar'), false);
    expect(pendingTemporaries()).toBe(before + 1);
    await a.discard();
    const b = await stageFile(path.join(dir, 'b.tar'), false);
    await b.commit();
    expect(pendingTemporaries()).toBe(before);
    registerTemp(path.join(dir, 'never-made'));
    removeTemporaries(); // missing is fine
    expect(fs.readdirSync(dir)).toEqual(['b.tar']);
  });
});
