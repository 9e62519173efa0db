/**
 * What the command line does when it is interrupted (SIGINT, SIGTERM, SIGHUP): remove the
 * temporary files the library registered, then die of the same signal, so the exit status stays
 * the conventional one (130, 143, …) for shells and cron wrappers. Whatever is still registered
 * when the process exits any other way (a crash, process.exit) is removed too: a finished command
 * has committed or removed all it made, so what is left is only ever a leftover.
 */
import { removeTemporaries } from '../index.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function onSignal(signal: NodeJS.Signals): void {
  removeTemporaries();
  for (const s of SIGNALS) process.off(s, onSignal);
  process.kill(process.pid, signal);
}

/** Install the handlers for the life of the command. */
export function removeTemporariesOnSignals(): void {
  for (const s of SIGNALS) process.on(s, onSignal);
  process.on('exit', () => removeTemporaries());
}
