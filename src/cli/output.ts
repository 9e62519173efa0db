/** Writing a command's report (a summary, JSON, a table) to stdout, and knowing when that failed. */
import type { Writable } from 'node:stream';
import { asLayerflatError } from '../index.js';

/**
 * Write `text` to `out` and wait until it has been taken. A report that could not be written — a
 * full disk (`> /dev/full`), a reader that quit (`| false`) — fails the command as one IO error
 * naming `name`, instead of exit 0 with the output lost (main.ts keeps stdout's 'error' event
 * from crashing the process; this is where the failure is heard).
 */
export function writeReport(out: Writable, text: string, name = 'stdout'): Promise<void> {
  return new Promise((resolve, reject) => {
    out.write(text, (err) => (err ? reject(asLayerflatError(out.errored ?? err, name)) : resolve()));
  });
}
