/**
 * The merged filesystem of a stack of layer tars (or of one plain filesystem tar, such as
 * `docker export` writes), built bottom-up as an engine builds it, with content hashed as it
 * streams by.
 */
import { createHash } from 'node:crypto';
import { withContext } from '../errors.js';
import type { LayerTar } from '../layers/layer-tar.js';
import { isStorageArtefactXattr } from '../engine/whiteout.js';
import { factsOf, type FileFacts } from './facts.js';
import { FsTree } from '../engine/fs-tree.js';

/** Build the merged view of `layers` (bottom first). */
export async function imageView(layers: readonly LayerTar[]): Promise<FsTree<FileFacts>> {
  // A hardlink's header sets the shared file's owner, mode and mtime and adds its xattrs, as the engines apply it.
  const tree = new FsTree<FileFacts>({
    onLink: (file, link) => {
      // A symlink's mode stays 0777 (factsOf): no filesystem an engine writes keeps another.
      const mode = file.type === 'symlink' ? file.mode : link.mode;
      Object.assign(file, { mode, uid: link.uid, gid: link.gid, mtime: link.mtime });
      file.xattrs = { ...file.xattrs, ...link.xattrs };
    },
    // A directory a layer changed without an entry of its own shows the time the engine loaded it.
    onStamped: (dir) => {
      if (dir.value) dir.value = { ...dir.value, mtime: undefined };
    },
  });
  for (let i = 0; i < layers.length; i++) {
    tree.startLayer(i);
    for await (const item of layers[i]!.entries()) {
      const { entry } = item;
      let sha256: string | undefined;
      if (entry.type === 'file') {
        const hash = createHash('sha256');
        for await (const chunk of item.body()) hash.update(chunk);
        sha256 = hash.digest('hex');
      }
      const facts = factsOf(entry, sha256);
      // Overlay storage keeps these on its own files; they are not part of the image's content.
      for (const k of Object.keys(facts.xattrs)) if (isStorageArtefactXattr(k)) delete facts.xattrs[k];
      try {
        tree.apply({
          path: entry.path,
          type: entry.type,
          linkname: entry.linkname,
          value: facts,
          rooted: entry.rooted,
        });
      } catch (err) {
        throw withContext(err, layers[i]!.where);
      }
    }
    tree.endLayer();
  }
  return tree;
}
