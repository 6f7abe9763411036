// Bundles berthd into one file, and the CLI into one CommonJS file run from a V8 code cache
// (DESIGN: the CLI starts as fast as Node allows; the measurements are in docs/benchmarks.md):
//   dist/berth-cli.cjs        the CLI bundle (src/cli/main.ts); commands initialise only when used
//   dist/berth-cli.cjs.cache  V8's code cache for it, trained on the quick commands
//   dist/berth.cjs            the launcher (scripts/cli-launcher.cjs) that /usr/local/bin/berth runs
//   dist/berth.mjs            the same for `node dist/berth.mjs` (tests, contrib)
// and builds the native helper.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { buildCliCodeCache } from './cli-code-cache.mjs';

const common = {
  bundle: true, platform: 'node', target: 'node20', sourcemap: 'linked',
  // better-sqlite3 is a native addon and pino loads workers by path: both stay in node_modules.
  external: ['better-sqlite3', 'pino'],
  logLevel: 'warning',
};
mkdirSync('dist', { recursive: true });
// Left by the earlier build that split the CLI into ES module chunks.
rmSync('dist/berth-chunks', { recursive: true, force: true });
await Promise.all([
  build({
    ...common, format: 'esm', entryPoints: ['src/daemon/main.ts'], outfile: 'dist/berthd.mjs',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  }),
  // Comments and blanks go (less to read); names stay, for -D's stack traces.
  build({ ...common, format: 'cjs', entryPoints: ['src/cli/main.ts'], outfile: 'dist/berth-cli.cjs', minifyWhitespace: true, minifySyntax: true, charset: 'ascii' }),
]);
// The launcher reads the bundle as latin1, which is exact only for ASCII; and a script run by
// vm.Script cannot import(): esbuild turns the CLI's own dynamic imports into requires but leaves
// those of Node's built-ins (`await import('node:fs')`), which must be static imports instead.
const cli = readFileSync('dist/berth-cli.cjs');
const nonAscii = cli.findIndex((b) => b > 0x7f);
if (nonAscii !== -1) throw new Error(`dist/berth-cli.cjs is not ASCII at byte ${nonAscii}`);
const dynamicImport = /\bimport\(["'][^"']+["']\)/.exec(cli.toString('latin1'));
if (dynamicImport) throw new Error(`dist/berth-cli.cjs has ${dynamicImport[0]}: import Node's built-ins statically in the CLI`);
copyFileSync('scripts/cli-launcher.cjs', 'dist/berth.cjs');
writeFileSync('dist/berth.mjs', "// `node dist/berth.mjs` runs the CLI as dist/berth.cjs does (that one skips Node's ESM loader).\nimport { createRequire } from 'node:module';\n\ncreateRequire(import.meta.url)('./berth.cjs').run();\n");
rmSync('dist/berth.mjs.map', { force: true });
await buildCliCodeCache('dist');
mkdirSync('native/build', { recursive: true });
execFileSync('make', ['-s', '-C', 'native'], { stdio: 'inherit' });
