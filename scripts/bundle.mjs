// npm run bundle: the CLI as one ESM file, dist/bundle/layerflat.mjs, for Node >= 16.14 with
// nothing else installed (the RHEL 7 tarball ships it; scripts/package-rhel7.sh).
// Commander is CommonJS: esbuild's ESM output reaches its require() calls through a helper that
// needs a real `require`, so the banner makes one with createRequire.
import { build } from 'esbuild';

const pkg = JSON.parse(await import('node:fs').then((fs) => fs.readFileSync('package.json', 'utf8')));
const node = /^>=(\d+\.\d+)/.exec(pkg.engines.node)?.[1];
if (!node) throw new Error(`package.json engines.node is not of the form >=X.Y: ${pkg.engines.node}`);

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/bundle/layerflat.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: `node${node}`,
  legalComments: 'inline',
  banner: {
    js: [
      `// layerflat ${pkg.version}, bundled with esbuild; needs Node.js ${pkg.engines.node}.`,
      "import { createRequire as __layerflatCreateRequire } from 'node:module';",
      'const require = __layerflatCreateRequire(import.meta.url);',
    ].join('\n'),
  },
  logLevel: 'warning',
});
console.log(`dist/bundle/layerflat.mjs (target node${node})`);
