/**
 * `docker://HOST/REPO:TAG` as a destination. The flat layer streams up while it is made: one
 * upload whose bytes go in a single streamed PATCH, closed by `PUT ?digest=` once the digest is
 * known at the end, as the distribution spec allows. A kept base layer the repository already has
 * is skipped, one in another repository of the same registry is mounted (else its stored bytes
 * are streamed up, checked on the way). Then the config, then the manifest by its digest — the
 * staged image --verify reads back — and only then the tag: nothing is tagged if anything failed.
 * Nothing is written to disk. An upload that fails midway is not retried: the flat layer is made
 * as it is sent, so the run fails; the upload is cancelled where the registry allows it, else it
 * waits for the registry's purge of stale uploads (client.ts cancelUpload).
 */
import { createHash } from 'node:crypto';
import { LayerflatError } from '../../errors.js';
import { withDiffIds, serializeConfig } from '../../image/config.js';
import { Digest } from '../../image/digest.js';
import { OCI_CONFIG, OCI_MANIFEST } from '../../image/media-types.js';
import type { Compression, OutputLayer, WriteResult } from '../../image/types.js';
import { writeOutputLayer, type WrittenLayer } from '../../formats/layer-output.js';
import type { ChunkConsumer } from '../../bytes/consumer.js';
import type { Sink } from '../types.js';
import { RegistryClient } from './client.js';
import { describeRegistryImage, isDigestRef } from './reference.js';
import { registryImageOf } from './source.js';

export const registrySink: Sink = {
  defaultCompression: 'gzip',

  async prepare(ref, intent) {
    const image = registryImageOf(ref);
    if (isDigestRef(image.ref)) {
      throw new LayerflatError(
        'BAD_REFERENCE',
        `${describeRegistryImage(image)}: a destination needs a tag, not a digest`,
      );
    }
    const client = new RegistryClient(image, intent.registry);
    await client.authorize(true);
    const exists = await client.hasManifest(image.ref);
    if (exists && !intent.force) {
      throw new LayerflatError(
        'DEST_EXISTS',
        `${client.name} already exists; give --force to replace the tag (the new image is verified first)`,
      );
    }
    return { exists, wantsLayerSizes: false };
  },

  async write(ref, output, options) {
    const image = registryImageOf(ref);
    const client = new RegistryClient(image, options.registry);
    const layers: WrittenLayer[] = [];
    let bytesWritten = 0;
    for (const layer of output.layers) {
      const written = await pushLayer(client, layer, options.compression);
      layers.push(written.layer);
      bytesWritten += written.sent;
    }
    const configBytes = serializeConfig(
      withDiffIds(
        output.config,
        layers.map((l) => String(l.diffId)),
      ),
    );
    const config = { mediaType: OCI_CONFIG, digest: Digest.of(configBytes), size: configBytes.length };
    if (!(await client.hasBlob(config.digest))) await client.upload(configBytes, () => config.digest);
    const manifestBytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config,
        layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
      }),
    );
    const manifestDigest = Digest.of(manifestBytes);
    await client.putManifest(String(manifestDigest), manifestBytes, OCI_MANIFEST);
    await options.beforeCommit?.({
      transport: 'docker',
      path: `${image.registry}/${image.repository}`,
      ref: String(manifestDigest),
      registry: { ...image, ref: String(manifestDigest) },
    });
    await client.putManifest(image.ref, manifestBytes, OCI_MANIFEST);
    return {
      manifestDigest,
      configDigest: config.digest,
      layers,
      bytesWritten: bytesWritten + configBytes.length + manifestBytes.length,
      names: [describeRegistryImage(image).slice('docker://'.length)],
    } satisfies WriteResult;
  },
};

/** One layer into the repository; `sent` is the bytes that went over the wire. */
async function pushLayer(
  client: RegistryClient,
  layer: OutputLayer,
  compression: Compression,
): Promise<{ layer: WrittenLayer; sent: number }> {
  if (layer.kind === 'copy') {
    const src = layer.layer;
    if (src.digest && src.size !== undefined && src.diffId && src.mediaType) {
      const known: WrittenLayer = { digest: src.digest, diffId: src.diffId, size: src.size, mediaType: src.mediaType };
      if (await client.hasBlob(src.digest)) return { layer: known, sent: 0 };
      const o = src.origin;
      if (o && o.registry === client.image.registry && (await client.mount(src.digest, o.repository))) {
        return { layer: known, sent: 0 };
      }
    }
  }
  const consumer = uploadConsumer(client);
  let written;
  try {
    written = await writeOutputLayer(layer, compression, consumer.consumer);
  } catch (err) {
    // The layer failed first (a source blob not what its digest says): let the upload end, and
    // cancel itself at the registry, before the failure ends the run.
    if (consumer.started()) await consumer.done.catch(() => undefined);
    throw err;
  }
  await consumer.done;
  if (!written.digest.equals(consumer.digest())) {
    throw new Error(`the bytes uploaded hash to ${consumer.digest()}, the layer's are ${written.digest}`);
  }
  return { layer: written, sent: written.size };
}

/**
 * A ChunkConsumer that sends what it is given as one upload. The upload's closing PUT needs the
 * digest, which the layer writer learns only at the end: the consumer hashes what it sends too,
 * so the PUT waits for nothing but the last byte.
 */
function uploadConsumer(client: RegistryClient) {
  const hash = createHash('sha256');
  let result: Digest | undefined;
  let settle!: { resolve: () => void; reject: (err: unknown) => void };
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  done.catch(() => undefined);
  let started = false;
  const consumer: ChunkConsumer = {
    async write(chunks, onWritten) {
      started = true;
      let sent = 0;
      async function* hashed(): AsyncGenerator<Buffer> {
        for await (const chunk of chunks) {
          hash.update(chunk);
          sent += chunk.length;
          yield chunk; // not a file consumer: the layer writer never hands us reused buffers
          onWritten?.(sent);
        }
        result = Digest.sha256Hex(hash.digest('hex'));
      }
      try {
        await client.upload(hashed(), () => result!);
        settle.resolve();
      } catch (err) {
        settle.reject(err);
        throw err;
      }
    },
  };
  return { consumer, done, digest: () => result!, started: () => started };
}
