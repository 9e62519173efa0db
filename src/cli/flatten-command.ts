/** `layerflat flatten SOURCE [DEST]`: options, the run, and what it prints. */
import { Command, Option } from 'commander';
import {
  collect,
  PODMAN_OPTION_HELP,
  podmanProgram,
  registryOptions,
  wholeNumber,
  withRegistryOptions,
  type RegistryFlags,
} from './options.js';
import { flatten, LayerflatError, writesToStdout, type FlattenResult } from '../index.js';
import { writeReport } from './output.js';
import { humanBytes, humanSeconds } from './render/format.js';
import { progressPrinter } from './render/progress.js';

interface FlattenFlags extends RegistryFlags {
  tag: string[];
  compress?: 'none' | 'gzip' | 'zstd';
  keepBase?: number;
  fromLayer?: string;
  platform?: string;
  force?: boolean;
  tmpDir?: string;
  podman?: string;
  json?: boolean;
  quiet?: boolean;
  verify?: boolean;
  dedupe?: boolean;
}

export function flattenCommand(run: (work: () => Promise<void>) => Promise<void>): Command {
  const command = new Command('flatten')
    .description('flatten an image into one layer, keeping its config, history and tags')
    .argument(
      '<source>',
      'docker-archive:PATH[:REF] | oci:DIR[:REF] | oci-archive:PATH[:REF] | docker-daemon:NAME[:TAG]|ID | ' +
        'containers-storage:NAME[:TAG]|ID (or podman:…) | docker://[HOST[:PORT]/]REPO[:TAG|@DIGEST] | PATH | - (stdin)',
    )
    .argument(
      '[dest]',
      'same forms but an ID (docker-daemon: and containers-storage: need a NAME, docker:// a tag); ' +
        'a bare PATH or - (stdout) is a docker-archive (default: -)',
    )
    .option('-t, --tag <name>', "name the output image (repeatable; default: the source's names)", collect, [])
    .addOption(
      new Option(
        '--compress <algo>',
        'compression of the new layer (default: none for docker-archive, gzip for OCI)',
      ).choices(['none', 'gzip', 'zstd']),
    )
    .option('--keep-base <n>', 'keep the bottom N layers as they are and squash the rest', wholeNumber)
    .option('--from-layer <layer>', 'squash from this layer up (0-based index or digest prefix)')
    .option('--platform <os/arch[/variant]>', "image to pick from a multi-platform index (default: this host's)")
    .option('--force', 'replace an existing DEST, once the new output is complete')
    .option(
      '--tmp-dir <dir>',
      'where stdin / stdout / docker-daemon archives are spooled and podman archives are kept while used: ' +
        'a docker-daemon: or containers-storage: source needs room for one docker-archive of the image, a ' +
        'containers-storage: DEST (or a docker-daemon: one with --verify, --force or compression) for one of ' +
        'the flat image (default: $TMPDIR)',
    )
    .option('--podman <program>', PODMAN_OPTION_HELP)
    .option('--verify', 'check the output is the same filesystem as the source before writing it (reads both again)')
    .option(
      '--dedupe',
      "store identical files (content, mode, owner, xattrs) once, as hardlinks sharing the first one's mtime: " +
        'writing one name then changes them all',
    )
    .option('--json', 'print a machine-readable summary')
    .option('-q, --quiet', 'print nothing on success');
  return withRegistryOptions(command, true)
    .action((source: string, dest: string | undefined, flags: FlattenFlags) =>
      run(() => flattenAction(source, dest, flags)),
    )
    .addHelpText('after', DAEMON_HELP);
}

const DAEMON_HELP = `
docker-daemon: talks to the Docker Engine API at $DOCKER_HOST (unix://PATH, default
unix:///var/run/docker.sock, or plain-HTTP tcp://HOST:PORT; TLS is not supported).
Temporary space in --tmp-dir: a docker-daemon source is spooled once (the size of its
docker save); a docker-daemon DEST streams into the load with none, unless --verify,
--compress gzip|zstd or an existing tag (replaced only with --force, after verifying) makes
layerflat build and check the flat archive there first (its full size).

docker://: a registry, through the OCI distribution API over https (credentials from --creds
or the auth files podman, skopeo and docker write; HTTPS_PROXY / NO_PROXY honoured). Nothing
goes to --tmp-dir: layers stream from the registry as they are merged (up to 32 MiB read
ahead in memory), and the flat layer streams up as it is made; with --verify the pushed image
is read back before the tag is set. Nothing is tagged if anything failed.`;

async function flattenAction(source: string, dest: string | undefined, flags: FlattenFlags): Promise<void> {
  const target = dest ?? '-';
  if (target === '-' && process.stdout.isTTY) {
    throw new LayerflatError(
      'USAGE',
      'refusing to write an image archive to a terminal: give DEST, or redirect stdout',
    );
  }
  const progress = progressPrinter();
  const result = await flatten({
    source,
    dest: target,
    compression: flags.compress,
    tags: flags.tag,
    keepBase: flags.keepBase,
    fromLayer: flags.fromLayer,
    platform: flags.platform,
    force: flags.force,
    tmpDir: flags.tmpDir,
    podman: podmanProgram(flags.podman),
    verify: flags.verify,
    dedupe: flags.dedupe,
    stdin: process.stdin,
    stdout: process.stdout,
    dockerHost: process.env['DOCKER_HOST'],
    sourceRegistry: registryOptions(flags, 'src'),
    destRegistry: registryOptions(flags, 'dest'),
    onProgress: flags.quiet || flags.json ? undefined : progress,
  }).finally(() => progress.done());
  for (const note of result.notes) process.stderr.write(`layerflat: note: ${note}\n`);
  const report = flags.json ? `${JSON.stringify(result, null, 2)}\n` : flags.quiet ? '' : summary(result);
  if (!report) return;
  // The archive may be on stdout; the report must then go to stderr (whose failures nobody could read).
  if (writesToStdout(target)) process.stderr.write(report);
  else await writeReport(process.stdout, report, `stdout (${target} was written, its report was not)`);
}

/** Two or three lines a sysadmin reads after a run. */
function summary(r: FlattenResult): string {
  const dropped = Object.entries(r.entries.dropped)
    .map(([why, n]) => `${n} ${why}`)
    .join(', ');
  const droppedTotal = Object.values(r.entries.dropped).reduce((a: number, b) => a + (b ?? 0), 0);
  const kept = r.keptBase > 0 ? ` (bottom ${r.keptBase} kept as they were)` : '';
  const lines = [
    `flattened ${r.layersIn} layers into ${r.layersOut}${kept}: ` +
      `${r.entries.kept} entries kept, ${droppedTotal} dropped${dropped ? ` (${dropped})` : ''}`,
    ...(r.entries.deduped.files > 0
      ? [`--dedupe: ${r.entries.deduped.files} files stored as hardlinks, ${humanBytes(r.entries.deduped.bytes)} saved`]
      : []),
    `read ${humanBytes(r.bytes.tarIn)} of layer tars, ` +
      `wrote ${humanBytes(r.bytes.written)} in ${humanSeconds(r.seconds)}`,
    `${r.dest === '-' ? 'stdout' : r.dest}: ${r.configDigest}${r.tags.length ? ` ${r.tags.join(' ')}` : ''}`,
  ];
  return `${lines.join('\n')}\n`;
}
