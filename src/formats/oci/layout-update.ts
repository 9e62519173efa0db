/**
 * Adding an image to an existing OCI layout directory, as skopeo does: the new layout is built
 * complete in a private staging directory inside DEST (same filesystem), checked, then its blobs
 * are renamed into DEST/blobs (existing ones are kept: same digest, same bytes), and only then is
 * index.json replaced, atomically, under a lock file, so writers running side by side never lose
 * each other's refs. Readers never see an index naming a missing blob; an interruption leaves at
 * most unreferenced blobs, as skopeo would.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LayerflatError, asLayerflatError } from '../../errors.js';
import { ANNOTATION_REF_NAME } from '../../image/media-types.js';
import { parseIndex } from '../../image/manifest.js';
import type { Descriptor, WriteResult } from '../../image/types.js';
import { forgetTemp, registerTemp, removeTemp } from '../../fsio/cleanup.js';
import { withLock } from '../../fsio/lock.js';
import { removeStaleTemps, tempTag } from '../../fsio/temp-names.js';
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

/** A private staging directory inside the layout ("LAYOUT/.layerflat-HOST-PID-…"), registered as ours. */
async function makeStagingDir(layout: string): Promise<string> {
  await removeStaleTemps(layout, (name) => name.startsWith('.layerflat-') || name.startsWith('.index.json.'));
  const dir = path.join(layout, `.${tempTag()}`);
  registerTemp(dir);
  try {
    await fs.promises.mkdir(dir);
    return dir;
  } catch (err) {
    forgetTemp(dir);
    throw asLayerflatError(err, `creating a staging directory in ${layout}`);
  }
}

async function moveBlobs(staged: string, layout: string): Promise<void> {
  const from = path.join(staged, 'blobs', 'sha256');
  const to = path.join(layout, 'blobs', 'sha256');
  await fs.promises.mkdir(to, { recursive: true });
  for (const name of await fs.promises.readdir(from)) {
    const target = path.join(to, name);
    if (fs.existsSync(target)) continue; // same digest, same bytes
    await fs.promises.rename(path.join(from, name), target);
  }
}

/**
 * Make `layout`'s index.json list `entry`, replacing entries of the same ref name (which `force`
 * allows; without it one that appeared meanwhile is DEST_EXISTS). Holds the layout's lock.
 */
async function updateIndex(layout: string, entry: Descriptor, refName: string | undefined, force: boolean) {
  await withLock(path.join(layout, 'index.json.lock'), async () => {
    await checkRefFree(layout, refName, force);
    const { raw, manifests } = await readIndex(layout);
    const updated = { ...raw, manifests: [...manifests.filter((d) => !named(d, refName)), entry] };
    const temp = path.join(layout, `.index.json.${tempTag()}.tmp`);
    registerTemp(temp);
    try {
      await fs.promises.writeFile(temp, JSON.stringify(updated), { flag: 'wx' });
      await fs.promises.rename(temp, path.join(layout, 'index.json'));
      forgetTemp(temp);
    } catch (err) {
      await removeTemp(temp);
      throw asLayerflatError(err, `updating ${layout}/index.json`);
    }
  });
}

/**
 * Add an image to the layout at `layout`: `build` writes a complete one-image layout into a
 * staging directory, `check` may refuse it (--verify), then blobs move in and index.json names
 * it. The staging directory is removed however it ends.
 */
export async function addToLayout(
  layout: string,
  refName: string | undefined,
  force: boolean,
  build: (dir: string) => Promise<{ entry: Descriptor; result: WriteResult }>,
  check: (dir: string) => Promise<void>,
): Promise<WriteResult> {
  await checkRefFree(layout, refName, force); // fail before writing gigabytes
  const staged = await makeStagingDir(layout);
  try {
    const { entry, result } = await build(staged);
    await check(staged);
    try {
      await moveBlobs(staged, layout);
    } catch (err) {
      throw asLayerflatError(err, `moving blobs into ${layout}`);
    }
    await updateIndex(layout, entry, refName, force);
    return result;
  } finally {
    await removeTemp(staged).catch(() => undefined);
  }
}
