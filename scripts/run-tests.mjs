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
// Integration files share the host (bridges, cgroups), so files run one at a time.
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
