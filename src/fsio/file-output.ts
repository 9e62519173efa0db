/**
 * Producing a single-file output (an archive) at DEST or on stdout. At a path, the archive is
 * built beside DEST and renamed into place when complete (staged-output). On stdout it is built
 * in a private temporary directory first — a tar member's size must precede its bytes, and a
 * layer's size is known only after it is compressed — then streamed out and deleted.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ImageReference, SinkOptions } from '../transports/types.js';
import { removeTemp } from './cleanup.js';
import { commitWhenBuilt, stageFile } from './staged-output.js';
import { makePrivateTempDir } from './spool.js';
import { TarFileWriter } from '../tar/archive-file-writer.js';

/**
 * Build the archive with `build(file)` and put it at `ref.path` ("-": `stdout`), calling
 * `options.beforeCommit` with `stagedRef(file)` once it is complete. Nothing is left behind on
 * failure: not at DEST, not in tmpDir.
 */
export async function writeFileOutput<T>(
  ref: ImageReference,
  options: SinkOptions,
  build: (file: string) => Promise<T>,
  stagedRef: (file: string) => ImageReference,
  stdout: Writable = process.stdout,
): Promise<T> {
  const { beforeCommit } = options;
  if (ref.path !== '-') {
    const staged = await stageFile(ref.path, options.force);
    return commitWhenBuilt(staged, build, beforeCommit && (() => beforeCommit(stagedRef(staged.temp))));
  }
  const dir = await makePrivateTempDir(options.tmpDir, 'out');
  const file = path.join(dir, 'image.tar');
  try {
    const result = await build(file);
    if (beforeCommit) await beforeCommit(stagedRef(file));
    await pipeline(fs.createReadStream(file), stdout, { end: false });
    return result;
  } finally {
    await removeTemp(dir).catch(() => undefined);
  }
}

/** Run `fill` on a new archive writer for `file`; finish it and return `fill`'s result and the size. */
export async function writeArchive<T>(
  file: string,
  fill: (writer: TarFileWriter) => Promise<T>,
): Promise<{ result: T; size: number }> {
  const writer = await TarFileWriter.create(file);
  try {
    const result = await fill(writer);
    return { result, size: await writer.finish() };
  } catch (err) {
    await writer.abort();
    throw err;
  }
}
