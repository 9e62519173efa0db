/**
 * What a header sets on the file it names, as the engines apply it: the owner, mode and mtime of
 * the last header (a hardlink's header included) and every header's xattrs, added in order.
 */
export interface EntryMeta {
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  xattrs: ReadonlyMap<string, Buffer>;
}

/** The fields of an entry that carry metadata (a tar entry has them all; a planner spec may not). */
export interface MetaFields {
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  xattrs?: ReadonlyMap<string, Buffer>;
}

/** The metadata an entry's header applies, when it says. */
export function metaOf(e: MetaFields): EntryMeta | undefined {
  if (e.mode === undefined || e.uid === undefined || e.gid === undefined || e.mtime === undefined) return undefined;
  return { mode: e.mode & 0o7777, uid: e.uid, gid: e.gid, mtime: e.mtime, xattrs: e.xattrs ?? new Map() };
}

/** `base` with `over` applied as a later header applies: its owner, mode and mtime, its xattrs added. */
export function applied(base: EntryMeta, over: EntryMeta): EntryMeta {
  const xattrs = new Map(base.xattrs);
  for (const [k, v] of over.xattrs) xattrs.set(k, v);
  return { mode: over.mode, uid: over.uid, gid: over.gid, mtime: over.mtime, xattrs };
}

/** Whether a header that says `have` already sets everything `want` asks for. */
export function carries(have: EntryMeta, want: EntryMeta): boolean {
  if (have.mode !== want.mode || have.uid !== want.uid || have.gid !== want.gid || have.mtime !== want.mtime) {
    return false;
  }
  for (const [k, v] of want.xattrs) if (!have.xattrs.get(k)?.equals(v)) return false;
  return true;
}
