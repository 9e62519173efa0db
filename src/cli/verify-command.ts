/** `layerflat verify A B`: are two images (or an image and an export tar) the same filesystem? */
import { Command } from 'commander';
import {
  PODMAN_OPTION_HELP,
  podmanProgram,
  registryOptions,
  wholeNumber,
  withRegistryOptions,
  type RegistryFlags,
} from './options.js';
import { writeReport } from './output.js';
import { displayPath, ENGINE_PATHS, verify, type VerifyResult } from '../index.js';

interface VerifyFlags extends RegistryFlags {
  ignore: string[];
  ignoreEngineFiles?: boolean;
  platform?: string;
  tmpDir?: string;
  podman?: string;
  json?: boolean;
  max: number;
}

export function verifyCommand(run: (work: () => Promise<boolean>) => Promise<void>): Command {
  const command = new Command('verify')
    .description('compare the merged filesystems of two images; exit 0 if equal, 1 if not, 2 on bad input')
    .argument(
      '<a>',
      'an image reference (docker-daemon:NAME[:TAG] reads $DOCKER_HOST), or a filesystem tar ' +
        '(tar:PATH, or a bare path to docker/podman export output)',
    )
    .argument('<b>', 'the same forms')
    .option(
      '--ignore <path>',
      'leave out a path and everything below it (repeatable)',
      (v: string, p: string[]) => [...p, v],
      [],
    )
    .option(
      '--ignore-engine-files',
      `leave out what engines add to containers (${ENGINE_PATHS.join(', ')}) and the mtimes of /, /etc, /run`,
    )
    .option('--platform <os/arch[/variant]>', 'image to pick from a multi-platform index')
    .option('--tmp-dir <dir>', 'where to spool stdin, docker-daemon images and podman save archives (one image each)')
    .option('--podman <program>', PODMAN_OPTION_HELP)
    .option('--max <n>', 'differences to list before the counts', wholeNumber, 50)
    .option('--json', 'print a machine-readable result');
  return withRegistryOptions(command, false).action((a: string, b: string, flags: VerifyFlags) =>
    run(async () => {
      const result = await verify({
        a,
        b,
        ...flags,
        podman: podmanProgram(flags.podman),
        stdin: process.stdin,
        dockerHost: process.env['DOCKER_HOST'],
        registry: registryOptions(flags),
      });
      await writeReport(
        process.stdout,
        flags.json ? `${JSON.stringify(result, null, 2)}\n` : report(result, a, b, flags.max),
      );
      return !result.equal;
    }),
  );
}

function report(r: VerifyResult, a: string, b: string, max: number): string {
  if (r.equal) return `same filesystem: ${r.paths.a} paths in ${a} and ${b}\n`;
  const lines = r.differences
    .slice(0, max)
    .map(
      (d) =>
        `  ${d.kind.padEnd(8)} /${displayPath(d.path)}` +
        (d.a !== undefined || d.b !== undefined ? `  ${d.a ?? '-'} → ${d.b ?? '-'}` : ''),
    );
  const more = r.differences.length > max ? [`  … and ${r.differences.length - max} more`] : [];
  const counts = Object.entries(r.counts)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  return [`${r.differences.length} difference(s) between ${a} (A) and ${b} (B): ${counts}`, ...lines, ...more, ''].join(
    '\n',
  );
}
