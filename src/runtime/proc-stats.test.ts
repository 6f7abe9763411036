import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNetDev, parseProcStat } from './proc-stats.ts';

test('/proc/stat: first seven cpu fields in ns, and the cpuN count', () => {
  const text = 'cpu  100 0 50 1000 10 0 5 7 0 0\ncpu0 50 0 25 500 5 0 2 3 0 0\ncpu1 50 0 25 500 5 0 3 4 0 0\nintr 1 2\n';
  assert.deepEqual(parseProcStat(text), { systemUsage: (100 + 50 + 1000 + 10 + 5) * 1e7, onlineCpus: 2 });
});

test('/proc/PID/net/dev: every interface but lo', () => {
  const text = [
    'Inter-|   Receive                                                |  Transmit',
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
    '    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0',
    '  eth0:    1428      16    1    2    0     0          0         0      516       6    3    4    0     0       0          0',
  ].join('\n');
  assert.deepEqual(parseNetDev(text), { eth0: { rx_bytes: 1428, rx_packets: 16, rx_errors: 1, rx_dropped: 2, tx_bytes: 516, tx_packets: 6, tx_errors: 3, tx_dropped: 4 } });
});
