/**
 * The inspect result as a sysadmin reads it on a terminal: one aligned row per layer, then the
 * VFS cost as built and flattened, then the largest shadowed files. Colours only when asked for
 * (the CLI asks when stdout is a TTY and NO_COLOR is unset).
 */
import { shortCommand } from './commands.js';
import type { InspectResult, LayerReport } from '../../index.js';
import { factorLabel, shortHex, sizeLabel } from './units.js';

export interface InspectReportOptions {
  color?: boolean;
}

type Paint = (style: keyof typeof STYLES, text: string) => string;
const STYLES = { bold: '1', dim: '2', red: '31', green: '32', yellow: '33' } as const;

/** The whole report, ending with a newline. */
export function formatInspectReport(r: InspectResult, options: InspectReportOptions = {}): string {
  const paint: Paint = (style, text) => (options.color && text ? `\x1b[${STYLES[style]}m${text}\x1b[0m` : text);
  const name = r.tags[0] ?? r.origin;
  const head = `${paint('bold', name)} — ${r.layers.length} layer${r.layers.length === 1 ? '' : 's'}`;
  return [head, '', ...layerTable(r, paint), '', ...costLines(r, paint), ...shadowedLines(r, paint), ''].join('\n');
}

const HEADERS = [
  '#',
  'layer',
  'created by',
  'stored',
  'tar',
  'added',
  'changed',
  'deleted',
  'wasted',
  'merged',
  'vfs copy',
];
const LEFT = new Set([1, 2]); // text columns; the rest are numbers, right-aligned

function layerTable(r: InspectResult, paint: Paint): string[] {
  const rows = r.layers.map((l) => layerRow(l));
  const t = r.totals;
  rows.push([
    '',
    'total',
    '',
    sizeLabel(t.compressedBytes),
    sizeLabel(t.tarBytes),
    '',
    '',
    '',
    sizeLabel(t.wastedBytes),
    sizeLabel(t.mergedBytes),
    sizeLabel(r.vfs.imageBytes),
  ]);
  const widths = HEADERS.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[], style?: (c: number, text: string) => string) =>
    cells
      .map((cell, c) => {
        const padded = LEFT.has(c) ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!);
        return style ? style(c, padded) : padded;
      })
      .join('  ')
      .trimEnd();
  const wastedCol = HEADERS.indexOf('wasted');
  return [
    line(HEADERS, (_, text) => paint('bold', text)),
    ...rows.map((row, i) =>
      line(row, (c, text) => {
        if (i === rows.length - 1) return paint('bold', text);
        if (c === 1) return paint('dim', text);
        return c === wastedCol && r.layers[i]!.wastedBytes > 0 ? paint('yellow', text) : text;
      }),
    ),
  ];
}

function layerRow(l: LayerReport): string[] {
  return [
    String(l.index),
    shortHex(l.digest ?? l.diffId),
    shortCommand(l.createdBy, 40),
    sizeLabel(l.compressedBytes),
    sizeLabel(l.tarBytes),
    String(l.added),
    String(l.changed),
    String(l.whiteouts + l.opaqueDirs),
    sizeLabel(l.wastedBytes),
    sizeLabel(l.mergedBytes),
    sizeLabel(l.vfsBytes),
  ];
}

function costLines(r: InspectResult, paint: Paint): string[] {
  const v = r.vfs;
  const pad = (n: number) => sizeLabel(n).padStart(9);
  const t = r.totals;
  return [
    'stored: layer blob (compressed if the source compresses it); tar: uncompressed; ' +
      'changed: entries at paths that existed below;',
    "deleted: whiteout and opaque-directory entries; wasted: this layer's file bytes " +
      'that later layers overwrite or delete;',
    `merged: file bytes visible after this layer; vfs copy: what VFS storage keeps for it, a full copy (du estimate)`,
    '',
    `merged filesystem: ${sizeLabel(t.mergedBytes)} in ${t.mergedFiles} files; ` +
      `${sizeLabel(t.wastedBytes)} of layer content is shadowed`,
    `VFS cost (du estimate, files in ${v.blockSize / 1024} KiB blocks; see docs/vfs-cost.md):`,
    `  as built   image ${pad(v.imageBytes)}   + 1 container ${pad(v.imagePlusContainerBytes)}`,
    `  flattened  image ${pad(v.flatImageBytes)}   + 1 container ${pad(v.flatPlusContainerBytes)}`,
    paint('green', `  saving     ${sizeLabel(v.savingBytes)} with one container (${factorLabel(v.savingFactor)} less)`),
    ...(r.dedupe
      ? [
          `--dedupe would store ${r.dedupe.files} identical files as hardlinks, ` +
            `saving ${sizeLabel(r.dedupe.bytes)} more of the flat image`,
        ]
      : []),
  ];
}

function shadowedLines(r: InspectResult, paint: Paint): string[] {
  if (r.shadowed.length === 0) return [];
  const rows = r.shadowed.map((s) => [sizeLabel(s.bytes), String(s.addedIn), String(s.hiddenIn), s.how, s.path]);
  const heads = ['size', 'added in', 'hidden in', 'how', 'path'];
  const widths = heads.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c >= 3 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [
    '',
    paint('bold', `largest shadowed files (${r.shadowed.length}):`),
    `  ${paint('bold', line(heads))}`,
    ...rows.map((row) => `  ${line(row)}`),
  ];
}
