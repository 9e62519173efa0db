/**
 * `layerflat reclaim [PATTERN...]`: flatten an engine's images in place (for cron on VFS hosts).
 * Output: one line per image as it is done (a table at the end on a terminal), or --json; the exit
 * code says whether everything was done (0), part of it (1: an image kept for its containers,
 * failed, or not started for lack of space), nothing for bad input (2), or another reclaim runs (3).
 *
 * Test hook: LAYERFLAT_RECLAIM_STOP_AFTER=PHASE makes the CLI kill itself (SIGKILL) as soon as a
 * reclaim reaches PHASE (planned, loaded, verified, tags-moved, original-removed, done), to prove
 * the next run repairs what it left; PHASE:TERM sends SIGTERM instead, PHASE:WAIT pauses there
 * until a line comes on stdin (see stopAfter). The library never reads it.
 */
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { reclaim, type ImageReport, type Phase, type ReclaimResult } from '../index.js';
import { PODMAN_OPTION_HELP, podmanProgram, wholeNumber } from './options.js';
import { writeReport } from './output.js';
import { humanBytes } from './render/format.js';

interface ReclaimFlags {
  engine: string;
  minLayers?: number;
  minSaving?: string;
  dryRun?: boolean;
  json?: boolean;
  stateDir?: string;
  tmpDir?: string;
  reserve?: string;
  podman?: string;
}

export function reclaimCommand(run: (work: () => Promise<boolean>) => Promise<void>): Command {
  return new Command('reclaim')
    .description(
      "flatten an engine's images in place to free disk on VFS storage: each one verified, " +
        'its names moved, the original removed unless a container uses it',
    )
    .argument('[pattern...]', 'shell globs on image names (default: every image)')
    .option(
      '--engine <engine>',
      'podman (its rootless or rootful storage, as you) or docker (at $DOCKER_HOST)',
      'podman',
    )
    .option('--min-layers <n>', 'only images with at least N layers (default 2)', wholeNumber)
    .option(
      '--min-saving <size|factor>',
      "only images whose predicted VFS saving (inspect's model) is at least 500M, 2G… or 2x",
    )
    .option('--dry-run', 'print the plan and the predicted saving per image; change nothing')
    .option('--json', 'print the result as JSON (every size in bytes)')
    .option('--state-dir <dir>', 'journal and lock (default: $XDG_STATE_HOME/layerflat/reclaim, else ~/.local/state/…)')
    .option(
      '--tmp-dir <dir>',
      'where the saved image and the flat archive are made (default: $TMPDIR); it needs about twice ' +
        "the image's size free, the storage about its flat size",
    )
    .option(
      '--reserve <size>',
      'free space to leave on the temp dir and the storage: ' +
        'an image that would cut into it is not started (default 256M)',
    )
    .option('--podman <program>', PODMAN_OPTION_HELP)
    .action((patterns: string[], flags: ReclaimFlags) => run(() => reclaimAction(patterns, flags)));
}

function defaultStateDir(): string {
  const base = process.env['XDG_STATE_HOME'] || path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'layerflat', 'reclaim');
}

/**
 * The test hook, LAYERFLAT_RECLAIM_STOP_AFTER=PHASE[:TERM|:WAIT]: right after PHASE, die as a
 * kill -9 would, or send ourselves SIGTERM (the signal handler runs while we wait here), or wait
 * for a line on stdin (a test changes the world meanwhile, e.g. fills the disk, then writes it).
 */
async function stopAfter(phase: Phase): Promise<void> {
  const [at, how = 'KILL'] = (process.env['LAYERFLAT_RECLAIM_STOP_AFTER'] ?? '').split(/:(.*)/s);
  if (at !== phase) return;
  if (how === 'KILL') process.kill(process.pid, 'SIGKILL');
  else if (how === 'TERM') process.kill(process.pid, 'SIGTERM');
  if (how === 'WAIT') {
    await new Promise<void>((resolve) => {
      process.stdin.once('data', () => resolve());
      process.stdin.once('end', () => resolve());
    });
    process.stdin.destroy(); // nothing more is read: let the process end when the run does
  } else await sleep(600_000); // the signal ends us meanwhile
}

