import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError } from '../../lib/errors.ts';
import { filterPsOutput } from './top.ts';

const PS_EF = `UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 10:00 ?        00:00:01 /sbin/init splash
root        4242    4200  0 10:01 ?        00:00:00 sleep 300
nobody      4243    4242  0 10:01 pts/0    00:00:00 sh -c echo "a  b" ; sleep 1
root        9999       1  0 10:02 ?        00:00:00 other
`;

test('filterPsOutput: titles from the header, rows of the container\'s PIDs only', () => {
  const r = filterPsOutput(PS_EF, new Set([4242, 4243]));
  assert.deepEqual(r.titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
  assert.deepEqual(r.processes, [
    ['root', '4242', '4200', '0', '10:01', '?', '00:00:00', 'sleep 300'],
    // The command keeps its arguments as one column (runs of spaces fold to one, as in dockerd).
    ['nobody', '4243', '4242', '0', '10:01', 'pts/0', '00:00:00', 'sh -c echo "a b" ; sleep 1'],
  ]);
});

test('filterPsOutput: the PID column is found wherever it is', () => {
  const out = '  %CPU COMMAND          PID\n   0.0 sleep              42\n   0.1 top                43\n';
  // PID is last here, so it is the "rest" column too.
  assert.deepEqual(filterPsOutput(out, new Set([43])), { titles: ['%CPU', 'COMMAND', 'PID'], processes: [['0.1', 'top', '43']] });
});

test('filterPsOutput: no matching process gives an empty list, blank lines ignored', () => {
  assert.deepEqual(filterPsOutput(`${PS_EF}\n\n`, new Set([1234])).processes, []);
  assert.deepEqual(filterPsOutput('PID CMD\n', new Set([1])), { titles: ['PID', 'CMD'], processes: [] });
});

test('filterPsOutput: output without a PID column is InvalidParameter with dockerd\'s wording', () => {
  for (const out of ['USER COMMAND\nroot sh\n', '', '\n']) {
    assert.throws(() => filterPsOutput(out, new Set([1])),
      (err: unknown) => err instanceof EngineError && err.kind === 'InvalidParameter' && err.message === "Couldn't find PID field in ps output", JSON.stringify(out));
  }
});
