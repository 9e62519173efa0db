/** How the inspect table shows a layer's build step. */

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
  // "/bin/sh -c ", "/bin/sh -e -c ", "RUN /bin/sh -c "
  const shell = /^(?:RUN )?(?:\/bin\/)?(?:ba)?sh(?: -[a-z]+)* -c /;
  const m = shell.exec(s);
  if (m) {
    const rest = s.slice(m[0].length);
    s = rest.startsWith('#(nop)') ? rest.slice('#(nop)'.length).trim() : `RUN ${rest}`;
  }
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
