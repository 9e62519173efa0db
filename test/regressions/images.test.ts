/** Image-level bugs users met in other flatteners (FIELD-NOTES.md), on engine-made fixtures. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readStored } from '../transports/helpers.js';
import { flatten } from '../../src/flatten/flatten.js';
import { openSource } from '../../src/transports/index.js';
import { parseReference } from '../../src/transports/reference.js';

const RULES = path.resolve('test/fixtures/docker-rules.tar');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'layerflat-reg-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function config(ref: string) {
  const opened = await openSource(parseReference(ref, 'source'));
  try {
    return { config: opened.image.config, layers: opened.image.layers };
  } finally {
    await opened.close();
  }
}

describe('image metadata and formats', () => {
  it('moby#20923 ("No command specified" after export/import): Cmd, Entrypoint, Env and the rest survive', async () => {
    const dest = `docker-archive:${path.join(tmp, 'meta.tar')}`;
    await flatten({ source: RULES, dest });
    const before = (await config(RULES)).config.config!;
    const after = (await config(dest)).config.config!;
    expect(after).toEqual(before);
    for (const key of [
      'Cmd',
      'Env',
      'User',
      'WorkingDir',
      'ExposedPorts',
      'Volumes',
      'Labels',
      'StopSignal',
      'OnBuild',
      'Shell',
    ]) {
      expect(after[key], key).toBeDefined();
    }
  });

  it(
    'buildah drops HEALTHCHECK in OCI format: our OCI output keeps the ' + 'config whole, Healthcheck included',
    async () => {
      const dest = `oci:${path.join(tmp, 'hc')}:flat`;
      await flatten({ source: RULES, dest });
      expect((await config(dest)).config.config!['Healthcheck']).toEqual(
        (await config(RULES)).config.config!['Healthcheck'],
      );
    },
  );

  it(
    'docker-squash#260 (uncompressed output ~2.6x bigger on Docker 29): ' +
      '--compress gzip writes a gzip docker-archive layer',
    async () => {
      const file = path.join(tmp, 'gz.tar');
      const r = await flatten({ source: RULES, dest: file, compression: 'gzip' });
      expect(r.layers[0]!.size).toBeLessThan(r.bytes.tarOut / 1.5);
      const { layers } = await config(file);
      const head = await readStored(layers[0]!);
      expect(head.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    },
  );

  it('goldmann PR #156 (--tmp-dir deleted a user directory): our --tmp-dir is only ever added to', async () => {
    const tmpDir = path.join(tmp, 'users-own-dir');
    fs.mkdirSync(tmpDir);
    fs.writeFileSync(path.join(tmpDir, 'precious'), 'keep me');
    const spooled = `docker-archive:${path.join(tmp, 'spooled.tar')}`;
    await flatten({ source: RULES, dest: spooled, tmpDir });
    expect(fs.readdirSync(tmpDir)).toEqual(['precious']);
    expect(fs.readFileSync(path.join(tmpDir, 'precious'), 'utf8')).toBe('keep me');
  });
});
