import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RuntimeCallError, createFailedMessage, execFailedMessage, processStartFailure, readRuntimeLog, runtimeMessage, startFailureExitCode, withRuntimeCause } from './runtime-errors.ts';

test('runtimeMessage keeps the message of every form a runtime writes', () => {
  assert.equal(runtimeMessage('{"msg":"container does not exist","level":"error","time":"2026-01-01T00:00:00Z"}\n'), 'container does not exist');
  // runc's logfmt, with Go's escapes undone
  assert.equal(runtimeMessage('time="2026-12-07T17:08:01Z" level=error msg="exec failed: exec: \\"bash\\": executable file not found in $PATH"'),
    'exec failed: exec: "bash": executable file not found in $PATH');
  // crun on a terminal: colour codes and a timestamp
  assert.equal(runtimeMessage('\x1b[1;31m2026-12-07T17:06:52.551961Z: executable file `bash` not found in $PATH: No such file or directory\x1b[0m\n'),
    'executable file `bash` not found in $PATH: No such file or directory');
  assert.equal(runtimeMessage('plain one\n\nplain two\n'), 'plain one; plain two');
});

test('processStartFailure words both runtimes\' failures as runc does', () => {
  assert.equal(processStartFailure('executable file `bash` not found in $PATH: No such file or directory', 'bash'), 'exec: "bash": executable file not found in $PATH');
  assert.equal(processStartFailure('executable file `/nope` not found in $PATH: No such file or directory', '/nope'), 'exec: "/nope": stat /nope: no such file or directory');
  assert.equal(processStartFailure('open executable: Permission denied', '/etc/passwd'), 'exec: "/etc/passwd": permission denied');
  assert.equal(processStartFailure('open executable: Operation not permitted', '/etc'), 'exec: "/etc": permission denied');
  assert.equal(processStartFailure('exec failed: unable to start container process: exec: "bash": executable file not found in $PATH', 'bash'), 'exec: "bash": executable file not found in $PATH');
  assert.equal(processStartFailure('mount `/proc` to `proc`: Operation not permitted', 'sh'), null);
});

test('exec and create failures in dockerd\'s words, whichever runtime failed', () => {
  const expectedExec = 'OCI runtime exec failed: exec failed: unable to start container process: exec: "bash": executable file not found in $PATH: unknown';
  assert.equal(execFailedMessage('executable file `bash` not found in $PATH: No such file or directory', 'bash'), expectedExec);
  assert.equal(execFailedMessage('exec failed: unable to start container process: exec: "bash": executable file not found in $PATH', 'bash'), expectedExec);
  assert.equal(execFailedMessage('exec failed: container does not exist', 'sh'), 'OCI runtime exec failed: exec failed: container does not exist: unknown');
  const expectedCreate = 'failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "bash": executable file not found in $PATH: unknown';
  assert.equal(createFailedMessage('crun', 'executable file `bash` not found in $PATH: No such file or directory', 'bash'), expectedCreate);
  assert.equal(createFailedMessage('runc', 'runc create failed: unable to start container process: exec: "bash": executable file not found in $PATH', 'bash'), expectedCreate);
  assert.equal(createFailedMessage('crun', 'mount `/x` to `/y`: Not a directory', 'sh'),
    'failed to create task for container: failed to create shim task: OCI runtime create failed: crun create failed: mount `/x` to `/y`: Not a directory: unknown: Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type');
});

test('startFailureExitCode follows dockerd: 126 cannot invoke, 127 not found, 128 otherwise', () => {
  assert.equal(startFailureExitCode('exec: "bash": executable file not found in $PATH: unknown'), 127);
  assert.equal(startFailureExitCode('exec: "/x": stat /x: no such file or directory: unknown'), 127);
  assert.equal(startFailureExitCode('exec: "/etc/passwd": permission denied: unknown'), 126);
  assert.equal(startFailureExitCode('exec: "/etc": is a directory: unknown: permission denied'), 126);
  assert.equal(startFailureExitCode('mount: Not a directory'), 127);
  assert.equal(startFailureExitCode('cgroup: device or resource busy'), 128);
});

test('readRuntimeLog returns the error entries of a JSON log, nothing for a missing file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-rtlog-'));
  const file = join(dir, 'log');
  writeFileSync(file, '{"msg":"a warning","level":"warning"}\n{"msg":"open executable: Permission denied","level":"error","time":"x"}\n');
  assert.deepEqual(await readRuntimeLog(file), ['open executable: Permission denied']);
  assert.deepEqual(await readRuntimeLog(join(dir, 'missing')), []);
});

test('withRuntimeCause words a failed runtime command as dockerd, keeping its kind', () => {
  const err = new RuntimeCallError('Internal', 'crun', 'pause', 'freezer: Device or resource busy');
  assert.equal(err.message, 'crun pause: freezer: Device or resource busy');
  const worded = withRuntimeCause(err, 'cannot pause container abc') as Error & { kind: string };
  assert.equal(worded.message, 'cannot pause container abc: freezer: Device or resource busy');
  assert.equal(worded.kind, 'Internal');
  const other = new Error('x');
  assert.equal(withRuntimeCause(other, 'ctx'), other);
});
