import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitError } from '../../context.ts';
import { checkTty, detachKeysOf } from './attach-io.ts';

test('detachKeysOf: the flag, else config.json\'s detachKeys, else the default (undefined)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cfg-'));
  const env = { DOCKER_CONFIG: dir };
  assert.equal(detachKeysOf(undefined, env), undefined, 'no config file');
  writeFileSync(join(dir, 'config.json'), '{"auths":{},"detachKeys":"ctrl-x,x"}');
  assert.equal(detachKeysOf(undefined, env), 'ctrl-x,x');
  assert.equal(detachKeysOf('ctrl-a', env), 'ctrl-a', 'the flag wins');
  writeFileSync(join(dir, 'config.json'), 'not json');
  assert.equal(detachKeysOf(undefined, env), undefined, 'an unreadable config is docker\'s defaults');
});

test('checkTty refuses a terminal with stdin attached when stdin is no terminal, as docker\'s CheckTty', () => {
  const stdin = (isTTY: boolean) => ({ isTTY });
  assert.throws(() => checkTty(stdin(false), true, true), (e: unknown) => e instanceof ExitError && e.status === 1 && e.message === 'the input device is not a TTY');
  checkTty(stdin(true), true, true);
  checkTty(stdin(false), false, true);
  checkTty(stdin(false), true, false);
});
