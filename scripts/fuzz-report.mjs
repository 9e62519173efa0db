#!/usr/bin/env node
// scripts/fuzz-report.mjs REPORT DOC [SECONDS] — write the "Last run" section of DOC
// (docs/reliability.md) from REPORT, the JSON lines test/helpers/fuzz.ts appends (one per
// property run). The rest of DOC is kept; the section sits between two marker comments.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';

const [reportPath, docPath, wallSeconds] = process.argv.slice(2);
if (!reportPath || !docPath) {
  console.error('usage: fuzz-report.mjs REPORT DOC [SECONDS]');
  process.exit(2);
}
const lines = readFileSync(reportPath, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l));

const START = '<!-- fuzz-run:start (written by scripts/fuzz-report.mjs) -->';
const END = '<!-- fuzz-run:end -->';

const commit = (() => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
})();
const number = (n) => n.toLocaleString('en-US');
const cell = (s) => String(s).replace(/\|/g, '\\|');
const ended = (o) =>
  o
    ? Object.entries(o)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${number(v)}`)
        .join(', ')
    : '';

const totalRuns = lines.reduce((n, l) => n + l.runs, 0);
const failed = lines.filter((l) => l.failed);
const rows = lines.map(
  (l) =>
    `| ${cell(l.property)} | \`${l.file}\` | ${number(l.runs)} | ${l.seconds.toFixed(1)} | ${l.failed ? 1 : 0} | ` +
    `${l.seed} | ${cell(ended(l.outcomes))} |`,
);
const section = [
  START,
  '## Last run',
  '',
  `${new Date().toISOString().slice(0, 10)}, commit ${commit}, Node ${process.version}, ` +
    `${os.cpus().length} CPUs; \`LAYERFLAT_FUZZ_RUNS=${process.env.LAYERFLAT_FUZZ_RUNS ?? '(unset)'}\`. ` +
    `**${number(totalRuns)} cases** in ${lines.length} properties` +
    (wallSeconds ? `, ${number(Number(wallSeconds))} s in all (build included)` : '') +
    `; **${failed.length} failing ${failed.length === 1 ? 'property' : 'properties'}**.`,
  '',
  '| property | file | runs | seconds | failures | seed | how the cases ended |',
  '| --- | --- | ---: | ---: | ---: | ---: | --- |',
  ...rows,
  '',
  ...(failed.length
    ? [
        'Failing cases (replay with `LAYERFLAT_FUZZ_SEED=<seed>`; vitest printed the path to the shrunk case):',
        '',
        ...failed.map((l) => `- ${l.property} (seed ${l.seed}): \`${cell(l.counterexample ?? '').slice(0, 500)}\``),
        '',
      ]
    : []),
  END,
].join('\n');

const doc = existsSync(docPath) ? readFileSync(docPath, 'utf8') : '# Reliability\n';
const start = doc.indexOf(START);
const end = doc.indexOf(END);
const out =
  start >= 0 && end > start
    ? `${doc.slice(0, start)}${section}${doc.slice(end + END.length)}`
    : `${doc.trimEnd()}\n\n${section}\n`;
writeFileSync(docPath, out);
