'use strict';
// The berth CLI launcher, copied by the build to dist/berth.cjs (what /usr/local/bin/berth runs;
// dist/berth.mjs loads it too). It runs the CLI bundle, dist/berth-cli.cjs, from the V8 code cache
// the build made for it (dist/berth-cli.cjs.cache), so a command neither parses nor compiles the
// code it runs: measured in bench/ and docs/benchmarks.md. Without a usable cache (another Node
// version, V8 flags such as --cpu-prof, no cache file) V8 rejects it and compiles as usual.
// CommonJS on purpose: an ES module entry costs every command Node's ESM loader.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { Script } = require('node:vm');

const BUNDLE = join(__dirname, 'berth-cli.cjs');
const CACHE = `${BUNDLE}.cache`;

/**
 * Compiles the bundle (with `cachedData`, a V8 code cache, when given) and runs its module code.
 * Returns the bundle's exports ({ main, start }) and the compiled script (the build's cache
 * trainer calls script.createCachedData() on it).
 */
function load(cachedData) {
  // The build keeps the bundle ASCII-only, so latin1 reads it exactly and skips UTF-8 decoding.
  const source = readFileSync(BUNDLE, 'latin1');
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {\n${source}\n})`, {
    filename: BUNDLE, lineOffset: -1, ...(cachedData ? { cachedData } : {}),
  });
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, require, mod, BUNDLE, __dirname);
  return { cli: mod.exports, script };
}

function readCache() {
  try { return readFileSync(CACHE); } catch { return undefined; }
}

/** Runs `berth` with this process's arguments. */
function run() {
  load(readCache()).cli.start(process.argv.slice(2));
}

module.exports = { BUNDLE, CACHE, load, run };
if (require.main === module) run();
