/**
 * Progress on stderr while flattening — only when stderr is a terminal, so cron jobs and pipes
 * stay silent. One line, redrawn: layer, bytes read and written, rate, and time left.
 */
import type { FlattenProgress } from '../../index.js';
import { humanBytes, humanSeconds } from './format.js';

export function progressPrinter(
  stream: NodeJS.WriteStream = process.stderr,
): ((p: FlattenProgress) => void) & { done(): void } {
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
    const eta =
      p.fraction > 0.02
        ? `  ${Math.round(p.fraction * 100)}%  ETA ${humanSeconds((secs * (1 - p.fraction)) / p.fraction)}`
        : '';
    stream.write(
      `\r\x1b[K${p.layer}/${p.layers} layers  read ${humanBytes(p.tarBytesIn)}  ` +
        `wrote ${humanBytes(p.bytesOut)}  ${rate}/s${eta}`,
    );
  };
  return Object.assign(print, {
    done: () => {
      if (shown) stream.write('\r\x1b[K');
    },
  });
}
