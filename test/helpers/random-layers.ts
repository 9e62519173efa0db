import { d, f, hl, opq, sym, wh, type Spec } from './plan-driver.js';

/**
 * A small random layer generator: paths over a tiny alphabet so layers collide often. Each layer
 * is a valid changeset as engines write one: a path at most once, no entry below a non-directory
 * of the same layer, hardlinks only to files written earlier in the same layer.
 */
export function randomLayers(seed: number): Spec[][] {
  let s = seed >>> 0;
  const rnd = (n: number): number => {
    // mulberry32: an LCG's low bits cycle too fast for `% 3`
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
  const names = ['a', 'b', 'c'];
  const randPath = () => Array.from({ length: 1 + rnd(3) }, () => names[rnd(3)]).join('/');
  const layers: Spec[][] = [];
  const layerCount = 1 + rnd(5);
  for (let l = 0; l < layerCount; l++) {
    const layer: Spec[] = [];
    const files: string[] = [];
    const nonDirs = new Set<string>();
    const used = new Set<string>();
    const entryCount = rnd(10);
    for (let i = 0; i < entryCount; i++) {
      const p = randPath();
      const op = rnd(10);
      const parents = p
        .split('/')
        .slice(0, -1)
        .map((_, k, a) => a.slice(0, k + 1).join('/'));
      const isNonDir = op !== 3 && op !== 4 && op < 9;
      const clash =
        used.has(p) ||
        parents.some((x) => nonDirs.has(x)) ||
        (isNonDir && [...used].some((u) => u.startsWith(p + '/')));
      if (clash) continue;
      if (op < 3) {
        layer.push(f(p));
        files.push(p);
      } else if (op < 5) layer.push(d(p));
      else if (op < 6) layer.push(sym(p, randPath()));
      else if (op < 7 && files.length) {
        layer.push(hl(p, files[rnd(files.length)]!));
        files.push(p);
      } else if (op < 9) layer.push(wh(p));
      else layer.push(opq(p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : ''));
      used.add(p);
      if (isNonDir) nonDirs.add(p);
    }
    layers.push(layer);
  }
  return layers;
}
