/**
 * Writing a docker-archive in the classic layout that every `docker load` (20.10 on) and
 * `podman load` read: layers, then the config (its diff_ids now known), then manifest.json.
 * Into a file, layers are named by digest (each stored once); onto a stream, whose member sizes
 * must precede their bytes, as "<n>/layer.tar".
 */
import type { Writable } from 'node:stream';
import { serializeConfig, withDiffIds } from '../../image/config.js';
import { Digest } from '../../image/digest.js';
import type { Compression, OutputImage, WriteResult } from '../../image/types.js';
import type { TarFileWriter } from '../../tar/archive-file-writer.js';
import { TarStreamWriter } from '../../tar/archive-stream-writer.js';
import { writeOutputLayer, type WrittenLayer } from '../layer-output.js';

/** Layers (each stored once, as "<digest hex>.tar"), then the config, then manifest.json. */
export async function writeDockerArchive(
  writer: TarFileWriter,
  image: OutputImage,
  repoTags: string[],
  compression: Compression,
): Promise<WriteResult> {
  const layers: WrittenLayer[] = [];
  const seen = new Set<string>();
  for (const layer of image.layers) {
    const produce = (consume: Parameters<typeof writeOutputLayer>[2]) => writeOutputLayer(layer, compression, consume);
    const name = (w: WrittenLayer) => {
      if (seen.has(w.digest.hex)) return undefined;
      seen.add(w.digest.hex);
      return `${w.digest.hex}.tar`;
    };
    layers.push(await writer.addStreamed(produce, name));
  }
  const names = layers.map((l) => `${l.digest.hex}.tar`);
  return { ...(await addConfigAndManifest(writer, image, repoTags, layers, names)), bytesWritten: 0 };
}

/** Every layer's stored size, when all are known before writing (then a stream needs no spool). */
export function plannedSizes(image: OutputImage, compression: Compression): number[] | undefined {
  const sizes = image.layers.map((l) =>
    l.kind === 'copy' ? l.layer.size : compression === 'none' ? l.size : undefined,
  );
  return sizes.every((s) => s !== undefined) ? (sizes as number[]) : undefined;
}

/**
 * Stream the archive to `out` as it is made, every member's size known in advance (`sizes`).
 * A failure leaves the stream without its end-of-archive blocks, so no reader takes it as whole.
 */
export async function streamDockerArchive(
  out: Writable,
  image: OutputImage,
  sizes: number[],
  repoTags: string[],
  compression: Compression,
): Promise<WriteResult> {
  const writer = new TarStreamWriter(out);
  const layers: WrittenLayer[] = [];
  for (const [i, layer] of image.layers.entries()) {
    const produce = (consume: Parameters<typeof writeOutputLayer>[2]) => writeOutputLayer(layer, compression, consume);
    layers.push(await writer.addSized(`${i}/layer.tar`, sizes[i]!, produce));
  }
  const names = layers.map((_, i) => `${i}/layer.tar`);
  const result = await addConfigAndManifest(writer, image, repoTags, layers, names);
  return { ...result, bytesWritten: await writer.finish() };
}

/** The config (its diff_ids now known) and manifest.json, after the layers. */
async function addConfigAndManifest(
  writer: Pick<TarFileWriter, 'addFile'>,
  image: OutputImage,
  repoTags: string[],
  layers: WrittenLayer[],
  layerNames: string[],
): Promise<Omit<WriteResult, 'bytesWritten'>> {
  const configBytes = serializeConfig(
    withDiffIds(
      image.config,
      layers.map((l) => String(l.diffId)),
    ),
  );
  const configDigest = Digest.of(configBytes);
  await writer.addFile(`${configDigest.hex}.json`, configBytes);
  const entry = { Config: `${configDigest.hex}.json`, RepoTags: repoTags, Layers: layerNames };
  const manifest = Buffer.from(JSON.stringify([entry]));
  await writer.addFile('manifest.json', manifest);
  return { manifestDigest: Digest.of(manifest), configDigest, layers };
}
