// Runs the test suites with node's built-in runner. `unit`: *.test.ts beside the code (pure logic,
// no root). `integration`: test/integration/*.test.ts (real daemon, root). `all`: both.
// Extra arguments narrow the run to files whose path contains one of them.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const [which = 'all', ...only] = process.argv.slice(2);
const walk = (dir) => readdirSync(dir).flatMap((n) => {
  const p = join(dir, n);
  return statSync(p).isDirectory() ? walk(p) : p.endsWith('.test.ts') ? [p] : [];
});
let files = [];
if (which === 'unit' || which === 'all') files.push(...walk('src'));
if (which === 'integration' || which === 'all') files.push(...walk('test/integration'));
if (only.length) files = files.filter((f) => only.some((o) => f.includes(o)));
if (files.length === 0) { console.error('no test files matched'); process.exit(1); }

/**
 * Host objects test daemons make (their names come from test/integration/harness.ts: interfaces
 * "b" + 5 hex, nft tables "berth-" + 8 hex, everything under /tmp/berth-it-*). Compared before and
 * after the run: whatever is new is a leak, even if a test's own check missed it.
 */
function testObjects() {
  const out = (cmd, args) => spawnSync(cmd, args, { encoding: 'utf8' }).stdout ?? '';
  const links = out('ip', ['-o', 'link', 'show']).split('\n').map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1]).filter((n) => n && /^b[0-9a-f]{5}/.test(n));
  const tables = [...out('nft', ['list', 'tables']).matchAll(/table ip (berth-[0-9a-f]{8})\b/g)].map((m) => m[1]);
  const mounts = out('cat', ['/proc/self/mountinfo']).split('\n').map((l) => l.split(' ')[4]).filter((m) => m && m.startsWith('/tmp/berth-it-'));
  return [...links.map((l) => `link ${l}`), ...tables.map((t) => `nft table ${t}`), ...mounts.map((m) => `mount ${m}`)];
}

const before = new Set(testObjects());
// Integration files share the host (bridges, cgroups), so files run one at a time.
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files], { stdio: 'inherit' });
const leaked = testObjects().filter((o) => !before.has(o));
if (leaked.length) {
  console.error(`\nleaked by the test run: ${leaked.join(', ')}`);
  process.exit(1);
}
process.exit(r.status ?? 1);
