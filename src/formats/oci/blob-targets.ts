/**
 * The two places OCI blobs are written: a layout directory (each blob streamed into a temporary
 * file, then renamed to its digest once that is known) and an archive being written (each blob a
 * member "blobs/sha256/<hex>", a repeated digest stored once).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { asLayerflatError, withContext } from '../../errors.js';
import { sha256Hex } from '../../image/digest.js';
import { writeOutputLayer } from '../layer-output.js';
import type { BlobTarget } from './write.js';
import { fileConsumer } from '../../bytes/consumer.js';
import { writeFully } from '../../bytes/file-range.js';
import type { TarFileWriter } from '../../tar/archive-file-writer.js';

/** Blobs written into `<layout>/blobs/sha256/`, which is created if needed. */
export function directoryBlobTarget(layout: string): BlobTarget {
  const dir = path.join(layout, 'blobs', 'sha256');
  let made: Promise<void> | undefined;
  const ready = () =>
    (made ??= fs.promises.mkdir(dir, { recursive: true }).then(
      () => undefined,
      (err: unknown) => {
        throw asLayerflatError(err, `creating ${dir}`);
      },
    ));
  return {
    async putLayer(layer, compression) {
      await ready();
      const temp = path.join(dir, `.layerflat-${crypto.randomBytes(4).toString('hex')}.tmp`);
      const fh = await fs.promises.open(temp, 'wx').catch((err: unknown) => {
        throw asLayerflatError(err, `creating ${temp}`);
      });
      try {
        let position = 0;
        const written = await writeOutputLayer(
          layer,
          compression,
          fileConsumer(temp, 0, async (chunk) => {
            await writeFully(fh, chunk, position);
            position += chunk.length;
          }),
        );
        await fh.close();
        await fs.promises.rename(temp, path.join(dir, written.digest.hex));
        return written;
      } catch (err) {
        await fh.close().catch(() => undefined);
        await fs.promises.rm(temp, { force: true });
        throw withContext(err, `writing ${temp}`);
      }
    },
    async putBlob(data) {
      await ready();
      const file = path.join(dir, sha256Hex(data));
      await fs.promises.writeFile(file, data).catch((err: unknown) => {
        throw asLayerflatError(err, `writing ${file}`);
      });
    },
  };
}

/** Blobs appended to an archive as "blobs/sha256/<hex>"; the caller adds the directories. */
export function archiveBlobTarget(writer: TarFileWriter): BlobTarget {
  const seen = new Set<string>();
  const nameOnce = (hex: string) => {
    if (seen.has(hex)) return undefined;
    seen.add(hex);
    return `blobs/sha256/${hex}`;
  };
  return {
    putLayer: (layer, compression) =>
      writer.addStreamed(
        (consume) => writeOutputLayer(layer, compression, consume),
        (written) => nameOnce(written.digest.hex),
      ),
    async putBlob(data) {
      const name = nameOnce(sha256Hex(data));
      if (name !== undefined) await writer.addFile(name, data);
    },
  };
}
