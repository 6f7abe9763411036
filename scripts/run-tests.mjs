// Runs the test suites with node's built-in runner. `unit`: *.test.ts beside the code (pure logic;
// a few need root and make their own throwaway host objects). `integration`: test/integration/*.test.ts
// (real daemon, root). `all`: both. Extra arguments narrow the run to files whose path contains one
// of them. Ends with one line of totals ("tests: N passed, N failed, N skipped").
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';

const [which = 'all', ...only] = process.argv.slice(2);
const walk = (dir) => readdirSync(dir).flatMap((n) => {
  const p = join(dir, n);
  return statSync(p).isDirectory() ? walk(p) : p.endsWith('.test.ts') ? [p] : [];
}).sort();
const narrow = (files) => (only.length ? files.filter((f) => only.some((o) => f.includes(o))) : files);
const unit = which === 'unit' || which === 'all' ? narrow(walk('src')) : [];
const integration = which === 'integration' || which === 'all' ? narrow(walk('test/integration')) : [];
if (unit.length + integration.length === 0) { console.error('no test files matched'); process.exit(1); }

/**
 * Host objects tests make. Test daemons (test/integration/harness.ts): interfaces "b" + 5 hex, nft
 * tables "berth-" + 8 hex, everything under /tmp/berth-it-*. Unit tests that need root: bridges and
 * veths "bt" + 6 hex, nft tables "berthtest-" + hex, mounts under /tmp/berth-*. Compared before and
 * after the run: whatever is new is a leak, even if a test's own check missed it.
 */
function testObjects() {
  const out = (cmd, args) => spawnSync(cmd, args, { encoding: 'utf8' }).stdout ?? '';
  const links = out('ip', ['-o', 'link', 'show']).split('\n').map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
    .filter((n) => n && (/^b[0-9a-f]{5}/.test(n) || /^bt[0-9a-f]{6}/.test(n)));
  const tables = [...out('nft', ['list', 'tables']).matchAll(/table (\w+) (berth-[0-9a-f]{8}|berthtest-[0-9a-f]+)\b/g)].map((m) => `${m[1]} ${m[2]}`);
  const mounts = out('cat', ['/proc/self/mountinfo']).split('\n').map((l) => l.split(' ')[4])
    .filter((m) => m && m.startsWith(join(tmpdir(), 'berth-')));
  return [...links.map((l) => `link ${l}`), ...tables.map((t) => `nft table ${t}`), ...mounts.map((m) => `mount ${m}`)];
}

/**
 * One `node --test` run of `files`, `concurrency` files at a time, printed with the spec reporter;
 * returns its exit status and the totals of its TAP summary.
 */
function runFiles(files, concurrency) {
  const dir = mkdtempSync(join(tmpdir(), 'run-tests-'));
  const tap = join(dir, 'report.tap');
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`,
      '--test-reporter=spec', '--test-reporter-destination=stdout',
      '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files], { stdio: 'inherit' });
    let summary = '';
    try { summary = readFileSync(tap, 'utf8'); } catch { /* the runner died before writing it: status says so */ }
    const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(summary)?.[1] ?? 0);
    return { status: r.status ?? 1, pass: count('pass'), fail: count('fail') + count('cancelled'), skipped: count('skipped') + count('todo') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const before = new Set(testObjects());
const runs = [];
// Unit files are independent processes: run as many at once as there are cores.
if (unit.length) runs.push(runFiles(unit, availableParallelism()));
// Integration files share the host (bridges, cgroups, the load the timers see): one at a time.
if (integration.length) runs.push(runFiles(integration, 1));
const leaked = testObjects().filter((o) => !before.has(o));

const sum = (k) => runs.reduce((n, r) => n + r[k], 0);
console.log(`\ntests: ${sum('pass')} passed, ${sum('fail')} failed, ${sum('skipped')} skipped`);
if (leaked.length) {
  console.error(`leaked by the test run: ${leaked.join(', ')}`);
  process.exit(1);
}
process.exit(runs.every((r) => r.status === 0) ? 0 : 1);
