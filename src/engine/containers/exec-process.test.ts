import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execEnv, execProcess } from './exec-process.ts';
import { EngineError } from '../../lib/errors.ts';
import type { OciProcess } from '../../runtime/spec/types.ts';

test('execEnv: a terminal gets TERM=xterm, as dockerd gives it, unless TERM is set by the user', () => {
  const base = ['PATH=/bin', 'HOSTNAME=h'];
  assert.deepEqual(execEnv(base, { configEnv: [], terminal: true }), ['PATH=/bin', 'HOSTNAME=h', 'TERM=xterm']);
  assert.deepEqual(execEnv(base, { configEnv: [], terminal: false }), base);
  assert.deepEqual(execEnv(base, { configEnv: [], terminal: true, execEnv: ['TERM=vt100'] }), ['PATH=/bin', 'HOSTNAME=h', 'TERM=vt100']);
  // The container's tty put TERM=xterm in its env: an exec without a terminal does not inherit it.
  assert.deepEqual(execEnv([...base, 'TERM=xterm'], { configEnv: [], terminal: false }), base);
  // ...but a TERM from the container's own config is the container's, terminal or not.
  assert.deepEqual(execEnv([...base, 'TERM=screen'], { configEnv: ['TERM=screen'], terminal: false }), [...base, 'TERM=screen']);
  assert.deepEqual(execEnv([...base, 'TERM=screen'], { configEnv: ['TERM=screen'], terminal: true }), [...base, 'TERM=screen']);
});

test('execProcess: the terminal and its size come from the exec\'s create request', async () => {
  const container = { process: { terminal: false, args: ['sleep'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 } } as OciProcess, root: { path: '/nonexistent' } };
  const tty = await execProcess(container, { Cmd: ['sh'], Tty: true, ConsoleSize: [30, 100] }, { configEnv: [] });
  assert.equal(tty.terminal, true);
  assert.deepEqual(tty.consoleSize, { height: 30, width: 100 });
  assert.deepEqual(tty.args, ['sh']);
  assert.ok(tty.env.includes('TERM=xterm'));
  const plain = await execProcess(container, { Cmd: ['sh'], ConsoleSize: [30, 100] }, { configEnv: [], consoleSize: [40, 120] });
  assert.equal(plain.terminal, false);
  assert.equal(plain.consoleSize, undefined);
  const sized = await execProcess(container, { Cmd: ['sh'], Tty: true, ConsoleSize: [30, 100] }, { configEnv: [], consoleSize: [40, 120] });
  assert.deepEqual(sized.consoleSize, { height: 40, width: 120 });
});

test('execProcess: a relative working directory is refused in runc\'s words, an absolute one is used', async () => {
  const container = { process: { terminal: false, args: ['sleep'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 } } as OciProcess, root: { path: '/nonexistent' } };
  assert.equal((await execProcess(container, { Cmd: ['pwd'], WorkingDir: '/tmp' }, { configEnv: [] })).cwd, '/tmp');
  await assert.rejects(execProcess(container, { Cmd: ['pwd'], WorkingDir: 'rel' }, { configEnv: [] }),
    (e: unknown) => e instanceof EngineError && e.kind === 'InvalidParameter' && e.message === 'OCI runtime exec failed: exec failed: Cwd must be an absolute path: unknown');
});
