import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { OutputImage } from '../../src/image/types.js';
import { openSource, sinkFor } from '../../src/transports/index.js';
import { parseReference } from '../../src/transports/reference.js';
import type { ImageReference } from '../../src/transports/types.js';
import { failingLayer, sampleConfig, tempDir, tinyImage, readStored } from './helpers.js';

const formats = [
  { transport: 'docker-archive', file: 'out.tar' },
  { transport: 'oci', file: 'layout' },
  { transport: 'oci-archive', file: 'out.oci.tar' },
] as const;

function write(
  text: string,
  image: OutputImage,
  extra: {
    force?: boolean;
    beforeCommit?: (r: ImageReference) => Promise<void>;
    tmpDir?: string;
    stdout?: Writable;
  } = {},
) {
  const ref = parseReference(text, 'dest');
  return sinkFor(ref).write(ref, image, { compression: 'gzip', force: extra.force ?? false, ...extra });
}

const broken = (): OutputImage => ({ config: sampleConfig(), layers: [failingLayer()], tags: ['x:1'] });

describe.each(formats)('$transport sink atomicity', ({ transport, file }) => {
  it('leaves nothing at DEST and no temporary files when a layer stream fails midway', async () => {
    const dir = tempDir();
    await expect(write(`${transport}:${path.join(dir, file)}`, broken())).rejects.toThrow(/boom/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('leaves nothing when beforeCommit throws, after handing it a readable staged output', async () => {
    const dir = tempDir();
    let seen: string[] = [];
    const beforeCommit = async (staged: ImageReference) => {
      const opened = await openSource(staged);
      seen = [...opened.image.tags];
      await readStored(opened.image.layers[0]!);
      await opened.close();
      throw new Error('verify said no');
    };
    await expect(write(`${transport}:${path.join(dir, file)}:app:1`, tinyImage(), { beforeCommit })).rejects.toThrow(
      'verify said no',
    );
    expect(seen.length).toBe(1);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('refuses an existing DEST without force (DEST_EXISTS) and leaves it untouched', async () => {
    const dir = tempDir();
    const dest = path.join(dir, file);
    fs.writeFileSync(dest, 'precious');
    await expect(write(`${transport}:${dest}`, tinyImage())).rejects.toMatchObject({ code: 'DEST_EXISTS' });
    expect(fs.readFileSync(dest, 'utf8')).toBe('precious');
    expect(fs.readdirSync(dir)).toEqual([file]);
  });
});

describe('archive sinks with --force', () => {
  it.each(['docker-archive', 'oci-archive'])(
    '%s replaces a file only once the new one is complete',
    async (transport) => {
      const dir = tempDir();
      const dest = path.join(dir, 'out.tar');
      fs.writeFileSync(dest, 'old');
      await expect(write(`${transport}:${dest}`, broken(), { force: true })).rejects.toThrow(/boom/);
      expect(fs.readFileSync(dest, 'utf8')).toBe('old');
      await write(`${transport}:${dest}`, tinyImage(), { force: true });
      expect((await openSource(parseReference(dest, 'source'))).image.tags).toEqual(['example.com/tiny:1.0']);
      expect(fs.readdirSync(dir)).toEqual(['out.tar']);
    },
  );

  it('never replaces a directory with a file, even with force', async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'out.tar'));
    fs.writeFileSync(path.join(dir, 'out.tar', 'keep'), 'x');
    await expect(
      write(`docker-archive:${path.join(dir, 'out.tar')}`, tinyImage(), { force: true }),
    ).rejects.toMatchObject({ code: 'DEST_EXISTS' });
    expect(fs.readdirSync(path.join(dir, 'out.tar'))).toEqual(['keep']);
  });

  it('fails with NOT_FOUND when the destination directory does not exist', async () => {
    const dir = tempDir();
    await expect(write(`docker-archive:${path.join(dir, 'no', 'out.tar')}`, tinyImage())).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});

describe('stdout', () => {
  it('builds in tmpDir, streams to stdout, and removes the temporary', async () => {
    const tmp = tempDir();
    const chunks: Buffer[] = [];
    const stdout = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(Buffer.from(chunk));
        cb();
      },
    });
    await write('-', tinyImage(), { tmpDir: tmp, stdout });
    expect(fs.readdirSync(tmp)).toEqual([]);
    const out = Buffer.concat(chunks);
    expect(out.length % 512).toBe(0);
    const file = path.join(tempDir(), 'got.tar');
    fs.writeFileSync(file, out);
    const opened = await openSource(parseReference(file, 'source'));
    expect(opened.image.tags).toEqual(['example.com/tiny:1.0']);
  });
});

describe('oci sink into an existing layout', () => {
  it('adds the image, keeps the others, and replaces a same-named one only with force', async () => {
    const dir = tempDir();
    const layout = path.join(dir, 'layout');
    await write(`oci:${layout}:one`, tinyImage());
    await write(`oci:${layout}:two`, tinyImage(['b:1'], Buffer.alloc(1024)));
    const names = () =>
      JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8')).manifests.map(
        (m: { annotations: Record<string, string> }) => m.annotations['org.opencontainers.image.ref.name'],
      );
    expect(names()).toEqual(['one', 'two']);
    const before = fs.readFileSync(path.join(layout, 'index.json'));
    await expect(write(`oci:${layout}:one`, tinyImage())).rejects.toMatchObject({ code: 'DEST_EXISTS' });
    expect(fs.readFileSync(path.join(layout, 'index.json')).equals(before)).toBe(true);
    const replaced = { ...tinyImage(), config: { ...sampleConfig(), created: '2030-01-01T00:00:00Z' } };
    await write(`oci:${layout}:one`, replaced, { force: true });
    expect(names()).toEqual(['two', 'one']);
    const one = await openSource(parseReference(`oci:${layout}:one`, 'source'));
    expect(one.image.config.created).toBe('2030-01-01T00:00:00Z');
    expect(fs.readdirSync(layout).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
  });

  it('leaves an existing layout as it was when writing into it fails or beforeCommit refuses', async () => {
    const dir = tempDir();
    const layout = path.join(dir, 'layout');
    await write(`oci:${layout}:one`, tinyImage());
    const blobs = () => fs.readdirSync(path.join(layout, 'blobs', 'sha256')).sort();
    const index = fs.readFileSync(path.join(layout, 'index.json'));
    const blobsBefore = blobs();
    await expect(write(`oci:${layout}:two`, broken())).rejects.toThrow(/boom/);
    const refuse = async () => {
      throw new Error('no');
    };
    await expect(
      write(`oci:${layout}:two`, tinyImage(['z:1'], Buffer.alloc(2048)), { beforeCommit: refuse }),
    ).rejects.toThrow('no');
    expect(fs.readFileSync(path.join(layout, 'index.json')).equals(index)).toBe(true);
    expect(blobs()).toEqual(blobsBefore);
    expect(fs.readdirSync(layout).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
  });

  it('refuses a non-layout directory (DEST_EXISTS) but fills an empty one', async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'stuff'));
    fs.writeFileSync(path.join(dir, 'stuff', 'mine'), 'x');
    await expect(write(`oci:${path.join(dir, 'stuff')}`, tinyImage(), { force: true })).rejects.toMatchObject({
      code: 'DEST_EXISTS',
    });
    expect(fs.readdirSync(path.join(dir, 'stuff'))).toEqual(['mine']);
    fs.mkdirSync(path.join(dir, 'empty'));
    await write(`oci:${path.join(dir, 'empty')}`, tinyImage());
    expect(fs.existsSync(path.join(dir, 'empty', 'oci-layout'))).toBe(true);
    expect(fs.readdirSync(dir).sort()).toEqual(['empty', 'stuff']);
  });
});
