/**
 * A Duplex that runs a filter program (zstd) with our writable side piped to its stdin and its
 * stdout as our readable side. Backpressure is kept on both sides (we wait for 'drain' on stdin,
 * we pause stdout when our reader is full). The readable side ends only after the program exited
 * with status 0; any other exit destroys the stream with the error `onFailure` builds. Destroying
 * the stream (a consumer that stops early) kills the program.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Duplex } from 'node:stream';

export interface ProcessFilterOptions {
  /** Build the error for a failed run: non-zero exit code (or null), signal, and stderr's tail. */
  onFailure(code: number | null, signal: NodeJS.Signals | null, stderr: string): Error;
  /** Build the error for a program that could not be started (spawn 'error'). */
  onSpawnError(err: NodeJS.ErrnoException): Error;
  highWaterMark?: number;
}

const STDERR_KEEP = 4096;

export class ProcessFilter extends Duplex {
  readonly child: ChildProcess;
  /** Resolves when the program has exited (whatever the status) and its pipes are closed. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private stderrTail = '';
  private stdinGone = false;
  private pendingWrite: ((err?: Error | null) => void) | null = null;
  private readonly options: ProcessFilterOptions;

  constructor(file: string, args: readonly string[], options: ProcessFilterOptions) {
    super({ highWaterMark: options.highWaterMark ?? 1 << 20, allowHalfOpen: true });
    this.options = options;
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    this.child = child;
    const stdin = child.stdin!;
    const stdout = child.stdout!;
    const stderr = child.stderr!;

    const releaseWrite = (): void => {
      const cb = this.pendingWrite;
      this.pendingWrite = null;
      cb?.();
    };
    stdin.on('drain', releaseWrite);
    // EPIPE and friends: the program stopped reading. Whatever it thinks of that shows in its
    // exit status, which decides the outcome; meanwhile further input is dropped.
    stdin.on('error', () => {
      this.stdinGone = true;
      releaseWrite();
    });
    stdin.on('close', () => {
      this.stdinGone = true;
      releaseWrite();
    });

    stdout.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) stdout.pause();
    });
    stdout.on('error', () => {
      /* reported through the exit status */
    });
    stderr.setEncoding('utf8');
    stderr.on('data', (s: string) => {
      this.stderrTail = (this.stderrTail + s).slice(-STDERR_KEEP);
    });
    stderr.on('error', () => {});

    this.exited = new Promise((resolve) => {
      let spawnFailed = false;
      child.on('error', (err: NodeJS.ErrnoException) => {
        // Spawn failure (ENOENT, EACCES...), or a failed kill. Only the first matters here.
        if (child.pid === undefined && !spawnFailed) {
          spawnFailed = true;
          this.stdinGone = true;
          releaseWrite();
          this.destroy(this.options.onSpawnError(err));
          resolve({ code: null, signal: null });
        }
      });
      child.on('close', (code, signal) => {
        resolve({ code, signal });
        this.stdinGone = true;
        releaseWrite();
        if (this.destroyed) return;
        if (code === 0) this.push(null);
        else this.destroy(this.options.onFailure(code, signal, this.stderrTail.trim()));
      });
    });
  }

  /** The process id, while it runs (undefined if it could not be started). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.stdinGone) return cb();
    if (this.child.stdin!.write(chunk)) cb();
    else this.pendingWrite = cb;
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.stdinGone) return cb();
    // Done when stdin has flushed — or is gone (EPIPE): the exit status decides the outcome.
    const stdin = this.child.stdin!;
    let called = false;
    const done = (): void => {
      if (called) return;
      called = true;
      stdin.off('close', done);
      cb();
    };
    stdin.once('close', done);
    stdin.end(done);
  }

  override _read(): void {
    this.child.stdout!.resume();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const child = this.child;
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      child.kill('SIGTERM');
    }
    child.stdin?.destroy();
    child.stdout?.destroy();
    child.stderr?.destroy();
    // A write still waiting for 'drain' is abandoned with the stream ('close' tells everyone).
    this.pendingWrite = null;
    cb(err);
  }
}
