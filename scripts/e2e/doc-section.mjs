#!/usr/bin/env node
// scripts/e2e/doc-section.mjs FILE "## Heading" <section-body.md
//
// Replace one `## Heading` section of a Markdown file (from its heading up to the next `## `
// heading or the end) with the heading and the body read from stdin; append the section if the
// file has none; create the file (with a `# Benchmarks` title) if it does not exist. The rest of
// the file — sections other people write — is left byte for byte as it was. Written to a temporary
// file and renamed, so a reader never sees half a file.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

const [file, heading] = process.argv.slice(2);
if (!file || !heading?.startsWith('## ')) {
  console.error('usage: doc-section.mjs FILE "## Heading" <body');
  process.exit(2);
}
const body = readFileSync(0, 'utf8').replace(/\s+$/, '');
const section = `${heading}\n\n${body}\n`;
const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
const lines = text.split('\n');
const start = lines.findIndex((l) => l.trimEnd() === heading);
let out;
if (start < 0) {
  out = `${text.replace(/\s*$/, '')}\n\n${section}`;
} else {
  let end = lines.findIndex((l, i) => i > start && /^## /.test(l));
  if (end < 0) end = lines.length;
  const before = lines.slice(0, start).join('\n');
  const after = lines.slice(end).join('\n');
  out = `${before}${before ? '\n' : ''}${section}${after ? `\n${after}` : ''}`;
}
if (!out.endsWith('\n')) out += '\n';
writeFileSync(`${file}.tmp-e2e`, out);
renameSync(`${file}.tmp-e2e`, file);
console.log(`${file}: section "${heading}" ${start < 0 ? 'added' : 'replaced'}`);
