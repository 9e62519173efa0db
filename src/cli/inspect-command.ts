/** `layerflat inspect SOURCE`: per-layer sizes, shadowed bytes and the VFS cost, as a table, JSON or SVG. */
import { Command } from 'commander';
import {
  PODMAN_OPTION_HELP,
  podmanProgram,
  registryOptions,
  wholeNumber,
  withRegistryOptions,
  type RegistryFlags,
} from './options.js';
import { checkFileDest, inspect, writeFileSafely } from '../index.js';
import { writeReport } from './output.js';
import { formatInspectReport } from './render/inspect-table.js';
import { vfsCostSvg } from './render/svg.js';

interface InspectFlags extends RegistryFlags {
  json?: boolean;
  svg?: string;
  force?: boolean;
  top: number;
  platform?: string;
  tmpDir?: string;
  podman?: string;
  dedupe?: boolean;
}

export function inspectCommand(run: (work: () => Promise<void>) => Promise<void>): Command {
  const command = new Command('inspect')
    .description(
      'show what each layer costs: sizes, bytes later layers hide, ' +
        'and the disk VFS storage needs, layered vs flattened',
    )
    .argument(
      '<source>',
      'docker-archive:PATH[:REF] | oci:DIR[:REF] | oci-archive:PATH[:REF] | docker-daemon:NAME[:TAG]|ID ' +
        '(at $DOCKER_HOST) | containers-storage:NAME[:TAG]|ID | docker://[HOST/]REPO[:TAG|@DIGEST] | PATH | - (stdin)',
    )
    .option('--json', 'print the result as JSON (every size in bytes)')
    .option('--svg <file>', 'also write a chart of the VFS cost per layer, layered vs flattened, as an SVG file')
    .option('--force', 'replace an existing --svg file')
    .option('--top <n>', 'how many of the largest shadowed files to list', wholeNumber, 10)
    .option('--platform <os/arch[/variant]>', "image to pick from a multi-platform index (default: this host's)")
    .option('--dedupe', 'also say what flatten --dedupe would save (hashes same-sized files: a second read)')
    .option(
      '--tmp-dir <dir>',
      'where to spool stdin, or a docker-daemon: or containers-storage: image (one docker-archive of it) ' +
        '(default: $TMPDIR)',
    )
    .option('--podman <program>', PODMAN_OPTION_HELP);
  return withRegistryOptions(command, false).action((source: string, flags: InspectFlags) =>
    run(() => inspectAction(source, flags)),
  );
}

async function inspectAction(source: string, flags: InspectFlags): Promise<void> {
  // an --svg FILE that cannot be written fails before the image is read (and again when written)
  if (flags.svg) await checkFileDest(flags.svg, flags.force === true);
  const result = await inspect({
    source,
    top: flags.top,
    platform: flags.platform,
    tmpDir: flags.tmpDir,
    podman: podmanProgram(flags.podman),
    stdin: process.stdin,
    dockerHost: process.env['DOCKER_HOST'],
    registry: registryOptions(flags),
    dedupe: flags.dedupe,
  });
  if (flags.svg) await writeFileSafely(flags.svg, vfsCostSvg(result), flags.force === true);
  const color = process.stdout.isTTY === true && !process.env['NO_COLOR'];
  await writeReport(
    process.stdout,
    flags.json ? `${JSON.stringify(result, null, 2)}\n` : formatInspectReport(result, { color }),
  );
}
