// ESLint 9 flat config: typescript-eslint's recommended rules, the promise rules that need type
// information (a forgotten `await` is a silent bug in a daemon), and STYLE.md's module boundaries.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { importX, createNodeResolver } from 'eslint-plugin-import-x';

/**
 * STYLE.md "Module boundaries": a subsystem imports only what is listed for it (and itself).
 * Levels: 0 lib, api/types → 1 store → 2 image snapshot runtime network volume registry → 3 build
 * → 4 engine → 5 api, daemon. DESIGN.md: lib is the leaf every layer may use, so client and cli
 * may use it too. daemon is the composition root and constructs the API server.
 */
const LEVEL0 = ['lib', 'api/types'];
const LEVEL2 = ['image', 'snapshot', 'runtime', 'network', 'volume', 'registry'];
const BELOW_ENGINE = [...LEVEL0, 'store', ...LEVEL2, 'build'];
const MAY_IMPORT = {
  lib: ['api/types'],
  'api/types': ['lib'],
  store: LEVEL0,
  ...Object.fromEntries(LEVEL2.map((s) => [s, [...LEVEL0, 'store']])),
  build: [...LEVEL0, 'store', ...LEVEL2],
  engine: BELOW_ENGINE,
  api: [...BELOW_ENGINE, 'engine'],
  daemon: [...BELOW_ENGINE, 'engine', 'api'],
  client: LEVEL0,
  cli: [...LEVEL0, 'client'],
};
const SUBSYSTEMS = Object.keys(MAY_IMPORT);

/**
 * Imports that break the layers today and that only issue 12's redesign (one engine interface,
 * wire types at the edge) removes. Each is allowed for exactly the file that has it; anything new
 * fails the lint.
 */
const LAYER_EXCEPTIONS = [
  // TODO(#12): the CLI reads the Dockerfile's syntax directive and target stages with the build
  // parser; it belongs behind the client (or in a level-0 module).
  { file: 'src/cli/commands/image/build-context.ts', imports: 'src/build/dockerfile/index.ts' },
  // TODO(#12): the build progress types are an engine contract the CLI renders; they belong in api/types.
  { file: 'src/cli/commands/image/build-progress.ts', imports: 'src/engine/builds/contract.ts' },
  // TODO(#12): `ps` and `port` format published ports with the network layer's helper.
  { file: 'src/cli/commands/container/ps.ts', imports: 'src/network/ports.ts' },
  { file: 'src/cli/commands/container/port.test.ts', imports: 'src/network/ports.ts' },
  // TODO(#12): `berth registry serve` runs the built-in registry server inside the CLI process.
  { file: 'src/cli/commands/registry/registry.ts', imports: 'src/registry/server/index.ts' },
];

/**
 * One zone per (subsystem, subsystem it may not use). `allow` lists imported files (repo paths)
 * that the linted file may use anyway: the exceptions above, configured only for their own file.
 */
function layerZones(allow = []) {
  const zones = [];
  for (const s of SUBSYSTEMS) {
    const allowed = new Set([s, ...MAY_IMPORT[s]]);
    // api/types/ sits inside api/: api/ may use it, and the zones of api/ (a subset of api/types/'s
    // restrictions) apply to api/types/ too.
    if (s === 'api') allowed.add('api/types');
    for (const o of SUBSYSTEMS.filter((x) => !allowed.has(x))) {
      const except = allow.filter((a) => a.startsWith(`src/${o}/`)).map((a) => `./${a.slice(`src/${o}/`.length)}`);
      // Every subsystem may use api/types/ (level 0), which sits inside api/ (level 5).
      if (o === 'api') except.push('./types');
      zones.push({
        target: `src/${s}`,
        from: `src/${o}`,
        except,
        message: `STYLE.md module boundaries: ${s}/ may import only ${MAY_IMPORT[s].join(', ')}.`,
      });
    }
  }
  return zones;
}

const layerRule = (allow) => ({ 'import-x/no-restricted-paths': ['error', { zones: layerZones(allow), basePath: import.meta.dirname }] });

export default tseslint.config(
  { ignores: ['dist/', 'native/build/', 'build/', 'node_modules/', 'bench/.cache/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      // A leading underscore marks a parameter kept for an interface's shape.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      // `let [a, b] = …` where only one is reassigned, and a `let` a cleanup closure reads before
      // the assignment, are fine as they are.
      'prefer-const': ['error', { destructuring: 'all', ignoreReadBeforeAssign: true }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    // CommonJS on purpose (scripts/cli-launcher.cjs: the CLI's entry skips Node's ESM loader).
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's test() and describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }],
      }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    // Integration tests read JSON bodies field by field: typing each one adds nothing there.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createNodeResolver()] },
    rules: layerRule([]),
  },
  ...LAYER_EXCEPTIONS.map((e) => ({ files: [e.file], rules: layerRule([e.imports]) })),
);
