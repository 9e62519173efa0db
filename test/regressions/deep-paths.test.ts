/**
 * Paths thousands of components deep (issue #9): verify overflowed the stack on a path 4,000
 * components deep, and flatten took 38 s on a 4,000-deep nest of directories (20 MB) that inspect
 * read in under a second — every path asked about all its ancestors. Now each is linear in the
 * input; timings at 1,000 / 4,000 / 10,000 levels are in docs/benchmarks.md (scripts/bench/deep-paths.sh).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { flatten } from '../../src/flatten/flatten.js';
import { inspect } from '../../src/inspect/inspect.js';
import { verify } from '../../src/verify/verify.js';
import { d, engineView, f, flatView, plan, type Spec } from '../helpers/plan-driver.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-deep-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('deep paths', () => {
  it('the plan and the reference model handle a 5,000-level nest without recursion', async () => {
    const layer: Spec[] = [];
    let p = '';
    for (let i = 0; i < 5_000; i++) {
      p = p ? `${p}/d` : 'd';
      layer.push(d(p), f(`${p}/f`));
    }
    const layers = [layer, [f(`${p}/top`)]];
    const out = await plan(layers);
    expect(out).toHaveLength(10_001);
    expect(flatView(out, layers)).toEqual(engineView(layers));
  });

  it('flatten, verify and inspect read a 4,000-level docker-archive', async () => {
    const source = path.join(tmp, 'deep.tar');
    execFileSync(process.execPath, ['scripts/bench/make-deep.mjs', '4000', source]);
    const dest = path.join(tmp, 'flat.tar');
    const r = await flatten({ source, dest });
    expect(r.entries.kept).toBe(8000);
    const v = await verify({ a: source, b: dest });
    expect([v.equal, v.paths.a]).toEqual([true, 8001]);
    const i = await inspect({ source });
    expect(i.totals.mergedFiles).toBe(4000);
  });
});
