/**
 * Adding an image to an existing OCI layout directory, as skopeo does: the new layout is built
 * complete in a private staging directory inside DEST (same filesystem), checked, then its blobs
 * are renamed into DEST/blobs (existing ones are kept: same digest, same bytes), and only then is
 * index.json replaced, atomically, under a lock file, so writers running side by side never lose
 * each other's refs. Readers never see an index naming a missing blob; an interruption leaves at
 * most unreferenced blobs, as skopeo would. A staging directory, index temporary or lock left by a
 * process that was killed is removed by the next writer (fsio/temp-names.ts, fsio/lock.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { LayerflatError, asLayerflatError } from '../../errors.js';
import { ANNOTATION_REF_NAME } from '../../image/media-types.js';
import { parseIndex, parseJSONBytes } from '../../image/manifest.js';
import type { Descriptor, WriteResult } from '../../image/types.js';
import { forgetTemp, registerTemp, removeTemp } from '../../fsio/cleanup.js';
import { withLock } from '../../fsio/lock.js';
import { removeStaleTemps, tempNameBeside, tempTag } from '../../fsio/temp-names.js';

/**
 * The raw index.json object (unknown fields kept) and its validated form. Read with one open, so
 * an index replaced meanwhile by another writer is read whole, old or new, never a mix.
 */
async function readIndex(layout: string): Promise<{ raw: Record<string, unknown>; manifests: Descriptor[] }> {
  const file = path.join(layout, 'index.json');
  const where = `${layout}: index.json`;
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(file);
  } catch (err) {
    throw asLayerflatError(err, where);
  }
  const raw = parseJSONBytes(bytes, where) as Record<string, unknown>;
  return { raw, manifests: parseIndex(raw, where).manifests };
}

function named(d: Descriptor, refName: string | undefined): boolean {
  return refName !== undefined && d.annotations?.[ANNOTATION_REF_NAME] === refName;
}

/**
 * DEST_EXISTS unless `force` when the layout already names an image `refName`; returns whether
 * it does (what --force would replace).
 */
export async function checkRefFree(layout: string, refName: string | undefined, force: boolean): Promise<boolean> {
  const { manifests } = await readIndex(layout);
  const taken = manifests.some((d) => named(d, refName));
  if (taken && !force) {
    throw new LayerflatError(
      'DEST_EXISTS',
      `${layout} already has an image named "${refName}"; pass --force to replace it`,
    );
  }
  return taken;
}

/** Temporaries in a layout of a layerflat process that no longer runs: staging dirs, index temps, lock temps. */
function removeStale(layout: string): Promise<string[]> {
  return removeStaleTemps(layout, ['staging', 'beside']);
}

/** A private staging directory inside the layout ("LAYOUT/.layerflat-HOST-PID-…"), registered as ours. */
async function makeStagingDir(layout: string): Promise<string> {
  await removeStale(layout);
  const dir = path.join(layout, `.${tempTag()}`);
  registerTemp(dir);
  try {
    await fs.promises.mkdir(dir, { mode: 0o700 });
    return dir;
  } catch (err) {
    forgetTemp(dir);
    throw asLayerflatError(err, `creating a staging directory in ${layout}`);
  }
}

async function moveBlobs(staged: string, layout: string): Promise<void> {
  const from = path.join(staged, 'blobs', 'sha256');
  const to = path.join(layout, 'blobs', 'sha256');
  try {
    await fs.promises.mkdir(to, { recursive: true });
    for (const name of await fs.promises.readdir(from)) {
      const target = path.join(to, name);
      if (fs.existsSync(target)) continue; // same digest, same bytes
      await fs.promises.rename(path.join(from, name), target);
    }
  } catch (err) {
    throw asLayerflatError(err, `moving blobs into ${layout}`);
  }
}

/** Make `data` `file`'s new content: a temporary beside it, given its mode (as root its owner), renamed over it. */
async function replaceFile(file: string, data: string): Promise<void> {
  const old = await fs.promises.stat(file).catch(() => undefined);
  const temp = tempNameBeside(file);
  registerTemp(temp);
  try {
    const fh = await fs.promises.open(temp, 'wx', 0o600);
    try {
      await fh.writeFile(data);
      if (old && process.getuid?.() === 0) await fh.chown(old.uid, old.gid);
      await fh.chmod(old ? old.mode & 0o7777 : 0o666 & ~process.umask());
    } finally {
      await fh.close();
    }
    await fs.promises.rename(temp, file);
    forgetTemp(temp);
  } catch (err) {
    await removeTemp(temp);
    throw asLayerflatError(err, `updating ${file}`);
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
    await replaceFile(path.join(layout, 'index.json'), JSON.stringify(updated));
  });
}

/**
 * Put the image of `staged` — a complete one-image layout, checked — into the layout at
 * `layout`: its blobs move in, then index.json names `entry`.
 */
export async function mergeIntoLayout(
  staged: string,
  layout: string,
  entry: Descriptor,
  refName: string | undefined,
  force: boolean,
): Promise<void> {
  await moveBlobs(staged, layout);
  await updateIndex(layout, entry, refName, force);
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
    await mergeIntoLayout(staged, layout, entry, refName, force);
    return result;
  } finally {
    await removeTemp(staged).catch(() => undefined);
  }
}
