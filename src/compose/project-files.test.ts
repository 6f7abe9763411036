import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnvFileError, findComposeFile, parseEnvFile, readEnvFile } from './project-files.ts';

test('findComposeFile: the nearest directory with a compose file, preferred name first', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'compose-find-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const deep = join(root, 'a', 'b');
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(root, 'docker-compose.yml'), 'services: {}\n');
  assert.equal(findComposeFile(deep), join(root, 'docker-compose.yml'));
  writeFileSync(join(root, 'a', 'compose.yaml'), 'services: {}\n');
  writeFileSync(join(root, 'a', 'docker-compose.yaml'), 'services: {}\n');
  const warnings: string[] = [];
  assert.equal(findComposeFile(deep, (w) => warnings.push(w)), join(root, 'a', 'compose.yaml'));
  assert.match(warnings[0]!, /Found multiple config files/);
  assert.equal(findComposeFile('/proc/self'), undefined);
});

test('parseEnvFile: dotenv lines, export, comments, quotes and escapes', () => {
  const text = [
    '# a comment', '', 'export A=1', 'B = two words # comment', "C='single $A \\n'", 'D="double $A\\n\\"q\\""',
    'E=${A}-${NOPE:-d}', 'F=a#b', 'PASSED', 'MISSING',
  ].join('\n');
  assert.deepEqual(parseEnvFile(text, '.env', (n) => (n === 'PASSED' ? 'from shell' : undefined)), {
    A: '1', B: 'two words', C: 'single $A \\n', D: 'double 1\n"q"', E: '1-d', F: 'a#b', PASSED: 'from shell',
  });
});

test('parseEnvFile: errors name the file and the line', () => {
  assert.throws(() => parseEnvFile('OK=1\nBAD KEY=2', 'x.env'), (e: unknown) => e instanceof EnvFileError && /x\.env:2: unexpected character/.test(e.message));
  assert.throws(() => parseEnvFile('A="open', 'y.env'), /y\.env:1: unterminated quoted value/);
  assert.throws(() => parseEnvFile('A=${NEED:?set it}', 'z.env'), /z\.env:1: required variable NEED is missing a value: set it/);
});

test('readEnvFile: an absent file gives no variables', () => {
  assert.deepEqual(readEnvFile('/nonexistent/.env'), {});
});
