/**
 * Which build step made each layer: the config's history, less its `empty_layer` entries, lines
 * up with the layers bottom-up. When the counts differ (history edited or lost) nothing is
 * matched, because a guess would pin a layer's cost on the wrong command.
 */
import type { HistoryEntry } from '../image/types.js';

/** `created_by` of each layer, or undefined for all of them when history does not match. */
export function layerCommands(history: readonly HistoryEntry[] | undefined, layerCount: number): (string | undefined)[] {
  const made = (history ?? []).filter((h) => !h.empty_layer);
  if (made.length !== layerCount) return Array.from({ length: layerCount }, () => undefined);
  return made.map((h) => h.created_by);
}

/**
 * A `created_by` as a sysadmin reads it: the Dockerfile instruction without the shell wrapper
 * and build-arg prefix engines add, on one line, cut to `max` characters.
 *   "/bin/sh -c #(nop) COPY file:ab12 in /srv " → "COPY file:ab12 in /srv"
 *   "|1 V=2 /bin/sh -c make install"           → "RUN make install"
 *   "RUN /bin/sh -c apk add x # buildkit"       → "RUN apk add x"
 *   "/bin/sh -e -c #(nop) WORKDIR /work"        → "WORKDIR /work"
 */
export function shortCommand(createdBy: string | undefined, max = 60): string {
  if (!createdBy) return '';
  let s = createdBy.replace(/\s+/g, ' ').trim();
  s = s.replace(/ # buildkit$/, '');
  s = s.replace(/^(RUN )?\|\d+ (?:\S+=\S* )*/, '$1'); // "|2 A=1 B=2 " build args of a RUN
  const shell = /^(?:RUN )?(?:\/bin\/)?(?:ba)?sh(?: -[a-z]+)* -c /; // "/bin/sh -c ", "/bin/sh -e -c ", "RUN /bin/sh -c "
  const m = shell.exec(s);
  if (m) {
    const rest = s.slice(m[0].length);
    s = rest.startsWith('#(nop)') ? rest.slice('#(nop)'.length).trim() : `RUN ${rest}`;
  }
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
