/**
 * Who may own what in the rootfs: whether layerflat can give every path its entry's owner
 * (lchown), and which ids it can give.
 *
 * - root in the initial user namespace (`/proc/self/uid_map` is the identity map
 *   "0 0 4294967295"): any id; device nodes and trusted.* xattrs too;
 * - root inside a user namespace (`podman unshare`, `unshare -r`): the ids the namespace maps —
 *   podman unshare maps the user's own id and its /etc/subuid range, as rootless podman does for
 *   its own storage; no device nodes, no trusted.* (the kernel refuses both there);
 * - anyone else: no chown at all. layerflat then refuses rather than make a rootfs whose every
 *   file belongs to the user running it — setuid programs, sshd's key checks, anything that
 *   looks at owners would silently break. umoci's answer (a user.rootlesscontainers xattr holding
 *   the owner) is read by neither podman nor runc. `noChown` accepts that loss, said once.
 */
import fs from 'node:fs';
import { LayerflatError } from '../../errors.js';

/** One line of /proc/PID/uid_map: ids `inside`.. of this namespace are `outside`.. of its parent. */
export interface IdRange {
  inside: number;
  outside: number;
  count: number;
}

export interface Ownership {
  /** lchown every path to its entry's uid:gid. */
  chown: boolean;
  /** Running in a user namespace other than the initial one. */
  userNamespace: boolean;
  /** Root of the initial namespace: device nodes and trusted.* xattrs can be made. */
  privileged: boolean;
  /** Root here (of a user namespace, maybe): security.* xattrs (file capabilities) can be set. */
  root: boolean;
  /** The ids this namespace has (all of them in the initial one). */
  uids: readonly IdRange[];
  gids: readonly IdRange[];
}

/** The initial namespace's map: every id is itself. */
const IDENTITY: readonly IdRange[] = [{ inside: 0, outside: 0, count: 4294967295 }];

/** Parse a uid_map / gid_map text ("inside outside count" per line); throws on a malformed line. */
export function parseIdMap(text: string): IdRange[] {
  const out: IdRange[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    if (!m) throw new Error(`not an id map line: ${JSON.stringify(line)}`);
    out.push({ inside: Number(m[1]), outside: Number(m[2]), count: Number(m[3]) });
  }
  return out;
}

/** Whether `map` is the initial namespace's identity map (no user namespace). */
export function isInitialNamespace(map: readonly IdRange[]): boolean {
  return map.length === 1 && map[0]!.inside === 0 && map[0]!.outside === 0 && map[0]!.count === 4294967295;
}

/** Whether `id` has a name in this namespace (chown to an unmapped id fails with EINVAL). */
export function mapsId(map: readonly IdRange[], id: number): boolean {
  return map.some((r) => id >= r.inside && id - r.inside < r.count);
}

/** How the maps read in messages: "0-65535" or "0, 1-200000". */
export function describeMap(map: readonly IdRange[]): string {
  return map.map((r) => (r.count === 1 ? `${r.inside}` : `${r.inside}-${r.inside + r.count - 1}`)).join(', ');
}

export interface OwnershipFacts {
  /** The effective uid (process.geteuid()). */
  euid: number;
  /** The text of /proc/self/uid_map and gid_map; undefined where there is no /proc (not Linux). */
  uidMap?: string;
  gidMap?: string;
  /** --no-chown: leave every path to whoever runs layerflat. */
  noChown: boolean;
  /** How to say the command again inside podman unshare, for the message. */
  command: string;
}

/** What this process may do with owners; throws CANNOT_CHOWN when it can do nothing and `noChown` was not given. */
export function decideOwnership(f: OwnershipFacts): Ownership {
  const uids = f.uidMap === undefined ? IDENTITY : parseIdMap(f.uidMap);
  const gids = f.gidMap === undefined ? IDENTITY : parseIdMap(f.gidMap);
  const userNamespace = !isInitialNamespace(uids);
  const root = f.euid === 0;
  const privileged = root && !userNamespace;
  if (root && !f.noChown) return { chown: true, userNamespace, privileged, root, uids, gids };
  if (!f.noChown) throw cannotChown(f, userNamespace);
  return { chown: false, userNamespace, privileged, root, uids, gids };
}

function cannotChown(f: OwnershipFacts, userNamespace: boolean): LayerflatError {
  const where = userNamespace ? 'in a user namespace where it is not root' : 'outside a user namespace';
  return new LayerflatError(
    'CANNOT_CHOWN',
    `running as uid ${f.euid} ${where}, layerflat cannot give the rootfs's files their owners: ` +
      `run it as root, or rootless inside podman's user namespace (podman unshare ${f.command}), ` +
      'or pass --no-chown to leave every file owned by you (setuid and owner checks then break)',
  );
}

/** The facts of this process (reads /proc/self/uid_map and gid_map where they exist). */
export function ownershipOfProcess(noChown: boolean, command: string): Ownership {
  const read = (file: string) => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      return undefined; // no /proc (or not Linux): the initial namespace is all there is
    }
  };
  const euid = process.geteuid?.() ?? -1; // no geteuid (Windows): nobody who can chown
  return decideOwnership({
    euid,
    uidMap: read('/proc/self/uid_map'),
    gidMap: read('/proc/self/gid_map'),
    noChown,
    command,
  });
}
