import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpStatusOf } from './http-status.ts';
import { EngineError, type ErrorKind } from '../lib/errors.ts';

// Keeps docs/errors.md in step with the code (STYLE.md, "Error model"): every kind with the status
// api/http-status.ts gives it, and every Docker-worded message still present in its source files.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOC = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');

/** The kinds of the ErrorKind union, read from its declaration so a new kind is noticed here. */
function declaredKinds(): ErrorKind[] {
  const src = readFileSync(join(ROOT, 'src/lib/errors.ts'), 'utf8');
  const decl = /export type ErrorKind =([^;]*);/.exec(src);
  assert.ok(decl, 'ErrorKind declaration not found in src/lib/errors.ts');
  return [...decl[1]!.matchAll(/'(\w+)'/g)].map((m) => m[1] as ErrorKind);
}

/** Table rows (cells trimmed) of the part of the doc between `start` and the next heading of the same level. */
function rows(start: string): string[][] {
  const from = DOC.indexOf(`${start}\n`);
  assert.ok(from >= 0, `section "${start}" missing from docs/errors.md`);
  const level = start.split(' ')[0]!;
  const rest = DOC.slice(from + start.length);
  const end = rest.search(new RegExp(`\\n${level} `));
  const body = end < 0 ? rest : rest.slice(0, end);
  return body.split('\n').filter((l) => l.startsWith('|')).map((l) => l.split('|').slice(1, -1).map((c) => c.trim()))
    .filter((cells) => !/^-+$/.test(cells[0] ?? '') && !['Kind', 'Message'].includes(cells[0] ?? ''));
}

const unquote = (cell: string) => /^`([^`]*)`/.exec(cell)?.[1] ?? cell;
const statusOf = (kind: ErrorKind) => httpStatusOf(new EngineError(kind, 'x'));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

test('every ErrorKind is in the kinds table with the status api/http-status.ts gives it', () => {
  const kinds = declaredKinds();
  assert.ok(kinds.length >= 10, `read only ${kinds.length} kinds from errors.ts`);
  const table = rows('## Kinds');
  const documented = table.map((r) => unquote(r[0]!));
  assert.deepEqual([...documented].sort(), [...kinds].sort(), 'the kinds table lists exactly the declared kinds');
  for (const r of table) {
    const kind = unquote(r[0]!) as ErrorKind;
    assert.equal(Number(r[1]), statusOf(kind), `status of ${kind}`);
  }
});

test('every documented message still occurs in its source files, with a real kind and its status', () => {
  const kinds = new Set(declaredKinds());
  const table = rows('## Docker-worded messages');
  assert.ok(table.length >= 40, `only ${table.length} messages documented`);
  for (const [msgCell, kindCell, statusCell, sourceCell] of table) {
    const message = unquote(msgCell!);
    const kind = unquote(kindCell!) as ErrorKind;
    assert.ok(kinds.has(kind), `${message}: unknown kind ${kind}`);
    assert.equal(Number(statusCell), statusOf(kind), `${message}: status of ${kind}`);
    const files = (sourceCell ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    assert.ok(files.length > 0, `${message}: no source file named`);
    // The fixed parts between placeholders such as <id>; tiny connectors like ") -" carry no meaning.
    const pieces = message.split(/<[^>]*>/).map((p) => p.trim()).filter((p) => p.length >= 4);
    assert.ok(pieces.length > 0, `${message}: nothing fixed to look for`);
    for (const file of files) {
      assert.ok(existsSync(join(ROOT, file)), `${message}: ${file} does not exist`);
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const piece of pieces) assert.ok(text.includes(piece), `"${piece}" (of "${message}") no longer occurs in ${file}`);
    }
  }
});

test('every "No such <object>: " NotFound message in src/ is documented', () => {
  const documented = rows('## Docker-worded messages').map((r) => unquote(r[0]!));
  const found = new Map<string, string>();
  for (const file of sourceFiles(join(ROOT, 'src'))) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!/notFound\(|'NotFound'/.test(line)) continue;
      for (const m of line.matchAll(/No such [a-z ]+: /g)) found.set(m[0], relative(ROOT, file));
    }
  }
  assert.ok(found.has('No such container: '), 'scan found no "No such container: " message');
  for (const [prefix, file] of found) {
    assert.ok(documented.some((d) => d.startsWith(prefix)), `"${prefix}…" (thrown in ${file}) is missing from docs/errors.md`);
  }
});
