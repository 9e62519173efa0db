/** Progress of a flatten run, for a caller's callback (the CLI draws it on a terminal). */
import type { LayerReadStats } from '../layers/layer-tar.js';
import type { MergeStats } from '../merge/output.js';

export interface FlattenProgress {
  layer: number; // how many layers have been started, counting from the top (they are read top-down)
  layers: number;
  tarBytesIn: number;
  bytesOut: number;
  /** Estimated fraction of the work done, 0..1 (by stored layer sizes). */
  fraction: number;
}

/**
 * Turns layer starts and output bytes into FlattenProgress calls, at most every 8 MiB. The
 * fraction done is weighed by stored layer sizes, the only sizes known before reading; inside a
 * compressed layer the stored bytes read are estimated from the tar bytes and the ratio seen so far.
 */
export class Progress {
  private current = -1;
  private next = 0;

  constructor(
    private readonly callback: ((p: FlattenProgress) => void) | undefined,
    private readonly layers: readonly { stats: LayerReadStats; size?: number }[],
  ) {}

  layerStarted(index: number): void {
    this.current = index;
    this.report(0);
  }

  async *watch(stream: AsyncIterable<Buffer>, stats: MergeStats): AsyncGenerator<Buffer> {
    for await (const chunk of stream) {
      yield chunk;
      this.wrote(stats.bytesOut);
    }
  }

  /** `bytesOut` have been written so far (reported at most every 8 MiB). */
  wrote(bytesOut: number): void {
    if (!this.callback || bytesOut < this.next) return;
    this.next = bytesOut + (8 << 20);
    this.report(bytesOut);
  }

  private report(bytesOut: number): void {
    if (!this.callback) return;
    const tarBytesIn = this.layers.reduce((s, l) => s + l.stats.tarBytes, 0);
    const layer = this.layers.length - this.current;
    this.callback({ layer, layers: this.layers.length, tarBytesIn, bytesOut, fraction: this.fraction() });
  }

  /** Layers are read top-down: those above `current` are done. */
  private fraction(): number {
    const size = (l: { stats: LayerReadStats; size?: number }) => l.size ?? l.stats.tarBytes;
    const total = this.layers.reduce((s, l) => s + size(l), 0);
    const done = this.layers.slice(this.current + 1);
    const ratio = storedPerTarByte(done);
    const cur = this.layers[this.current];
    const partial = cur ? Math.min(size(cur), cur.stats.tarBytes * (cur.stats.compression === 'none' ? 1 : ratio)) : 0;
    return total > 0 ? Math.min(1, (done.reduce((s, l) => s + size(l), 0) + partial) / total) : 0;
  }
}

function storedPerTarByte(done: readonly { stats: LayerReadStats; size?: number }[]): number {
  const compressed = done.filter((l) => l.stats.compression !== 'none' && l.size !== undefined && l.stats.tarBytes > 0);
  const tar = compressed.reduce((s, l) => s + l.stats.tarBytes, 0);
  return tar > 0 ? compressed.reduce((s, l) => s + l.size!, 0) / tar : 0.35; // 0.35: a typical gzip ratio
}
