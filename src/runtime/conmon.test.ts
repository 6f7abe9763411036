import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findConmons, type ProcReader } from './conmon.ts';

const ID_A = 'a'.repeat(64);
const ID_B = 'b'.repeat(64);

test('findConmons: the conmons writing to our exit directory, with their container IDs', () => {
  const procs: Record<number, string[] | undefined> = {
    1: ['/sbin/init'],
    10: ['/usr/bin/conmon', '--api-version', '1', '-c', ID_A, '-u', ID_A, '--exit-dir', '/run/b1/exits', '--syslog'],
    11: ['/usr/bin/conmon', '-c', ID_B, '--exit-dir', '/run/other/exits'],
    12: ['conmon', '-c', ID_B, '--exit-dir', '/run/b1/exits'],
    13: ['/usr/bin/crun', 'exec', '-c', ID_A, '--exit-dir', '/run/b1/exits'],
    14: undefined, // gone between the listing and the read
  };
  const reader: ProcReader = { pids: () => Object.keys(procs).map(Number), cmdline: (pid) => procs[pid] };
  assert.deepEqual(findConmons('/run/b1/exits', reader), [{ pid: 10, id: ID_A }, { pid: 12, id: ID_B }]);
});
