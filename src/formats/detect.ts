/**
 * What a path holds: an OCI layout directory, a docker-archive or oci-archive tar, or a plain
 * filesystem tar (what `docker export` writes). A tar is taken for a filesystem only when it has
 * no image metadata at all — no manifest.json, index.json or oci-layout — so a broken image
 * archive is refused as one, never compared as a filesystem.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readHead } from '../bytes/file-range.js';
import { detectCompression } from '../compress/detect.js';
import { asLayerflatError, LayerflatError } from '../errors.js';
import { tarFileTree, type FileTree } from './file-tree.js';

export type Detected =
  | { format: 'oci' }
  | { format: 'docker-archive' | 'oci-archive' | 'filesystem'; tree: FileTree }
  | { format: 'compressed'; compression: string };

/**
 * The format at `file` (`label` names it in messages: "stdin" for a spool). NOT_FOUND, NOT_A_TAR
 * or BAD_MANIFEST saying what the path is instead; a compressed file is reported, not opened.
 */
export async function detectFormat(file: string, label = file): Promise<Detected> {
  let st: fs.Stats | undefined;
  try {
    st = await fs.promises.stat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw asLayerflatError(err, label);
  }
  if (!st) {
    const hint = file.includes(':')
      ? '; to choose an image inside an archive, write docker-archive:PATH:REF (or oci:, oci-archive:)'
      : '';
    throw new LayerflatError('NOT_FOUND', `${label} does not exist${hint}`);
  }
  if (st.isDirectory()) {
    if (fs.existsSync(path.join(file, 'oci-layout'))) return { format: 'oci' };
    throw new LayerflatError('BAD_MANIFEST', `${label} is a directory but not an OCI layout (no oci-layout file)`);
  }
  // What a pipe delivers when the command feeding it (docker save, podman save) failed.
  if (st.size === 0) throw new LayerflatError('NOT_A_TAR', `${label} is empty: no image archive to read`);
  const compression = detectCompression(await readHead({ path: file, start: 0, size: st.size }, 4));
  if (compression !== 'none') return { format: 'compressed', compression };
  const tree = await tarFileTree(file, label);
  if (tree.has('manifest.json')) return { format: 'docker-archive', tree };
  if (tree.has('index.json') || tree.has('oci-layout')) return { format: 'oci-archive', tree };
  return { format: 'filesystem', tree };
}
