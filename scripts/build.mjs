// Bundles berthd into one file and berth into an entry plus one chunk per command, loaded on
// demand (DESIGN: the CLI starts fast), and builds the native helper.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';

const common = {
  bundle: true, platform: 'node', target: 'node20', format: 'esm', sourcemap: 'linked',
  // better-sqlite3 is a native addon and pino loads workers by path: both stay in node_modules.
  external: ['better-sqlite3', 'pino'],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
};
// Chunks are named by content hash: clear the old ones so dist/ holds one build.
rmSync('dist/berth-chunks', { recursive: true, force: true });
await Promise.all([
  build({ ...common, entryPoints: ['src/daemon/main.ts'], outfile: 'dist/berthd.mjs' }),
  build({
    ...common, entryPoints: { berth: 'src/cli/main.ts' }, outdir: 'dist', splitting: true,
    chunkNames: 'berth-chunks/[name]-[hash]', outExtension: { '.js': '.mjs' },
  }),
]);
mkdirSync('native/build', { recursive: true });
execFileSync('make', ['-s', '-C', 'native'], { stdio: 'inherit' });
