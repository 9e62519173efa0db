/**
 * Progress on stderr while flattening — only when stderr is a terminal, so cron jobs and pipes
 * stay silent. One line, redrawn: layer, bytes read and written, rate.
 */
import type { FlattenProgress } from '../index.js';
import { humanBytes } from './format.js';

export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): ((p: FlattenProgress) => void) & { done(): void } {
  const started = Date.now();
  let last = 0;
  let shown = false;
  const print = (p: FlattenProgress) => {
    const now = Date.now();
    if (!stream.isTTY || now - last < 200) return;
    last = now;
    shown = true;
    const secs = Math.max((now - started) / 1000, 0.001);
    const rate = humanBytes(p.tarBytesIn / secs);
    stream.write(`\r\x1b[Klayer ${p.layer}/${p.layers}  read ${humanBytes(p.tarBytesIn)}  wrote ${humanBytes(p.bytesOut)}  ${rate}/s`);
  };
  return Object.assign(print, {
    done: () => {
      if (shown) stream.write('\r\x1b[K');
    },
  });
}
