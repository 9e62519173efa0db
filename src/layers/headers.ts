/**
 * A layer's entry headers for planning only — the flat layer's exact size before any byte goes to
 * stdout. A plain tar lying in a file is read in place, header blocks only, seeking over the data,
 * and not hashed: nothing read here reaches the output, and the pass that copies the bytes checks
 * them (a layer changed in between fails that pass, leaving the stream unterminated); headers
 * that end early are read again, checked, so damage is reported as damage. Anything else is
 * decoded as usual, with its checks.
 */
import { withContextEach } from '../errors.js';
import type { Layer } from '../image/types.js';
import { detectCompression, MAGIC_LENGTH } from '../compress/detect.js';
import { readHead } from '../bytes/file-range.js';
import { scanTarFile } from '../tar/list-file.js';
import type { TarReadItem } from '../tar/reader.js';
import { layerTar, type LayerTar } from './layer-tar.js';
import { blameLayer } from './read.js';

/** The entries of `layer` whose data is never read: calling body() is a bug. */
export function layerHeaders(layer: Layer, where: string): LayerTar {
  return { where, entries: () => withContextEach(readHeaders(layer, where), where) };
}

async function* readHeaders(layer: Layer, where: string): AsyncGenerator<TarReadItem> {
  const { source } = layer;
  if (!('file' in source) || detectCompression(await readHead(source.file, MAGIC_LENGTH)) !== 'none') {
    yield* layerTar(layer, where).entries();
    return;
  }
  const body = (): never => {
    throw new Error(`${where}: entry data is not read while planning`);
  };
  const { path, start, size } = source.file;
  try {
    for await (const entry of scanTarFile(path, { start, length: size })) yield { entry, body };
  } catch (err) {
    // Unchecked headers that do not parse: damaged bytes are reported as damage (see blame).
    await blameLayer(layer, err);
  }
}
