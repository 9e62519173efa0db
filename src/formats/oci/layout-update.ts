/**
 * Adding an image to an existing OCI layout directory, as skopeo does: the new layout is built
 * complete in a private staging directory inside DEST (same filesystem), checked, then its blobs
 * are renamed into DEST/blobs (existing ones are kept: same digest, same bytes), and only then is
 * index.json replaced, atomically. Readers never see an index naming a missing blob; an
 * interruption leaves at most unreferenced blobs, as skopeo would.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { LayerflatError, asLayerflatError } from '../../errors.js';
import { ANNOTATION_REF_NAME } from '../../image/media-types.js';
import { parseIndex } from '../../image/manifest.js';
import type { Descriptor } from '../../image/types.js';
import { forget, removeOnSignal, removeTemp } from '../../fsio/cleanup.js';
import { directoryTree } from '../file-tree.js';

/** The raw index.json object (unknown fields kept) and its validated form. */
async function readIndex(layout: string): Promise<{ raw: Record<string, unknown>; manifests: Descriptor[] }> {
  const raw = (await directoryTree(layout).readJSON('index.json')) as Record<string, unknown>;
  return { raw, manifests: parseIndex(raw, `${layout}: index.json`).manifests };
}

function named(d: Descriptor, refName: string | undefined): boolean {
  return refName !== undefined && d.annotations?.[ANNOTATION_REF_NAME] === refName;
}

/** DEST_EXISTS unless `force` when the layout already names an image `refName`. */
export async function checkRefFree(layout: string, refName: string | undefined, force: boolean): Promise<void> {
  const { manifests } = await readIndex(layout);
  if (!force && manifests.some((d) => named(d, refName))) {
    throw new LayerflatError(
      'DEST_EXISTS',
      `${layout} already has an image named "${refName}"; pass --force to replace it`,
    );
  }
}

/** A private staging directory inside the layout, removed on SIGINT/SIGTERM. */
export async function makeStagingDir(layout: string): Promise<string> {
  try {
    const dir = await fs.promises.mkdtemp(path.join(layout, '.layerflat-'));
    removeOnSignal(dir);
    return dir;
  } catch (err) {
    throw asLayerflatError(err, `creating a staging directory in ${layout}`);
  }
}

async function moveBlobs(staged: string, layout: string): Promise<void> {
  const from = path.join(staged, 'blobs', 'sha256');
  const to = path.join(layout, 'blobs', 'sha256');
  await fs.promises.mkdir(to, { recursive: true });
  for (const name of await fs.promises.readdir(from)) {
    const target = path.join(to, name);
    if (fs.existsSync(target)) continue;
    await fs.promises.rename(path.join(from, name), target);
  }
}

/**
 * Move the blobs of the complete layout at `staged` into `layout` and make `layout`'s
 * index.json list `entry`, replacing entries of the same ref name (which `force` allows; without
 * it one that appeared meanwhile is DEST_EXISTS). `staged` is left for the caller to remove.
 */
export async function publishIntoLayout(
  staged: string,
  layout: string,
  entry: Descriptor,
  refName: string | undefined,
  force: boolean,
): Promise<void> {
  await moveBlobs(staged, layout);
  await checkRefFree(layout, refName, force);
  const { raw, manifests } = await readIndex(layout);
  const updated = { ...raw, manifests: [...manifests.filter((d) => !named(d, refName)), entry] };
  const temp = path.join(layout, `.index.json.layerflat-${crypto.randomBytes(4).toString('hex')}.tmp`);
  removeOnSignal(temp);
  try {
    await fs.promises.writeFile(temp, JSON.stringify(updated), { flag: 'wx' });
    await fs.promises.rename(temp, path.join(layout, 'index.json'));
    forget(temp);
  } catch (err) {
    await removeTemp(temp);
    throw asLayerflatError(err, `updating ${layout}/index.json`);
  }
}
