// README.md's "Layout and docs" draws every folder under src/, one line each (issue 12): a folder
// added, moved or removed without the README following fails here.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const repo = join(import.meta.dirname, '..');

function folders(dir: string, rel: string): string[] {
  return readdirSync(join(repo, dir), { withFileTypes: true }).filter((e) => e.isDirectory())
    .flatMap((e) => [`${rel}${e.name}/`, ...folders(join(dir, e.name), `${rel}${e.name}/`)]);
}

test('the README layout section lists exactly the folders under src/', () => {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Layout and docs'));
  const block = /```\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  const drawn = block.split('\n').map((l) => /^(src\/\S*)\s/.exec(l)?.[1]).filter((x): x is string => x !== undefined);
  assert.equal(new Set(drawn).size, drawn.length, 'each folder once');
  assert.deepEqual([...drawn].sort(), ['src/', ...folders('src', 'src/')].sort());
});
