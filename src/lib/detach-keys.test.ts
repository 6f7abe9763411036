import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError } from './errors.ts';
import { DetachScanner, parseDetachKeys } from './detach-keys.ts';

const bytes = (spec: string) => [...parseDetachKeys(spec)];

test('parseDetachKeys: the default ctrl-p,ctrl-q', () => {
  assert.deepEqual(bytes('ctrl-p,ctrl-q'), [16, 17]);
});

test('parseDetachKeys: letters as is, ctrl- forms, DEL', () => {
  assert.deepEqual(bytes('a'), [97]);
  assert.deepEqual(bytes('P,q'), [80, 113]);
  assert.deepEqual(bytes('ctrl-a,ctrl-z'), [1, 26]);
  assert.deepEqual(bytes('ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_'), [0, 27, 28, 29, 30, 31]);
  assert.deepEqual(bytes('DEL'), [127]);
  assert.deepEqual(bytes('ctrl-x,x,DEL'), [24, 120, 127]);
  // Lenient where Docker is strict: spaces and upper-case CTRL-.
  assert.deepEqual(bytes(' ctrl-p , ctrl-q '), [16, 17]);
  assert.deepEqual(bytes('CTRL-P'), [16]);
});

test('parseDetachKeys: anything else is InvalidParameter with dockerd\'s wording', () => {
  for (const spec of ['', 'ctrl-', 'ctrl-1', 'ctrl-pq', 'ab', 'ctrl-p,', 'alt-x', 'é', 'del']) {
    assert.throws(() => parseDetachKeys(spec), (err: unknown) => err instanceof EngineError && err.kind === 'InvalidParameter' && err.message === `Invalid detach keys (${spec}) provided`, JSON.stringify(spec));
  }
});

/** Feeds chunks through a scanner; returns what passed and how many detaches fired. */
async function scan(keys: string, chunks: (string | number[])[], end = true): Promise<{ out: string; detached: number }> {
  let detached = 0;
  const s = new DetachScanner(keys === '' ? Buffer.alloc(0) : parseDetachKeys(keys), () => { detached++; });
  const got: Buffer[] = [];
  s.on('data', (c: Buffer) => got.push(c));
  for (const c of chunks) s.write(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c));
  if (end) { s.end(); await new Promise((r) => s.once('end', r)); } else await new Promise((r) => setImmediate(r));
  return { out: Buffer.concat(got).toString('latin1'), detached };
}

const P = '\x10', Q = '\x11';

test('DetachScanner: plain input passes untouched', async () => {
  assert.deepEqual(await scan('ctrl-p,ctrl-q', ['hello ', 'world\n']), { out: 'hello world\n', detached: 0 });
});

test('DetachScanner: the sequence detaches; bytes before it pass, the sequence does not', async () => {
  assert.deepEqual(await scan('ctrl-p,ctrl-q', [`ls${P}${Q}`], false), { out: 'ls', detached: 1 });
});

test('DetachScanner: a sequence split across chunks still detaches', async () => {
  assert.deepEqual(await scan('ctrl-p,ctrl-q', ['ab', P, `${Q}`], false), { out: 'ab', detached: 1 });
  assert.deepEqual(await scan('a,b,c', ['xa', 'b', 'cy'], false), { out: 'x', detached: 1 });
});

test('DetachScanner: a broken partial match is released, in order', async () => {
  assert.deepEqual(await scan('ctrl-p,ctrl-q', [`a${P}`, 'b'], false), { out: `a${P}b`, detached: 0 });
  assert.deepEqual(await scan('ctrl-p,ctrl-q', [`${P}x${Q}`]), { out: `${P}x${Q}`, detached: 0 });
  assert.deepEqual(await scan('a,b,c', ['ab', 'x']), { out: 'abx', detached: 0 });
});

test('DetachScanner: a repeated first key keeps the match going (ctrl-p ctrl-p ctrl-q)', async () => {
  assert.deepEqual(await scan('ctrl-p,ctrl-q', [`${P}${P}${Q}`], false), { out: P, detached: 1 });
  assert.deepEqual(await scan('a,a,b', ['aaab'], false), { out: 'a', detached: 1 });
  assert.deepEqual(await scan('a,b,a,c', ['ababac'], false), { out: 'ab', detached: 1 });
});

test('DetachScanner: a partial match held at the end of input is released', async () => {
  assert.deepEqual(await scan('ctrl-p,ctrl-q', [`x${P}`]), { out: `x${P}`, detached: 0 });
});

test('DetachScanner: no keys means no detaching at all', async () => {
  assert.deepEqual(await scan('', [`${P}${Q}x`]), { out: `${P}${Q}x`, detached: 0 });
});

test('DetachScanner: keeps scanning after a detach', async () => {
  assert.deepEqual(await scan('ctrl-p,ctrl-q', [`a${P}${Q}dropped`, `b${P}${Q}`], false), { out: 'ab', detached: 2 });
});
