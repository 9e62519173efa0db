import { it } from 'vitest';
import path from 'node:path';
import { flatten } from '../../src/flatten/flatten.js';
import { verify } from '../../src/verify/verify.js';
import { collectTar } from '../helpers/tar-builder.js';
import fs from 'node:fs';
import { randomLayers } from '../helpers/random-layers.js';
import { writeArchive } from '../helpers/unpack-case.js';
import { tempDir } from '../transports/helpers.js';
const SEED = Number(process.env.SEEDX);
it('flatten too?', async () => {
  const dir = tempDir();
  const layers = randomLayers(SEED).map((layer, l) =>
    layer.map((e, o) => {
      const content = e.type === 'file' && !e.path.includes('.wh.') ? { content: `content ${l}:${o}` } : {};
      if (e.type === 'dir') return { path: `${e.path}/` };
      return { path: e.path, type: e.type, linkname: e.linkname || undefined, ...content };
    }),
  );
  const img = writeArchive(path.join(dir, 'i.tar'), layers);
  const r = await flatten({ source: img, dest: path.join(dir, 'f.tar') });
  const v = await verify({ a: img, b: path.join(dir, 'f.tar') });
  process.stderr.write(JSON.stringify(r.notes) + JSON.stringify(v.differences) + '\n');
  for (const layerFile of ['f.tar']) {
    const items = await collectTar(fs.readFileSync(path.join(dir, layerFile)));
    for (const it of items)
      if (it.entry.path.endsWith('layer.tar') || it.entry.path.startsWith('blobs')) {
        const inner = await collectTar(it.data).catch(() => []);
        process.stderr.write(
          'FLAT ' + JSON.stringify(inner.map((x) => `${x.entry.path} ${x.entry.type} ${x.entry.linkname}`)) + '\n',
        );
      }
  }
});
