// Runs the test suites with node's built-in runner. `unit`: *.test.ts beside the code (no root:
// a test that needs root lives in test/integration/). `integration`: test/integration/*.test.ts
// (root; real daemons, or real host objects made and removed by the test). `all`: both. Extra arguments narrow the run to files whose path contains one
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
 * What the tests made on the host and is still there, for unit and integration files alike (both
 * runs get BERTH_TEST_LEDGER). Tests name their host objects in the ledger
 * (recordTestObjects in src/lib/test-support.ts; every test daemon of test/integration/harness.ts
 * does): interfaces by prefix, nft tables, directories that mounts live under. Only this run's
 * objects count, so other runs on the same host are not leaks. Checked after the whole run: it
 * catches what a test's own check missed.
 */
function leftovers(ledgerFile) {
  let entries = [];
  try { entries = readFileSync(ledgerFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)); } catch { /* no test wrote one */ }
  const out = (cmd, args) => spawnSync(cmd, args, { encoding: 'utf8' }).stdout ?? '';
  const links = out('ip', ['-o', 'link', 'show']).split('\n').map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1]).filter(Boolean);
  // Both families: a dual-stack daemon has an ip and an ip6 table of the same name.
  const tables = [...out('nft', ['list', 'tables']).matchAll(/^table (\w+) (\S+)$/gm)].map((m) => ({ family: m[1], name: m[2] }));
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter(Boolean);
  const found = new Set();
  for (const e of entries) {
    for (const p of e.linkPrefixes ?? []) for (const l of links) if (l.startsWith(p)) found.add(`link ${l}`);
    for (const t of e.tables ?? []) for (const x of tables) if (x.name === t) found.add(`nft table ${x.family} ${x.name}`);
    for (const d of e.dirs ?? []) for (const m of mounts) if (m === d || m.startsWith(`${d}/`)) found.add(`mount ${m}`);
  }
  return [...found];
}

/**
 * One `node --test` run of `files`, `concurrency` files at a time, printed with the spec reporter;
 * returns its exit status and the totals of its TAP summary.
 */
function runFiles(files, concurrency) {
  const tap = join(work, `report-${runs.length}.tap`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`,
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files],
  { stdio: 'inherit', env: { ...process.env, BERTH_TEST_LEDGER: ledger } });
  let summary = '';
  try { summary = readFileSync(tap, 'utf8'); } catch { /* the runner died before writing it: status says so */ }
  const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(summary)?.[1] ?? 0);
  return { status: r.status ?? 1, pass: count('pass'), fail: count('fail') + count('cancelled'), skipped: count('skipped') + count('todo') };
}

const work = mkdtempSync(join(tmpdir(), 'run-tests-'));
const ledger = join(work, 'ledger.jsonl');
const runs = [];
// Unit files are independent processes: run as many at once as there are cores.
if (unit.length) runs.push(runFiles(unit, availableParallelism()));
// Integration files share the host (bridges, cgroups, the load the timers see): one at a time.
if (integration.length) runs.push(runFiles(integration, 1));
const leaked = leftovers(ledger);
rmSync(work, { recursive: true, force: true });

const sum = (k) => runs.reduce((n, r) => n + r[k], 0);
console.log(`\ntests: ${sum('pass')} passed, ${sum('fail')} failed, ${sum('skipped')} skipped`);
if (leaked.length) {
  console.error(`leaked by the test run: ${leaked.join(', ')}`);
  process.exit(1);
}
process.exit(runs.every((r) => r.status === 0) ? 0 : 1);
