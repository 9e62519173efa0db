/**
 * Writing an image config back out. The config is kept whole — unknown fields, Healthcheck,
 * history — and serialised compactly in its original key order, so the only bytes that change
 * are the ones the flattening changed.
 */
import type { ImageConfig } from './types.js';

/** A copy of `config` whose rootfs.diff_ids is `diffIds`; every other field and key order kept. */
export function withDiffIds(config: ImageConfig, diffIds: readonly string[]): ImageConfig {
  return { ...config, rootfs: { ...config.rootfs, diff_ids: [...diffIds] } };
}

/** Compact JSON bytes of a config (what its digest, the image ID, is computed over). */
export function serializeConfig(config: ImageConfig): Buffer {
  return Buffer.from(JSON.stringify(config), 'utf8');
}
