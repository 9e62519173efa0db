#!/usr/bin/env node
// scripts/bench/make-deep.mjs N OUT.tar — a docker-archive whose one layer is a nest of N directories
// ("d/d/d/…", each with a small file), written with plain tar headers (pax for long names), for
// checking that flatten, verify and inspect stay linear in the depth (issue #9: 4,000 levels took
// 38 s, verify overflowed the stack).
import { createHash } from 'node:crypto';
import fs from 'node:fs';

const [n = '4000', out = 'deep.tar'] = process.argv.slice(2);
const depth = Number(n);

function octal(v, len) {
  return v.toString(8).padStart(len - 1, '0') + '\0';
}
function header(name, type, size) {
  const h = Buffer.alloc(512);
  const pax = [];
  if (Buffer.byteLength(name) > 99) {
    const rec = (k, v) => {
      const body = ` ${k}=${v}\n`;
      let len = body.length + 1;
      while (`${len}${body}`.length !== len) len = `${len}${body}`.length;
      return `${len}${body}`;
    };
    const data = Buffer.from(rec('path', name));
    const x = Buffer.alloc(512);
    x.write('PaxHeaders/x', 0);
    x.write(octal(0o644, 8), 100);
    x.write(octal(0, 8), 108);
    x.write(octal(0, 8), 116);
    x.write(octal(data.length, 12), 124);
    x.write(octal(0, 12), 136);
    x.write('x', 156);
    x.write('ustar\x0000', 257, 'latin1');
    sum(x);
    pax.push(x, data, Buffer.alloc((512 - (data.length % 512)) % 512));
    name = name.slice(0, 99);
  }
  h.write(name, 0);
  h.write(octal(type === '5' ? 0o755 : 0o644, 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  h.write(octal(size, 12), 124);
  h.write(octal(1700000000, 12), 136);
  h.write(type, 156);
  h.write('ustar\x0000', 257, 'latin1');
  sum(h);
  return Buffer.concat([...pax, h]);
}
function sum(b) {
  b.fill(0x20, 148, 156);
  let s = 0;
  for (const c of b) s += c;
  b.write(octal(s, 7), 148);
}
const parts = [];
let p = '';
for (let i = 0; i < depth; i++) {
  p = p ? `${p}/d` : 'd';
  parts.push(header(`${p}/`, '5', 0));
  const data = Buffer.from(`level ${i}\n`);
  parts.push(header(`${p}/f`, '0', data.length), data, Buffer.alloc(512 - data.length));
}
parts.push(Buffer.alloc(1024));
const layer = Buffer.concat(parts);
const diffId = `sha256:${createHash('sha256').update(layer).digest('hex')}`;
const config = Buffer.from(
  JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [diffId] } }),
);
const configName = `${createHash('sha256').update(config).digest('hex')}.json`;
const manifest = Buffer.from(JSON.stringify([{ Config: configName, RepoTags: ['deep:1'], Layers: ['0/layer.tar'] }]));
const outer = [];
for (const [name, data] of [
  ['0/layer.tar', layer],
  [configName, config],
  ['manifest.json', manifest],
]) {
  outer.push(header(name, '0', data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
}
outer.push(Buffer.alloc(1024));
fs.writeFileSync(out, Buffer.concat(outer));
