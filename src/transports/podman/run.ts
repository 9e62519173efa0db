/**
 * Running the podman program — the one on PATH, or the one the caller names — as the user
 * running layerflat (so rootless or rootful is simply who runs us), and turning how it ended into
 * LayerflatErrors: not installed → MISSING_TOOL; a failed command → ENGINE_FAILED with podman's
 * stderr in one line; an image it does not have → NOT_FOUND.
 */
import { spawn } from 'node:child_process';
import { LayerflatError } from '../../errors.js';
import { oneLine, saysNoSuchImage } from './output.js';

/** How a podman command ended. */
export interface PodmanRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Keep at most this much of a command's output (inspect JSON of a long history is some KB). */
const OUTPUT_MAX = 16 << 20;

/** Run `podman ARGS` to its end; rejects only when the program cannot be started. */
export function runPodman(program: string, args: readonly string[]): Promise<PodmanRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    const keep = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size <= OUTPUT_MAX) into.push(chunk);
    };
    child.stdout.on('data', keep(out));
    child.stderr.on('data', keep(err));
    child.on('error', (e: NodeJS.ErrnoException) => reject(notStarted(program, e)));
    child.on('close', (code) =>
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
  });
}

function notStarted(program: string, e: NodeJS.ErrnoException): LayerflatError {
  if (e.code === 'ENOENT') {
    return new LayerflatError(
      'MISSING_TOOL',
      `the podman program "${program}" was not found` +
        (program.includes('/') ? '' : ' on PATH') +
        '; install podman, or name it with --podman PATH (or LAYERFLAT_PODMAN)',
      { cause: e },
    );
  }
  return new LayerflatError('ENGINE_FAILED', `cannot run ${program}: ${e.message}`, { cause: e });
}

/** Run `podman ARGS`; a non-zero exit is ENGINE_FAILED (NOT_FOUND when the image is missing). */
export async function podman(program: string, args: readonly string[], what: string): Promise<string> {
  const run = await runPodman(program, args);
  if (run.code === 0) return run.stdout;
  const said = oneLine(run.stderr) || `exit status ${String(run.code)}`;
  const code = saysNoSuchImage(run.stderr) ? 'NOT_FOUND' : 'ENGINE_FAILED';
  const verb = args[0] === 'image' ? args.slice(0, 2).join(' ') : (args[0] ?? '');
  const problem =
    code === 'NOT_FOUND' ? `podman has no such image (${verb}: ${said})` : `podman ${verb} failed: ${said}`;
  throw new LayerflatError(code, `${what}: ${problem}`, { located: true });
}
