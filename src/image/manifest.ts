/**
 * Parsing and validating the JSON documents of an image: OCI image indexes (and Docker manifest
 * lists), image manifests (OCI and Docker schema 2) and configs. Each parser takes the already
 * parsed JSON plus `where` — the file or blob it came from — and fails with BAD_MANIFEST or
 * UNKNOWN_MEDIA_TYPE naming that place, so a user learns which file of which archive is wrong.
 */
import { LayerflatError } from '../errors.js';
import { Digest } from './digest.js';
import type { Descriptor, ImageConfig, Platform } from './types.js';
import { isIndexMediaType, isManifestMediaType } from './media-types.js';

/** An OCI image index or Docker manifest list. */
export interface ImageIndex {
  schemaVersion: number;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

/** An OCI image manifest or Docker schema-2 manifest. */
export interface ImageManifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

function bad(where: string, what: string): LayerflatError {
  return new LayerflatError('BAD_MANIFEST', `${where}: ${what}`, { located: true });
}

/** A digest field parsed once; BAD_MANIFEST (or UNSUPPORTED for another algorithm) naming it. */
function digestField(v: unknown, where: string, field: string): Digest {
  try {
    return Digest.parse(v);
  } catch (err) {
    const e = err as LayerflatError;
    throw new LayerflatError(e.code, `${where}: ${field}: ${e.message}`, { located: true });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringMap(v: unknown, where: string, field: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v) || Object.values(v).some((x) => typeof x !== 'string')) {
    throw bad(where, `"${field}" must be an object of strings`);
  }
  return v as Record<string, string>;
}

function parsePlatformField(v: unknown, where: string): Platform | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v) || typeof v['os'] !== 'string' || typeof v['architecture'] !== 'string') {
    throw bad(where, '"platform" must have string "os" and "architecture"');
  }
  const variant = typeof v['variant'] === 'string' && v['variant'] !== '' ? v['variant'] : undefined;
  return { os: v['os'], architecture: v['architecture'], ...(variant ? { variant } : {}) };
}

/** Parse JSON bytes; BAD_MANIFEST naming `where` if they are not JSON. */
export function parseJSONBytes(data: Buffer, where: string): unknown {
  try {
    return JSON.parse(data.toString('utf8')) as unknown;
  } catch (err) {
    const message = `${where}: invalid JSON: ${(err as Error).message}`;
    throw new LayerflatError('BAD_MANIFEST', message, { cause: err, located: true });
  }
}

/** Validate one content descriptor; `field` names it in messages ("layers[2]"). */
function parseDescriptor(v: unknown, where: string, field: string): Descriptor {
  if (!isObject(v)) throw bad(where, `${field} is not an object`);
  const { mediaType, size } = v;
  if (typeof mediaType !== 'string' || mediaType === '') throw bad(where, `${field} has no mediaType`);
  const digest = digestField(v['digest'], where, `${field}.digest`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
    throw bad(where, `${field} has an invalid size ${JSON.stringify(size)}`);
  const annotations = stringMap(v['annotations'], where, `${field}.annotations`);
  const platform = parsePlatformField(v['platform'], where);
  return { mediaType, digest, size, ...(annotations ? { annotations } : {}), ...(platform ? { platform } : {}) };
}

function checkSchema(doc: Record<string, unknown>, where: string): void {
  if (doc['schemaVersion'] === 1) {
    throw new LayerflatError(
      'UNSUPPORTED',
      `${where}: Docker schema 1 manifests are not supported; convert with skopeo copy first`,
    );
  }
  if (doc['schemaVersion'] !== 2)
    throw bad(where, `schemaVersion must be 2, not ${JSON.stringify(doc['schemaVersion'])}`);
}

/** Validate an image index / manifest list. */
export function parseIndex(json: unknown, where: string): ImageIndex {
  if (!isObject(json)) throw bad(where, 'not a JSON object');
  checkSchema(json, where);
  const mediaType = json['mediaType'];
  if (mediaType !== undefined && (typeof mediaType !== 'string' || !isIndexMediaType(mediaType))) {
    throw new LayerflatError(
      'UNKNOWN_MEDIA_TYPE',
      `${where}: expected an image index, found mediaType ${JSON.stringify(mediaType)}`,
    );
  }
  if (!Array.isArray(json['manifests'])) throw bad(where, '"manifests" must be an array');
  const manifests = json['manifests'].map((d, i) => parseDescriptor(d, where, `manifests[${i}]`));
  const annotations = stringMap(json['annotations'], where, 'annotations');
  return { schemaVersion: 2, ...(mediaType ? { mediaType } : {}), manifests, ...(annotations ? { annotations } : {}) };
}

/** Validate an image manifest (not an index: those fail with UNKNOWN_MEDIA_TYPE). */
export function parseManifest(json: unknown, where: string): ImageManifest {
  if (!isObject(json)) throw bad(where, 'not a JSON object');
  checkSchema(json, where);
  const mediaType = json['mediaType'];
  if (mediaType !== undefined && (typeof mediaType !== 'string' || !isManifestMediaType(mediaType))) {
    throw new LayerflatError(
      'UNKNOWN_MEDIA_TYPE',
      `${where}: expected an image manifest, found mediaType ${JSON.stringify(mediaType)}`,
    );
  }
  const config = parseDescriptor(json['config'], where, 'config');
  if (!Array.isArray(json['layers'])) throw bad(where, '"layers" must be an array');
  const layers = json['layers'].map((d, i) => parseDescriptor(d, where, `layers[${i}]`));
  const annotations = stringMap(json['annotations'], where, 'annotations');
  return {
    schemaVersion: 2,
    ...(mediaType ? { mediaType } : {}),
    config,
    layers,
    ...(annotations ? { annotations } : {}),
  };
}

/**
 * Validate an image config: an object whose rootfs is {type: "layers", diff_ids: [digest...]}.
 * The object is returned as parsed, so unknown fields and key order survive a rewrite.
 */
export function parseConfig(json: unknown, where: string): ImageConfig {
  if (!isObject(json)) throw bad(where, 'image config is not a JSON object');
  const rootfs = json['rootfs'];
  if (!isObject(rootfs) || !Array.isArray(rootfs['diff_ids'])) throw bad(where, 'image config has no rootfs.diff_ids');
  if (rootfs['type'] !== 'layers')
    throw bad(where, `rootfs.type must be "layers", not ${JSON.stringify(rootfs['type'])}`);
  rootfs['diff_ids'].forEach((d, i) => digestField(d, where, `rootfs.diff_ids[${i}]`));
  if (json['config'] !== undefined && json['config'] !== null && !isObject(json['config']))
    throw bad(where, '"config" must be an object');
  if (json['history'] !== undefined && json['history'] !== null) {
    if (!Array.isArray(json['history'])) throw bad(where, '"history" must be an array');
    json['history'].forEach((h, i) => checkHistoryEntry(h, where, i));
  }
  return json as ImageConfig;
}

/** A history entry is an object whose known fields have their types (null counts as absent, as in Go). */
function checkHistoryEntry(h: unknown, where: string, i: number): void {
  if (!isObject(h)) throw bad(where, `history[${i}] is not an object`);
  for (const field of ['created', 'created_by', 'author', 'comment']) {
    const v = h[field];
    if (v !== undefined && v !== null && typeof v !== 'string')
      throw bad(where, `history[${i}].${field} is not a string`);
  }
  const empty = h['empty_layer'];
  if (empty !== undefined && empty !== null && typeof empty !== 'boolean') {
    throw bad(where, `history[${i}].empty_layer is not a boolean`);
  }
}