async function reclaimAction(patterns: string[], flags: ReclaimFlags): Promise<boolean> {
  const tty = process.stdout.isTTY === true && !flags.json;
  const lines = !tty && !flags.json;
  const result = await reclaim({
    engine: flags.engine,
    podman: podmanProgram(flags.podman),
    dockerHost: process.env['DOCKER_HOST'],
    stateDir: flags.stateDir ?? defaultStateDir(),
    tmpDir: flags.tmpDir,
    reserve: flags.reserve,
    patterns,
    minLayers: flags.minLayers,
    minSaving: flags.minSaving,
    dryRun: flags.dryRun === true,
    onImage: lines ? (r) => void process.stdout.write(`${imageLine(r)}\n`) : undefined,
    onPhase: stopAfter,
  });
  let text: string;
  if (flags.json) text = `${JSON.stringify(result, null, 2)}\n`;
  else text = `${tty ? table(result) : ''}${recoveryLines(result)}${summary(result)}\n`;
  await writeReport(process.stdout, text);
  return partial(result);
}

/** Exit 1: something was left undone (the images and names are all there; see each line). */
function partial(r: ReclaimResult): boolean {
  return (
    r.images.some((i) => ['kept', 'stopped', 'failed'].includes(i.status)) ||
    r.recovered.some((x) => x.outcome === 'left')
  );
}

const short = (id: string) => id.slice(0, 12);
const names = (r: ImageReport) => (r.names.length > 0 ? r.names.join(',') : '<none>');

function predicted(r: ImageReport): string {
  const p = r.predicted;
  return p ? `predicted saving ${humanBytes(p.savingBytes)} (${p.savingFactor.toFixed(1)}x)` : '';
}

/** One line per image: "STATUS ID NAMES LAYERS predicted … — reason". */
function imageLine(r: ImageReport): string {
  const parts = [r.status, short(r.id), names(r), `${r.layers} layers`, predicted(r)];
  if (r.freedByRemovingContainers !== undefined) {
    parts.push(`removing ${r.containers?.join(',') ?? ''} would free about ${humanBytes(r.freedByRemovingContainers)}`);
  }
  const line = parts.filter((p) => p !== '').join(' ');
  return r.reason && r.status !== 'kept' ? `${line} - ${r.reason}` : line;
}

function table(r: ReclaimResult): string {
  if (r.images.length === 0) return '';
  const rows = r.images.map((i) => [i.status, short(i.id), names(i), String(i.layers), predicted(i), i.reason ?? '']);
  const head = ['STATUS', 'IMAGE', 'NAMES', 'LAYERS', 'PREDICTED', 'NOTE'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const fmt = (row: string[]) =>
    row
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd();
  return `${[head, ...rows].map(fmt).join('\n')}\n`;
}

function recoveryLines(r: ReclaimResult): string {
  return r.recovered.map((x) => `recovered ${short(x.originalId)} ${x.outcome} - ${x.action}\n`).join('');
}

function summary(r: ReclaimResult): string {
  const count = (s: ImageReport['status']) => r.images.filter((i) => i.status === s).length;
  const done = r.dryRun ? `${count('planned')} planned` : `${count('reclaimed')} reclaimed, ${count('kept')} kept`;
  const rest = `${count('skipped')} skipped, ${count('failed')} failed, ${count('stopped')} stopped`;
  const freed = r.freed
    ? `; freed ${humanBytes(r.freed.bytes)} (${r.freed.bytes} bytes, measured: ${r.freed.method})`
    : r.dryRun
      ? `; predicted saving ${humanBytes(r.images.reduce((s, i) => s + (i.predicted?.savingBytes ?? 0), 0))}`
      : '';
  const stopped = r.stoppedForSpace ? '; stopped: not enough free space' : '';
  return `reclaim (${r.engine}): ${done}, ${rest}${freed}${stopped}`;
}
