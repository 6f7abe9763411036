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
 * may use it too. daemon is the composition root's caller and constructs the API server.
 *
 * An entry ending in `.ts` allows that one file of a subsystem, not the rest of it (DESIGN "The
 * engine seam": api/, cli/ and daemon/ reach the engine only through engine/index.ts, and never
 * runtime/, network/, store/, image/, snapshot/ or build/).
 */
const LEVEL0 = ['lib', 'api/types'];
const LEVEL2 = ['image', 'snapshot', 'runtime', 'network', 'volume', 'registry'];
const BELOW_ENGINE = [...LEVEL0, 'store', ...LEVEL2, 'build'];
const ENGINE_SEAM = 'engine/index.ts';
const MAY_IMPORT = {
  lib: ['api/types'],
  'api/types': ['lib'],
  store: LEVEL0,
  ...Object.fromEntries(LEVEL2.map((s) => [s, [...LEVEL0, 'store']])),
  build: [...LEVEL0, 'store', ...LEVEL2],
  engine: BELOW_ENGINE,
  api: [...LEVEL0, ENGINE_SEAM],
  daemon: [...LEVEL0, ENGINE_SEAM, 'api'],
  client: LEVEL0,
  // Compose is a client of the Engine API (DESIGN "Compose"): no engine internals.
  compose: [...LEVEL0, 'client'],
  // `berth registry serve` and `registry gc` run the registry server in the CLI's process (as the
  // `registry` program would), through its entry point only; a daemonless CLI will use the seam.
  cli: [...LEVEL0, 'client', ENGINE_SEAM, 'registry/server/index.ts'],
};
const SUBSYSTEMS = Object.keys(MAY_IMPORT);

/** One zone per (subsystem, subsystem it may not use, or may use one file of). */
function layerZones() {
  const zones = [];
  for (const s of SUBSYSTEMS) {
    const allowed = new Set([s, ...MAY_IMPORT[s]]);
    // api/types/ sits inside api/: api/ may use it, and the zones of api/ (a subset of api/types/'s
    // restrictions) apply to api/types/ too.
    if (s === 'api') allowed.add('api/types');
    for (const o of SUBSYSTEMS.filter((x) => !allowed.has(x))) {
      // Files of `o` allowed to `s` (`engine/index.ts`, `registry/server/index.ts`).
      const except = MAY_IMPORT[s].filter((a) => a.endsWith('.ts') && a.startsWith(`${o}/`)).map((a) => `./${a.slice(o.length + 1)}`);
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

const layerRule = () => ({ 'import-x/no-restricted-paths': ['error', { zones: layerZones(), basePath: import.meta.dirname }] });

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
    // STYLE.md: files of at most ~450 lines and functions of at most ~80 (issue 12). Tests may be longer.
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.test.ts'],
    rules: {
      'max-lines': ['error', 450],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createNodeResolver()] },
    rules: layerRule(),
  },
);
