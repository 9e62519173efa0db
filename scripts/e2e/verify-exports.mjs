#!/usr/bin/env node
// scripts/e2e/verify-exports.mjs ENGINE ORIG_EXPORT FLAT_EXPORT
// scripts/e2e/verify-exports.mjs ENGINE SAVED_IMAGE ORIG_EXPORT --image
//
// Two-export mode: runs `layerflat verify ORIG_EXPORT FLAT_EXPORT --json` (no --ignore option) on
// the exports of two containers, one created from the original image and one from the flat image.
// Exit 0 when:
//   - layerflat finds the two filesystems identical, or
//   - ENGINE is docker and the only differences are the mtimes of the paths docker itself adds to
//     every container (/.dockerenv, /dev/*, /etc/{hostname,hosts,resolv.conf,mtab}, /proc, /sys,
//     and the directories that hold them): docker stamps them with the container's creation time,
//     and two containers are not created in the same second. Every other attribute of those paths
//     (type, mode, owner, size, content) must still be equal, and all differing mtimes on each side
//     must be one single instant (the creation time), so nothing of the image can hide here.
// `--ignore-engine-files` is deliberately not used: it would also drop the content of those paths
// and the mtimes of /, /etc and /run from the comparison.
// Podman adds nothing to the export of a created container, so for podman only identity passes.
//
// --image mode: `layerflat verify SAVED_IMAGE ORIG_EXPORT --ignore-engine-files` — layerflat's own
// merge of the original's layers against the engine's materialisation of them. Allowed (and
// listed) are only what the engine cannot show: rootless podman cannot create device nodes (it
// loads a layer with a char/block device silently without it, and still lists it in the layer it
// saves); docker's export carries no user.* xattrs (only security.capability); docker creates a
// missing WORKDIR (--workdir=) at container creation.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const flags = process.argv.slice(2).filter((x) => x.startsWith('--'));
const [engine, a, b] = process.argv.slice(2).filter((x) => !x.startsWith('--'));
const imageMode = flags.includes('--image');
// --workdir=PATH: the image's Config.WorkingDir; docker creates it at container creation when the
// image lacks it (podman-rules has WORKDIR /work but no /work), stamped with the creation time
const workdir = (flags.find((f) => f.startsWith('--workdir=')) ?? '--workdir=')
  .slice('--workdir='.length)
  .replace(/^\/+|\/+$/g, '');
if (
  !['docker', 'podman'].includes(engine) ||
  !a ||
  !b ||
  flags.some((f) => f !== '--image' && !f.startsWith('--workdir='))
) {
  console.error(
    'usage: verify-exports.mjs docker|podman ORIG_EXPORT FLAT_EXPORT [--workdir=DIR] | ' +
      'docker|podman SAVED ORIG_EXPORT --image [--workdir=DIR]',
  );
  process.exit(2);
}
const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli', 'main.js');
const args = [cli, 'verify', a, b, '--json', ...(imageMode ? ['--ignore-engine-files'] : [])];
console.log(`layerflat ${args.slice(1).join(' ')}`);
const run = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
if (run.status !== 0 && run.status !== 1) {
  console.error(`layerflat verify exited ${run.status}:\n${run.stderr}${run.stdout}`);
  process.exit(1);
}
const result = JSON.parse(run.stdout);
if (run.status === 0 && result.equal) {
  console.log(`identical: ${result.paths.a} paths in both`);
  process.exit(0);
}
if (imageMode) {
  const reasons = {
    // rootless podman cannot mknod: the device is in the layer, not in the container
    device: (d) =>
      engine === 'podman' && d.kind === 'missing' && ['chardev', 'blockdev'].includes(d.a) && d.b === undefined,
    // docker records only security.capability in its exports: user.* xattrs never show there
    'user.* xattr': (d) => engine === 'docker' && d.kind === 'xattrs' && dropsOnlyUserXattrs(d.a, d.b),
    // docker made the WORKDIR the image lacks
    workdir: (d) => engine === 'docker' && d.kind === 'extra' && d.b === 'dir' && workdir !== '' && d.path === workdir,
  };
  const why = (d) => Object.keys(reasons).find((k) => reasons[k](d));
  for (const d of result.differences)
    console.log(
      `  ${d.kind.padEnd(8)} /${d.path}  ${d.a ?? '-'} -> ${d.b ?? '-'}  ${why(d) ? `(allowed: ${why(d)})` : ''}`,
    );
  const rest = result.differences.filter((d) => !why(d));
  if (rest.length === 0) {
    const counts = Object.keys(reasons)
      .map((k) => [k, result.differences.filter((d) => why(d) === k).length])
      .filter(([, n]) => n);
    console.log(`identical except what the engine cannot show: ${counts.map(([k, n]) => `${n} ${k}`).join(', ')}`);
    process.exit(0);
  }
  console.log(`NOT the same filesystem (${rest.length} difference(s) the engine does not explain)`);
  process.exit(1);
}

function dropsOnlyUserXattrs(xa, xb) {
  const [ja, jb] = [JSON.parse(xa ?? '{}') ?? {}, JSON.parse(xb ?? '{}') ?? {}];
  const kept = Object.fromEntries(Object.entries(ja).filter(([k]) => !k.startsWith('user.')));
  return JSON.stringify(kept) === JSON.stringify(jb);
}

const DOCKER_ADDED = new Set([
  '',
  '.dockerenv',
  'dev',
  'dev/console',
  'dev/pts',
  'dev/shm',
  'etc',
  'etc/hostname',
  'etc/hosts',
  'etc/resolv.conf',
  'etc/mtab',
  'proc',
  'sys',
]);
if (workdir) DOCKER_ADDED.add(workdir);
const allowed = (d) => engine === 'docker' && d.kind === 'mtime' && DOCKER_ADDED.has(d.path.replace(/^\/+|\/+$/g, ''));
const other = result.differences.filter((d) => !allowed(d));
const stamps = (side) => new Set(result.differences.filter(allowed).map((d) => d[side]));
const onePerSide = stamps('a').size <= 1 && stamps('b').size <= 1;

if (other.length === 0 && onePerSide && result.paths.a === result.paths.b) {
  const [ta] = stamps('a');
  const [tb] = stamps('b');
  console.log(
    `identical except the creation mtime docker stamps on ${result.differences.length} path(s) it adds ` +
      `(${result.differences.map((d) => `/${d.path}`).join(' ')}: ${ta} vs ${tb}); ` +
      `${result.paths.a} paths in both exports`,
  );
  process.exit(0);
}
console.log(`${result.differences.length} difference(s), ${other.length} outside docker's own paths:`);
for (const d of (other.length ? other : result.differences).slice(0, 60)) {
  console.log(`  ${d.kind.padEnd(8)} /${d.path}  ${d.a ?? '-'} -> ${d.b ?? '-'}`);
}
if (!onePerSide) console.log('the differing mtimes are not one creation instant per side');
console.log(`NOT the same filesystem (${result.paths.a} vs ${result.paths.b} paths)`);
process.exit(1);
