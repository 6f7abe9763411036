// The layering of STYLE.md "Module boundaries" is enforced by the lint (eslint.config.js): a
// deliberate violation, linted with the repository's own config, must fail; the same file
// importing only what its layer may use must pass. Guards the config itself against a change that
// quietly stops checking.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';

const repo = join(import.meta.dirname, '..');
/** A real file of the CLI layer: its text is replaced by the fixture, its place decides the rules. */
const cliFile = join(repo, 'src/cli/commands/container/ps.ts');

async function layerErrors(code: string, filePath: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: repo });
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'import-x/no-restricted-paths').map((m) => m.message);
}

test('a CLI file importing engine internals fails the lint; importing lib and the client passes', async () => {
  const bad = await layerErrors("import { ContainerService } from '../../../engine/containers/service.ts';\nexport type X = ContainerService;\n", cliFile);
  assert.ok(bad.length >= 1, 'the violation is reported');
  assert.match(bad[0]!, /STYLE\.md module boundaries: cli\/ may import only/);
  const good = await layerErrors("import { parseBytes } from '../../../lib/units.ts';\nexport const n = parseBytes('1k');\n", cliFile);
  assert.deepEqual(good, []);
});

test('a lower layer importing a higher one fails the lint (store → engine)', async () => {
  const bad = await layerErrors("import type { Engine } from '../engine/index.ts';\nexport type X = Engine;\n", join(repo, 'src/store/db.ts'));
  assert.ok(bad.length >= 1);
  assert.match(bad[0]!, /store\/ may import only/);
});
