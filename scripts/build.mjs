// Bundles berthd and berth into one file each (DESIGN: the CLI starts fast), and builds the native helper.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

const common = {
  bundle: true, platform: 'node', target: 'node20', format: 'esm', sourcemap: 'linked',
  // better-sqlite3 is a native addon and pino loads workers by path: both stay in node_modules.
  external: ['better-sqlite3', 'pino'],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
};
await Promise.all([
  build({ ...common, entryPoints: ['src/daemon/main.ts'], outfile: 'dist/berthd.mjs' }),
  build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/berth.mjs', splitting: false }),
]);
mkdirSync('native/build', { recursive: true });
execFileSync('make', ['-s', '-C', 'native'], { stdio: 'inherit' });
