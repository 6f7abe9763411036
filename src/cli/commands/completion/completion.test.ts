import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { berthCompletionModel } from './completion.ts';
import { bashCompletion } from './bash.ts';
import { fishCompletion } from './fish.ts';
import { positionalKinds } from './model.ts';
import { zshCompletion } from './zsh.ts';

/**
 * Loads the generated bash script into a bash subprocess, with a `berth` function standing in for
 * the daemon's lists, and returns COMPREPLY for each command line (the cursor at its end).
 */
function complete(script: string, lines: string[]): string[][] {
  const dir = mkdtempSync(join(tmpdir(), 'berth-compl-'));
  try {
    const file = join(dir, 'berth.bash');
    writeFileSync(file, script);
    const driver = `
source ${JSON.stringify(file)}
berth() {
  case "$*" in
    *"ps -a --format {{.Names}}") printf '%s\\n' web db ;;
    *"images --format {{.Repository}}:{{.Tag}}") printf '%s\\n' busybox:latest busybox:1.36 '<none>:<none>' ;;
    *"network ls --format {{.Name}}") printf '%s\\n' bridge appnet ;;
    *"volume ls --format {{.Name}}") printf '%s\\n' data ;;
  esac
}
while IFS= read -r line; do
  COMP_LINE=$line; COMP_POINT=\${#line}
  read -r -a COMP_WORDS <<< "$line"; COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 ))
  _berth
  echo "\${COMPREPLY[*]}"
done`;
    const r = spawnSync('bash', ['--norc', '--noprofile', '-c', driver], { input: lines.join('\n') + '\n', encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    return r.stdout.split('\n').slice(0, lines.length).map((l) => (l === '' ? [] : l.split(' ')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('berth completion bash: commands, subcommands, flags and names from the daemon', async () => {
  const script = bashCompletion(await berthCompletionModel());
  const [ru, top, net, deFlags, rmNames, rmAfterFlag, runImage, imageColon, networkValue, pull, shells, afterImage, globalFlags, hostThenCmd] = complete(script, [
    'berth ru', 'berth ', 'berth network c', 'berth run --de', 'berth rm ', 'berth rm -f w', 'berth run -d busy', 'berth tag busybox:l',
    'berth run --network ', 'berth run --pull ', 'berth completion ', 'berth run busybox -', 'berth --h', 'berth -H unix:///x.sock container ki',
  ]);
  assert.deepEqual(ru, ['run']);
  for (const c of ['stats', 'update', 'events', 'container', 'network', 'completion']) assert.ok(top!.includes(c), c);
  assert.deepEqual(net, ['connect', 'create']);
  assert.deepEqual(deFlags, ['--detach', '--detach-keys', '--device', '--device-cgroup-rule', '--device-read-bps', '--device-read-iops', '--device-write-bps', '--device-write-iops']);
  assert.deepEqual(rmNames, ['web', 'db']);
  assert.deepEqual(rmAfterFlag, ['web']);
  assert.deepEqual(runImage, ['busybox:latest', 'busybox:1.36']);
  // bash splits the word at ':', so candidates drop what is before it.
  assert.deepEqual(imageColon, ['latest']);
  assert.deepEqual(networkValue, ['bridge', 'appnet']);
  assert.deepEqual(pull, ['always', 'missing', 'never']);
  assert.deepEqual(shells, ['bash', 'zsh', 'fish']);
  // After run's image, words belong to the container's command: no flags offered.
  assert.deepEqual(afterImage, []);
  assert.deepEqual(globalFlags, ['--host']);
  assert.deepEqual(hostThenCmd, ['kill']);
});

test('positional arguments come from the usage line', () => {
  const spec = (name: string, usage: string) => ({ name, usage, description: '', flags: [] });
  assert.deepEqual(positionalKinds(spec('rm', '[OPTIONS] CONTAINER [CONTAINER...]')), { args: ['container'], repeatLast: true });
  assert.deepEqual(positionalKinds(spec('run', '[OPTIONS] IMAGE [COMMAND] [ARG...]')), { args: ['image', 'none'], repeatLast: true });
  assert.deepEqual(positionalKinds(spec('network connect', '[OPTIONS] NETWORK CONTAINER')), { args: ['network', 'container'], repeatLast: false });
  assert.deepEqual(positionalKinds(spec('network create', '[OPTIONS] NETWORK')), { args: ['none'], repeatLast: false });
  assert.deepEqual(positionalKinds(spec('inspect', '[OPTIONS] NAME|ID [NAME|ID...]')), { args: ['object'], repeatLast: true });
  assert.deepEqual(positionalKinds(spec('build', '[OPTIONS] PATH | URL | -')), { args: ['file'], repeatLast: false });
  assert.deepEqual(positionalKinds(spec('pull', '[OPTIONS] NAME[:TAG|@DIGEST]')), { args: ['image'], repeatLast: false });
});

/** A shell to drive a generated script with, or a skip when it is not installed. */
function shellOrSkip(t: { skip: (m: string) => void }, shell: string): boolean {
  if (spawnSync(shell, ['--version']).error) { t.skip(`${shell} is not installed`); return false; }
  return true;
}

test('berth completion fish: complete -C completes commands, flags and names', async (t) => {
  if (!shellOrSkip(t, 'fish')) return;
  const dir = mkdtempSync(join(tmpdir(), 'berth-compl-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'berth.fish'), fishCompletion(await berthCompletionModel()));
  const driver = `source ${join(dir, 'berth.fish')}
function berth; if string match -q -- '*{{.Names}}' "$argv"; printf '%s\\n' web db; end; end
for l in 'berth ru' 'berth run --de' 'berth rm ' 'berth run --pull '
  echo (complete -C "$l" | string replace -r '\\t.*' '')
end`;
  const r = spawnSync('fish', ['--no-config', '-c', driver], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), [
    'run', '--detach --detach-keys --device --device-cgroup-rule --device-read-bps --device-read-iops --device-write-bps --device-write-iops',
    'db web', 'always missing never',
  ]);
});

test('berth completion zsh: _berth offers commands, flags and names (compadd/_describe stubbed)', async (t) => {
  if (!shellOrSkip(t, 'zsh')) return;
  const dir = mkdtempSync(join(tmpdir(), 'berth-compl-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, '_berth'), zshCompletion(await berthCompletionModel()));
  const driver = `compdef() { : }
source ${join(dir, '_berth')}
compadd() { if [[ $1 == -a ]]; then print -l -- \${(P)2}; else shift; print -l -- "$@"; fi }
_describe() { print -l -- \${\${(P)4}%%:*} }
berth() { [[ $* == *'{{.Names}}' ]] && print -l web db }
for line in 'berth ' 'berth network ' 'berth rm ' 'berth run --pull '; do
  words=(\${(z)line} ''); CURRENT=\${#words}
  print -r -- "$(_berth | tr '\\n' ' ')"
done`;
  const r = spawnSync('zsh', ['-f', '-c', driver], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [top, net, rm, pull] = r.stdout.split('\n').map((l) => l.trim().split(' '));
  for (const c of ['run', 'stats', 'container', 'completion']) assert.ok(top!.includes(c), c);
  for (const c of ['connect', 'create', 'ls']) assert.ok(net!.includes(c), c);
  assert.deepEqual(rm, ['web', 'db']);
  assert.deepEqual(pull, ['always', 'missing', 'never']);
});

for (const [shell, generate, check] of [['zsh', zshCompletion, ['-n']], ['fish', fishCompletion, ['-n']]] as const) {
  test(`berth completion ${shell}: the script parses and lists commands and flags`, async (t) => {
    const script = generate(await berthCompletionModel());
    assert.match(script, /stats/);
    assert.match(script, /--detach-keys/);
    if (spawnSync(shell, ['--version']).error) { t.skip(`${shell} is not installed`); return; }
    const dir = mkdtempSync(join(tmpdir(), 'berth-compl-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'script'), script);
    const r = spawnSync(shell, [...check, join(dir, 'script')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });
}
