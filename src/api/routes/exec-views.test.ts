import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ExecDetails } from '../../engine/index.ts';
import { toApiExecInspect } from './exec-views.ts';

const exec: ExecDetails = {
  id: 'e'.repeat(64), containerId: 'c'.repeat(64), cmd: ['sh', '-c', 'exit 3'], user: 'nobody', privileged: false, tty: true,
  detachKeys: '', attachStdin: true, attachStdout: true, attachStderr: false, running: false, exitCode: 3, pid: 42,
};

test('exec inspect: the bytes dockerd sends, entrypoint and arguments split from the command', () => {
  assert.equal(JSON.stringify(toApiExecInspect(exec)), JSON.stringify({
    CanRemove: false, DetachKeys: '', ID: 'e'.repeat(64), Running: false, ExitCode: 3,
    ProcessConfig: { privileged: false, user: 'nobody', tty: true, entrypoint: 'sh', arguments: ['-c', 'exit 3'] },
    OpenStdin: true, OpenStderr: false, OpenStdout: true, ContainerID: 'c'.repeat(64), Pid: 42,
  }));
});

test('exec inspect: a running exec has a null exit code; an empty command gives an empty entrypoint', () => {
  const out = toApiExecInspect({ ...exec, cmd: [], running: true, exitCode: null });
  assert.equal(out.ExitCode, null);
  assert.equal(out.Running, true);
  assert.deepEqual(out.ProcessConfig, { privileged: false, user: 'nobody', tty: true, entrypoint: '', arguments: [] });
});
