/** `layerflat unpack SOURCE DIR`: the image's filesystem as a rootfs directory, for `podman run --rootfs DIR`. */
import { Command } from 'commander';
import {
  PODMAN_OPTION_HELP,
  podmanProgram,
  registryOptions,
  withRegistryOptions,
  type RegistryFlags,
} from './options.js';
import { unpack, type UnpackResult } from '../index.js';
import { writeReport } from './output.js';
import { humanBytes, humanSeconds } from './render/format.js';
import { progressPrinter } from './render/progress.js';

interface UnpackFlags extends RegistryFlags {
  platform?: string;
  force?: boolean;
  chown: boolean;
  xattrs: boolean;
  tmpDir?: string;
  podman?: string;
  json?: boolean;
  quiet?: boolean;
  dedupe?: boolean;
}

export function unpackCommand(run: (work: () => Promise<void>) => Promise<void>): Command {
  const command = new Command('unpack')
    .description(
      "apply the image's layers into one rootfs directory: the filesystem docker export shows, " +
        'on disk, for podman run --rootfs DIR',
    )
    .argument(
      '<source>',
      'docker-archive:PATH[:REF] | oci:DIR[:REF] | oci-archive:PATH[:REF] | docker-daemon:NAME[:TAG]|ID | ' +
        'containers-storage:NAME[:TAG]|ID (or podman:…) | docker://[HOST[:PORT]/]REPO[:TAG|@DIGEST] | PATH | - (stdin)',
    )
    .argument('<dir>', 'the rootfs directory: absent (it is made) or empty (with --force)')
    .option('--platform <os/arch[/variant]>', "image to pick from a multi-platform index (default: this host's)")
    .option('--force', 'unpack into an existing empty DIR')
    .option(
      '--no-chown',
      "leave every path to you instead of the image's owners (needed without root or podman unshare)",
    )
    .option(
      '--dedupe',
      "identical files (content, mode, owner, xattrs) as hardlinks of one, sharing the first one's mtime",
    )
    .option('--no-xattrs', 'do not set extended attributes (file capabilities among them); no setfattr needed')
    .option(
      '--tmp-dir <dir>',
      'where stdin, or a docker-daemon: or containers-storage: image (one docker-archive of it), is spooled ' +
        '(default: $TMPDIR)',
    )
    .option('--podman <program>', PODMAN_OPTION_HELP)
    .option('--json', 'print a machine-readable summary')
    .option('-q, --quiet', 'print nothing on success but warnings');
  return withRegistryOptions(command, false)
    .action((source: string, dir: string, flags: UnpackFlags) => run(() => unpackAction(source, dir, flags)))
    .addHelpText('after', ROOTLESS_HELP);
}

const ROOTLESS_HELP = `
Owners: as root, or rootless inside podman's user namespace, every path gets its owner from
the image:  podman unshare layerflat unpack IMAGE DIR  (then  podman run --rootfs DIR ...).
Any other user is refused unless --no-chown leaves every path to that user. Device nodes are
made by root only (skipped otherwise, with a warning); extended attributes are set with the
setfattr program (package attr). While it runs, .DIR.layerflat-incomplete beside DIR marks
DIR unfinished; a killed unpack leaves it, and DIR is then refused until both are removed.`;

async function unpackAction(source: string, dir: string, flags: UnpackFlags): Promise<void> {
  const progress = progressPrinter();
  const result = await unpack({
    source,
    dir,
    force: flags.force,
    platform: flags.platform,
    chown: flags.chown,
    xattrs: flags.xattrs,
    dedupe: flags.dedupe,
    tmpDir: flags.tmpDir,
    podman: podmanProgram(flags.podman),
    stdin: process.stdin,
    dockerHost: process.env['DOCKER_HOST'],
    registry: registryOptions(flags),
    onProgress: flags.quiet || flags.json ? undefined : progress,
  }).finally(() => progress.done());
  for (const warning of result.warnings) process.stderr.write(`layerflat: warning: ${warning}\n`);
  for (const note of result.notes) process.stderr.write(`layerflat: note: ${note}\n`);
  const report = flags.json ? `${JSON.stringify(result, null, 2)}\n` : flags.quiet ? '' : summary(result);
  if (report) await writeReport(process.stdout, report, `stdout (${result.dir} was written, its report was not)`);
}

/** Two lines a sysadmin reads after a run. */
function summary(r: UnpackResult): string {
  const special = r.fifos + r.devices;
  const parts = [
    `${r.files} files`,
    `${r.dirs} dirs`,
    `${r.symlinks} symlinks`,
    `${r.hardlinks} hardlinks`,
    ...(special > 0 ? [`${special} fifos and devices`] : []),
    ...(r.xattrs > 0 ? [`${r.xattrs} xattrs`] : []),
  ];
  return (
    `unpacked ${r.layers} layers into ${r.dir}: ${parts.join(', ')}\n` +
    `read ${humanBytes(r.tarBytesIn)} of layer tars, wrote ${humanBytes(r.bytes)} in ${humanSeconds(r.seconds)}` +
    `${r.owners === 'kept' ? '' : ' (owners dropped)'}\n` +
    (r.deduped.files > 0
      ? `--dedupe: ${r.deduped.files} files as hardlinks, ${humanBytes(r.deduped.bytes)} saved\n`
      : '')
  );
}
