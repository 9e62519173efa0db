/**
 * Running the fuzz properties (fast-check) the same way in `npm test` (a few thousand cases in
 * all) and `npm run fuzz` (>= 100,000): how many runs, which seed, a time bound per case, and a
 * line per property in a report file that scripts/fuzz-report.mjs turns into docs/reliability.md.
 *
 *   LAYERFLAT_FUZZ_RUNS=N     runs of each in-process property (a property `cost` times dearer —
 *                             it builds files or spawns the CLI — runs N / cost, never fewer than
 *                             its default)
 *   LAYERFLAT_FUZZ_SEED=S     replay: the seed a failure printed (with LAYERFLAT_FUZZ_PATH=P, the
 *                             shrunk case alone)
 *   LAYERFLAT_FUZZ_REPORT=F   append one JSON line per property run to F
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { expect } from 'vitest';
import { LayerflatError, type ErrorCode } from '../../src/errors.js';

const env = process.env;

function envInt(name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new Error(`${name}=${v} is not an integer`);
  return n;
}

const RUNS = envInt('LAYERFLAT_FUZZ_RUNS');
const SEED = envInt('LAYERFLAT_FUZZ_SEED');
const PATH = env['LAYERFLAT_FUZZ_PATH'];

/** The runs of a property: `defaultRuns` in `npm test`, LAYERFLAT_FUZZ_RUNS / `cost` when set. */
export function fuzzRuns(defaultRuns: number, cost = 1): number {
  if (RUNS === undefined) return defaultRuns;
  return Math.max(defaultRuns, Math.ceil(RUNS / cost));
}

/** A vitest timeout for `runs` cases of at most `perCaseMs` each (plus shrinking time on failure). */
export function fuzzTimeout(runs: number, perCaseMs: number): number {
  return Math.max(60_000, runs * perCaseMs + 120_000);
}

/** `promise`, or a rejection naming `what` once `ms` have passed: a hang fails the case. */
export function withinTime<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`HANG: ${what} took more than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * How a call ended: its value, or the LayerflatError it threw. Anything else thrown — another
 * exception type, or a LayerflatError with a code not in `codes` — fails the case with the
 * original stack.
 */
export async function outcome<T>(
  work: () => Promise<T>,
  codes: readonly ErrorCode[],
): Promise<{ ok: true; value: T } | { ok: false; error: LayerflatError }> {
  try {
    return { ok: true, value: await work() };
  } catch (err) {
    expectKnown(err, codes);
    return { ok: false, error: err as LayerflatError };
  }
}

/** Fail unless `err` is a LayerflatError with one of `codes`, showing what it was instead. */
function expectKnown(err: unknown, codes: readonly ErrorCode[]): void {
  // IO is an operating-system error, so it must have one as its cause: anything else wrapped as IO
  // (asLayerflatError wraps whatever it is given) is a bug in disguise.
  const disguised = err instanceof LayerflatError && err.code === 'IO' && !isErrno(err.cause);
  if (err instanceof LayerflatError && codes.includes(err.code) && !disguised) return;
  const what =
    err instanceof LayerflatError
      ? `LayerflatError ${err.code} (expected one of ${codes.join(', ')}): ${err.message}`
      : `${(err as Error)?.constructor?.name ?? typeof err} instead of a LayerflatError: ${String(err)}`;
  const failure = new Error(what, { cause: err });
  if (err instanceof Error && err.stack) failure.stack = `${what}\n--- thrown at:\n${err.stack}`;
  throw failure;
}

function isErrno(err: unknown): boolean {
  return /^E[A-Z0-9]+$/.test(String((err as NodeJS.ErrnoException | undefined)?.code));
}

/** A sync one-liner for parsers: the value, or the LayerflatError (with a code in `codes`) thrown. */
export function syncOutcome<T>(
  work: () => T,
  codes: readonly ErrorCode[],
): { ok: true; value: T } | { ok: false; error: LayerflatError } {
  try {
    return { ok: true, value: work() };
  } catch (err) {
    expectKnown(err, codes);
    return { ok: false, error: err as LayerflatError };
  }
}

/** How the cases of a property ended ("ok", or the error code), for the report: it shows how deep the inputs reach. */
export class Outcomes {
  readonly counts: Record<string, number> = {};
  /** The first message seen for each code. */
  readonly examples: Record<string, string> = {};

  /** Count a case by how it ended: a result, an error (by its code), or a name such as "exit 2". */
  add(r: { ok: true } | { ok: false; error: LayerflatError } | string): void {
    const key = typeof r === 'string' ? r : r.ok ? 'ok' : r.error.code;
    this.counts[key] = (this.counts[key] ?? 0) + 1;
    if (typeof r !== 'string' && !r.ok) this.examples[key] ??= r.error.message.slice(0, 300);
  }
}

interface ReportLine {
  file: string;
  property: string;
  runs: number;
  seconds: number;
  seed: number;
  failed: boolean;
  outcomes?: Record<string, number>;
  examples?: Record<string, string>;
  counterexample?: string;
}

function report(line: ReportLine): void {
  const file = env['LAYERFLAT_FUZZ_REPORT'];
  if (file) fs.appendFileSync(file, `${JSON.stringify(line)}\n`);
}

/**
 * Check `property` for `runs` cases (seed from LAYERFLAT_FUZZ_SEED, else random), record the
 * numbers, and fail with fast-check's report plus the command that replays the failure.
 */
export async function fuzz<Ts extends [unknown, ...unknown[]]>(
  file: string,
  name: string,
  property: fc.IAsyncProperty<Ts> | fc.IProperty<Ts>,
  runs: number,
  outcomes?: Outcomes,
): Promise<void> {
  const seed = SEED ?? (Date.now() ^ (Math.random() * 0x100000000)) | 0;
  const started = performance.now();
  const details = await fc.check(property as fc.IAsyncProperty<Ts>, {
    numRuns: runs,
    seed,
    ...(PATH !== undefined ? { path: PATH, endOnFailure: true } : {}),
  });
  const seconds = (performance.now() - started) / 1000;
  const rel = path.relative(process.cwd(), file);
  report({
    file: rel,
    property: name,
    runs: details.numRuns,
    seconds: Math.round(seconds * 100) / 100,
    seed,
    failed: details.failed,
    ...(outcomes ? { outcomes: outcomes.counts, examples: outcomes.examples } : {}),
    ...(details.failed ? { counterexample: fc.stringify(details.counterexample).slice(0, 2000) } : {}),
  });
  if (details.failed) {
    const full = (await fc.asyncDefaultReportMessage(details)) ?? 'property failed';
    const message = full.length > 4000 ? `${full.slice(0, 4000)}… (${full.length - 4000} more characters)` : full;
    const at = JSON.stringify(details.counterexamplePath);
    const replay = `replay: LAYERFLAT_FUZZ_SEED=${seed} LAYERFLAT_FUZZ_PATH=${at}`;
    const error = new Error(`${name}\n${replay} npx vitest run ${rel}\n${message}`);
    if (details.errorInstance instanceof Error) error.cause = details.errorInstance;
    throw error;
  }
  if (PATH === undefined) expect(details.numRuns, 'every case ran').toBe(runs);
}
