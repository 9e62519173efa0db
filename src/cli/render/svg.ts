/**
 * The VFS cost as a chart a sysadmin can paste into a ticket: one self-contained SVG (no
 * scripts, fonts or links), drawn with string templates. Bars climb layer by layer as VFS stores
 * one more full copy for each; beside them, the same image flattened.
 */
import type { InspectResult } from '../../index.js';
import { factorLabel, sizeLabel } from './units.js';

const W = 860;
const H = 470;
const PLOT = { left: 86, right: W - 24, top: 92, bottom: H - 112 };
const FLAT_SLOT = 56; // width of each flattened bar's slot
const GROUP_GAP = 44;
const COLOR = {
  below: '#f3c98b',
  copy: '#d9822b',
  container: '#8c8c8c',
  flat: '#2e8b57',
  grid: '#e4e4e4',
  text: '#222',
  muted: '#666',
};

interface Bar {
  label: string;
  below: number; // what was already stored
  add: number; // what this step stores
  addColor: string;
  belowColor: string;
}

/** An SVG document (UTF-8 text) charting `r.vfs` and the per-layer copies. */
export function vfsCostSvg(r: InspectResult): string {
  const v = r.vfs;
  const { layered, flat } = barsOf(r);
  const step = tickStep(Math.max(v.imagePlusContainerBytes, 1));
  const max = step * Math.max(1, Math.ceil(v.imagePlusContainerBytes / step));
  const y = (bytes: number) => PLOT.bottom - ((PLOT.bottom - PLOT.top) * bytes) / max;
  // The flattened pair keeps a readable width however many layers there are; layers share the rest.
  const slotW = Math.min(FLAT_SLOT * 1.5, (PLOT.right - PLOT.left - GROUP_GAP - 2 * FLAT_SLOT) / layered.length);
  const flatX = PLOT.left + layered.length * slotW + GROUP_GAP;
  const every = Math.max(1, Math.ceil(28 / slotW)); // label every k-th layer so numbers never overlap
  const last = layered.length - 1;
  const labelled = (i: number) => i === last || (i % every === 0 && last - i >= every);
  const body = [
    ...axis(max, step, y),
    ...layered.map((b, i) => bar(b, PLOT.left + i * slotW, slotW, y, labelled(i))),
    ...flat.map((b, i) => bar(b, flatX + i * FLAT_SLOT, FLAT_SLOT, y, true)),
    total(PLOT.left + (last + 0.5) * slotW, y(v.imagePlusContainerBytes), sizeLabel(v.imagePlusContainerBytes)),
    total(flatX + 1.5 * FLAT_SLOT, y(v.flatPlusContainerBytes), sizeLabel(v.flatPlusContainerBytes)),
    groupLabel(
      PLOT.left + (layered.length / 2) * slotW,
      `as built: ${r.layers.length} layer${r.layers.length === 1 ? '' : 's'} + a container`,
    ),
    groupLabel(flatX + FLAT_SLOT, 'flattened + a container'),
    ...legend(),
  ];
  const name = r.tags[0] ?? r.origin;
  const summary =
    `as built ${sizeLabel(v.imagePlusContainerBytes)}, flattened ${sizeLabel(v.flatPlusContainerBytes)} ` +
    `(image + 1 container): saves ${sizeLabel(v.savingBytes)}, ${factorLabel(v.savingFactor)} less`;
  const note =
    'VFS stores every layer as a full copy of the filesystem after it; ' +
    `estimate as du counts it (${v.blockSize / 1024} KiB blocks)`;
  const font = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12"';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ${font} \
fill="${COLOR.text}">
<title>VFS disk cost of ${esc(name)}</title>
<desc>${esc(summary)}</desc>
<rect width="${W}" height="${H}" fill="#fff"/>
<text x="${PLOT.left}" y="30" font-size="18" font-weight="bold">VFS disk cost: ${esc(clip(name, 52))}</text>
<text x="${PLOT.left}" y="52" font-size="13">${esc(summary)}</text>
<text x="${PLOT.left}" y="70" font-size="11" fill="${COLOR.muted}">${note}</text>
${body.join('\n')}
</svg>
`;
}

/**
 * Layered: one bar per layer (the copies below, plus its own), then a container; flattened: one copy, then a container.
 */
function barsOf(r: InspectResult): { layered: Bar[]; flat: Bar[] } {
  const layered: Bar[] = [];
  let stored = 0;
  for (const l of r.layers) {
    layered.push({
      label: String(l.index),
      below: stored,
      add: l.vfsBytes,
      addColor: COLOR.copy,
      belowColor: COLOR.below,
    });
    stored += l.vfsBytes;
  }
  const top = r.vfs.flatImageBytes;
  layered.push({ label: '+ctr', below: stored, add: top, addColor: COLOR.container, belowColor: COLOR.below });
  const flat: Bar[] = [
    { label: 'flat', below: 0, add: top, addColor: COLOR.flat, belowColor: COLOR.flat },
    { label: '+ctr', below: top, add: top, addColor: COLOR.container, belowColor: COLOR.flat },
  ];
  return { layered, flat };
}

function bar(b: Bar, x: number, slotW: number, y: (n: number) => number, labelled: boolean): string {
  const w = Math.max(1, slotW * 0.72);
  const left = x + (slotW - w) / 2;
  const rect = (from: number, to: number, fill: string) =>
    to > from
      ? `<rect x="${r1(left)}" y="${r1(y(to))}" width="${r1(w)}" ` +
        `height="${r1(Math.max(y(from) - y(to), 0.5))}" fill="${fill}"/>`
      : '';
  const label = labelled
    ? `<text x="${r1(x + slotW / 2)}" y="${PLOT.bottom + 16}" text-anchor="middle" font-size="11">${b.label}</text>`
    : '';
  return `<g>${rect(0, b.below, b.belowColor)}${rect(b.below, b.below + b.add, b.addColor)}${label}</g>`;
}

function axis(max: number, step: number, y: (n: number) => number): string[] {
  const out: string[] = [];
  for (let v = 0; v <= max; v += step) {
    out.push(
      `<line x1="${PLOT.left}" x2="${PLOT.right}" y1="${r1(y(v))}" y2="${r1(y(v))}" ` +
        `stroke="${v === 0 ? '#999' : COLOR.grid}"/>`,
    );
    out.push(
      `<text x="${PLOT.left - 8}" y="${r1(y(v) + 4)}" text-anchor="end" font-size="11" fill="${COLOR.muted}">` +
        `${sizeLabel(v).replace('.0 ', ' ')}</text>`,
    );
  }
  return out;
}

function total(x: number, top: number, text: string): string {
  return `<text x="${r1(x)}" y="${r1(top - 6)}" text-anchor="middle" font-weight="bold">${text}</text>`;
}

function groupLabel(x: number, text: string): string {
  const at = `x="${r1(x)}" y="${PLOT.bottom + 36}"`;
  return `<text ${at} text-anchor="middle" font-size="12" fill="${COLOR.muted}">${esc(text)}</text>`;
}

function legend(): string[] {
  const items: [string, string][] = [
    [COLOR.copy, 'copy stored for this layer'],
    [COLOR.below, 'copies of the layers below'],
    [COLOR.container, 'a container (one more copy)'],
    [COLOR.flat, 'flattened image (one copy)'],
  ];
  const top = H - 44;
  return items.map(([fill, text], i) => {
    const x = PLOT.left + i * 190;
    const box = `<rect x="${x}" y="${top}" width="12" height="12" fill="${fill}"/>`;
    return `${box}<text x="${x + 18}" y="${top + 10}" font-size="11">${text}</text>`;
  });
}

/** A round gridline step (1, 2, 2.5 or 5 × 10^j of a binary unit) giving about five lines up to `n`. */
function tickStep(n: number): number {
  const raw = n / 5;
  const unit = 1024 ** Math.max(0, Math.min(4, Math.floor(Math.log(raw) / Math.log(1024))));
  const m = raw / unit;
  const pow = 10 ** Math.floor(Math.log10(m));
  const nice = [1, 2, 2.5, 5, 10].find((k) => k * pow >= m)!;
  return nice * pow * unit;
}

function r1(n: number): string {
  return n.toFixed(1).replace(/\.0$/, '');
}

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
