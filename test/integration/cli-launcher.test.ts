/**
 * The built CLI (npm run build): dist/berth.cjs runs the bundle from the V8 code cache the build
 * trained, and dist/berth.mjs runs the same thing. How much the cache saves is measured in bench/
 * (`bench/run.sh cli`); here only that it is made and used, so the speed-up cannot silently vanish.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './harness.ts';

const DIST = join(REPO, 'dist');
const env: NodeJS.ProcessEnv = { ...process.env, BERTH_HOST: 'unix:///nonexistent/berth.sock' };
delete env['NODE_OPTIONS'];

test('dist/berth.cjs and dist/berth.mjs run the CLI', () => {
  for (const entry of ['berth.cjs', 'berth.mjs']) {
    const r = spawnSync(process.execPath, [join(DIST, entry), '--version'], { env, encoding: 'utf8' });
    assert.equal(r.stdout, 'Berth version 0.1.0\n', `${entry}: ${r.stderr}`);
    assert.equal(r.status, 0);
    const ps = spawnSync(process.execPath, [join(DIST, entry), 'ps'], { env, encoding: 'utf8' });
    assert.equal(ps.stderr, 'Cannot connect to the Berth daemon at unix:///nonexistent/berth.sock. Is the berth daemon running?\n');
    assert.equal(ps.status, 1);
  }
});

test('the code cache the build made is accepted by this node (plain `node`, no flags)', () => {
  const probe = `
    const launcher = require(${JSON.stringify(join(DIST, 'berth.cjs'))});
    const { script } = launcher.load(require('node:fs').readFileSync(launcher.CACHE));
    process.stdout.write(String(script.cachedDataRejected));`;
  const r = spawnSync(process.execPath, ['-e', probe], { env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'false');
});

test('the bundle is ASCII (the launcher reads it as latin1) and has no import() left', () => {
  const bundle = readFileSync(join(DIST, 'berth-cli.cjs'));
  assert.equal(bundle.findIndex((b) => b > 0x7f), -1);
  assert.doesNotMatch(bundle.toString('latin1'), /\bimport\(["']/);
});
