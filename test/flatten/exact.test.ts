/**
 * flatten plans exactly — from the engines' model over the layers' headers — what one pass cannot
 * carry, and does so before anything is put in place: to a file, to an OCI layout, and to stdout
 * (where the planning pass finds it before the first byte goes out).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { flatten } from '../../src/flatten/flatten.js';
import { verify } from '../../src/verify/verify.js';
import { buildTar } from '../helpers/tar-builder.js';
import { archiveFile } from '../transports/handmade.js';
import { tempDir } from '../transports/helpers.js';

const archive = archiveFile;

/** A link header sets the file's owner and mode; a later layer deletes the link: only the target shows it. */
const layers = () => [
  buildTar([
    { path: 'regular', content: 'data', uid: 0, mode: 0o644 },
    { path: 'hard link', type: 'hardlink', linkname: 'regular', uid: 1337, gid: 2020, mode: 0o750 },
  ]),
  buildTar([{ path: '.wh.hard link' }]),
];

describe('the exact plan', () => {
  it.each(['file', 'oci', 'stdout'])('carries a hidden link header’s metadata to %s', async (kind) => {
    const dir = tempDir();
    const source = archive(dir, layers());
    const chunks: Buffer[] = [];
    const stdout = new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(Buffer.from(c)), cb()) });
    const dest = kind === 'file' ? path.join(dir, 'flat.tar') : kind === 'oci' ? `oci:${path.join(dir, 'lay')}:f` : '-';
    const r = await flatten({ source, dest, stdout });
    expect(r.notes.join(' ')).toMatch(/planned exactly/);
    let out = dest;
    if (kind === 'stdout') {
      out = path.join(dir, 'piped.tar');
      fs.writeFileSync(out, Buffer.concat(chunks));
    }
    expect((await verify({ a: source, b: out })).equal).toBe(true);
    const names = fs.readdirSync(dir).sort();
    expect(names).toEqual(['img.tar', kind === 'file' ? 'flat.tar' : kind === 'oci' ? 'lay' : 'piped.tar'].sort());
  });

  // docs/engine-rules.md §3 (hardlink-lower-then-overwrite-target): h keeps the lower t's content
  // with h's header; t is the new file; they are not linked.
  it("moves a lower file's content under a later hardlink's name when its own name is replaced", async () => {
    const dir = tempDir();
    const source = archive(dir, [
      buildTar([{ path: 't', content: 'lower t\n' }]),
      buildTar([
        { path: 'h', type: 'hardlink', linkname: 't', uid: 1001, gid: 1001, mode: 0o600 },
        { path: 't', content: 'new\n' },
      ]),
    ]);
    const out = path.join(dir, 'flat.tar');
    const r = await flatten({ source, dest: out });
    expect(r.notes.join(' ')).toMatch(/planned exactly/);
    expect((await verify({ a: source, b: out })).equal).toBe(true);
  });

  it('refuses (UNSUPPORTED) rather than lose a file whose new name a layer between hides', async () => {
    // The opaque marker of d hides what layer 0 has under d, so its t cannot be written as d/h.
    const dir = tempDir();
    const source = archive(dir, [
      buildTar([
        { path: 'd', type: 'dir' },
        { path: 't', content: 'lower t\n' },
      ]),
      buildTar([
        { path: 'd/.wh..wh..opq' },
        { path: 'd/h', type: 'hardlink', linkname: 't' },
        { path: 't', content: 'new\n' },
      ]),
    ]);
    const out = path.join(dir, 'flat.tar');
    await expect(flatten({ source, dest: out })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    expect(fs.existsSync(out)).toBe(false);
  });
});
