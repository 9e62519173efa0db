/**
 * Reading what podman prints, pure: `image inspect`'s JSON, `load`'s "Loaded image…" lines.
 * Written against podman 1.6.4 (RHEL 7) and 4.x, which print these alike.
 */
import { LayerflatError } from '../../errors.js';

/** What layerflat needs of `podman image inspect NAME`. */
export interface InspectedImage {
  /** The image ID: the config's sha256 hex. */
  id: string;
  /** Bytes of the image's layers as podman counts them (about the size of its docker-archive). */
  size: number;
  repoTags: string[];
}

/** The first image of `podman image inspect`'s JSON array. */
export function parseInspect(stdout: string, name: string): InspectedImage {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    json = undefined;
  }
  const first = (Array.isArray(json) ? json[0] : undefined) as Record<string, unknown> | undefined;
  const id = first?.['Id'];
  const size = first?.['Size'];
  if (typeof id !== 'string' || !/^[a-f0-9]{64}$/.test(id) || typeof size !== 'number' || size < 0) {
    throw new LayerflatError('ENGINE_FAILED', `podman image inspect ${name}: output without an image Id and Size`);
  }
  const tags = first?.['RepoTags'];
  const repoTags = Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [];
  return { id, size, repoTags };
}

/**
 * The names (or "sha256:ID") `podman load` reports: 4.x prints "Loaded image: NAME" once per
 * name, 1.6.4 one line "Loaded image(s): A, B" (its join is ", "; "," kept for safety).
 */
export function parseLoaded(stdout: string): string[] {
  const names: string[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^Loaded image(?:\(s\)|s)?:\s*(.*)$/.exec(line.trim());
    if (m)
      names.push(
        ...m[1]!
          .split(',')
          .map((n) => n.trim())
          .filter((n) => n !== ''),
      );
  }
  return names;
}

/** podman's stderr as one line for a message: its non-empty lines joined, cut to a readable length. */
export function oneLine(stderr: string, max = 400): string {
  const text = stderr
    .split('\n')
    .map((l) => l.replace(/\x1b\[[0-9;]*m/g, '').trim())
    .filter((l) => l !== '')
    .join('; ');
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Whether podman's stderr says the image is not in its storage (1.6.4 and 4.x wordings). */
export function saysNoSuchImage(stderr: string): boolean {
  return /no such image|image not known|unable to find .* in local storage|image .* not found/i.test(stderr);
}
