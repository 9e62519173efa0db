/**
 * Removal of our own temporary files when the process is interrupted. Only paths registered
 * here — each one created by layerflat itself a moment before — are ever removed, so a wrong
 * --tmp-dir or DEST can never cost the user a directory. Handlers are installed only while
 * something is registered, and the signal is re-raised afterwards so the exit status stays the
 * conventional one (unless the application has its own handler, which then decides).
 */
import fs from 'node:fs';

const pending = new Set<string>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function onSignal(signal: NodeJS.Signals): void {
  for (const p of pending) {
    try {
      fs.rmSync(p, { recursive: true, force: true });
    } catch {
      // Best effort: we are dying anyway, and must not mask the signal.
    }
  }
  pending.clear();
  uninstall();
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function install(): void {
  for (const s of SIGNALS) process.on(s, onSignal);
}

function uninstall(): void {
  for (const s of SIGNALS) process.off(s, onSignal);
}

/** Remove `path` (a file, or a directory tree we created) if the process is interrupted. */
export function removeOnSignal(path: string): void {
  if (pending.size === 0) install();
  pending.add(path);
}

/** Stop guarding `path` (it was committed or already removed). */
export function forget(path: string): void {
  if (!pending.delete(path)) return;
  if (pending.size === 0) uninstall();
}

/** Remove a temporary path we created and stop guarding it; missing is fine. */
export async function removeTemp(path: string): Promise<void> {
  await fs.promises.rm(path, { recursive: true, force: true });
  forget(path);
}
