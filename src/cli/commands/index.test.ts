import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aliasPaths, helpText } from '../args/parse.ts';
import { CATALOG, GROUPS, findCommand, loadAll } from './index.ts';
import { MAIN_SECTIONS, groupCommands, mainHelp } from '../main-help.ts';

test('each catalogue entry names exactly its spec\'s name and aliases', async () => {
  const loaded = await loadAll();
  CATALOG.forEach((c, i) => {
    const spec = loaded[i]!.spec;
    assert.deepEqual(new Set(c.paths), new Set([spec.name, ...(spec.aliases ?? [])]), `catalogue paths of ${spec.name}`);
    assert.equal(c.paths[0], spec.name, `the spec's name comes first for ${spec.name}`);
  });
  const all = CATALOG.flatMap((c) => c.paths);
  assert.equal(new Set(all).size, all.length, 'no path names two commands');
});

test('no usage line repeats the command name (berth run --help said "berth run run")', async () => {
  for (const { spec } of await loadAll()) {
    const words = spec.name.split(' ');
    const first = spec.usage.split(/\s/)[0] ?? '';
    assert.ok(!words.includes(first), `usage of "${spec.name}" starts with "${first}": ${spec.usage}`);
    for (const path of aliasPaths(spec)) {
      const head = helpText(spec, { path }).split('\n')[0]!;
      assert.ok(!head.includes(`${path} ${path.split(' ').at(-1)} `), `${path}: ${head}`);
      assert.ok(head.startsWith(`Usage:  berth ${path}`), `${path}: ${head}`);
    }
  }
});

test('findCommand: the longest path wins and the rest are the arguments', () => {
  assert.deepEqual(findCommand(['container', 'ls', '-a'])?.path, 'container ls');
  assert.deepEqual(findCommand(['container', 'ls', '-a'])?.rest, ['-a']);
  assert.deepEqual(findCommand(['run', 'container'])?.path, 'run');
  assert.equal(findCommand(['container']), undefined);
  assert.equal(findCommand(['nope']), undefined);
});

test('berth --help lists every top-level command once, with its spec\'s description', async () => {
  const loaded = await loadAll();
  const top = new Map<string, string>();
  CATALOG.forEach((c, i) => { for (const p of c.paths) if (!p.includes(' ')) top.set(p, loaded[i]!.spec.description.split('\n')[0]!.replace(/\.$/, '')); });
  const listed = MAIN_SECTIONS.flatMap(([, rows]) => rows.map(([n]) => n));
  assert.equal(new Set(listed).size, listed.length, 'listed once');
  const groups = Object.keys(GROUPS);
  assert.deepEqual([...listed].sort(), [...top.keys(), ...groups].sort());
  for (const [, rows] of MAIN_SECTIONS) {
    for (const [name, description] of rows) if (top.has(name)) assert.equal(description, top.get(name), name);
  }
  const help = mainHelp();
  for (const n of ['stats', 'update', 'events', 'completion']) assert.match(help, new RegExp(`^  ${n} +\\S`, 'm'));
  assert.match(help, /^Usage: {2}berth \[OPTIONS\] COMMAND\n/);
});

test('group help lists each subcommand under its canonical name', async () => {
  const subs = await groupCommands('container');
  const names = subs.map(([n]) => n);
  for (const n of ['attach', 'ls', 'rm', 'run', 'prune', 'inspect', 'stats', 'update']) assert.ok(names.includes(n), n);
  assert.ok(!names.includes('list') && !names.includes('remove'), 'aliases are not listed');
  assert.deepEqual(names, [...names].sort());
  for (const g of Object.keys(GROUPS)) assert.ok((await groupCommands(g)).length > 0, g);
});
