/**
 * The temporary paths layerflat has made and not yet committed or removed: each one created by
 * layerflat itself a moment before, so removing them can never cost the user anything. The
 * library only keeps the list; a program that wants them gone when it is interrupted calls
 * `removeTemporaries()` from its own signal handler (the CLI does: cli/signals.ts).
 */
import fs from 'node:fs';

const pending = new Set<string>();

/** Remember `path` (a file, or a directory tree we created) as ours to remove if the run dies. */
export function registerTemp(path: string): void {
  pending.add(path);
}

/** Forget `path` (it was committed or already removed). */
export function forgetTemp(path: string): void {
  pending.delete(path);
}

/** Remove a temporary path we created and forget it; missing is fine. */
export async function removeTemp(path: string): Promise<void> {
  await fs.promises.rm(path, { recursive: true, force: true, maxRetries: 2 });
  forgetTemp(path);
}

/** How many temporaries are registered now (tests check nothing is left). */
export function pendingTemporaries(): number {
  return pending.size;
}

/**
 * Remove every registered temporary, synchronously (a signal handler cannot wait), best effort:
 * the process is about to die, and a failure here must not mask why.
 */
export function removeTemporaries(): void {
  for (const p of pending) {
    try {
      // a write still under way in the threadpool may add a file to a directory being removed
      fs.rmSync(p, { recursive: true, force: true, maxRetries: 2, retryDelay: 10 });
    } catch {
      // best effort
    }
  }
  pending.clear();
}
