import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ExecFn } from '../lib/exec.ts';
import { kindOf } from '../lib/errors.ts';
import { endpointCommands, parseLinkNames } from './link.ts';
import { createNetns, ipError, netnsMounts } from './netns.ts';

test('endpointCommands: veth made inside, host end pushed out, address, route', () => {
  assert.deepEqual(
    endpointCommands({ hostVeth: 'bt1v0', address: '172.17.0.2/16', gateway: '172.17.0.1', mac: '02:42:ac:11:00:02', hostNetns: '/proc/1/ns/net' }),
    [
      'link add eth0 address 02:42:ac:11:00:02 type veth peer name bt1v0 netns /proc/1/ns/net',
      'addr add 172.17.0.2/16 dev eth0',
      'link set eth0 up',
      'route add default via 172.17.0.1 dev eth0',
    ],
  );
  assert.equal(endpointCommands({ hostVeth: 'x', ifName: 'eth1', address: '10.0.0.2/24' }).length, 3);
  // Dual stack: the IPv6 address without DAD, and an IPv6 default route after the IPv4 one.
  assert.deepEqual(
    endpointCommands({ hostVeth: 'x', address: '10.0.0.2/24', gateway: '10.0.0.1', address6: 'fd00:1::2/64', gateway6: 'fd00:1::1', hostNetns: '/proc/1/ns/net' }).slice(1),
    ['addr add 10.0.0.2/24 dev eth0', 'addr add fd00:1::2/64 dev eth0 nodad', 'link set eth0 up', 'route add default via 10.0.0.1 dev eth0', 'route add default via fd00:1::1 dev eth0'],
  );
  assert.throws(() => endpointCommands({ hostVeth: 'much-too-long-name', address: '1.2.3.4/8' }), (e) => kindOf(e) === 'InvalidParameter');
  assert.throws(() => endpointCommands({ hostVeth: 'ok', address: '1.2.3.4/8', mac: 'zz' }), (e) => kindOf(e) === 'InvalidParameter');
});

test('ipError maps ip stderr to kinds', () => {
  assert.equal(ipError('x', 'RTNETLINK answers: File exists\nCommand failed -:1').kind, 'Conflict');
  assert.equal(ipError('x', 'Cannot find device "bt0"').kind, 'NotFound');
  assert.equal(ipError('x', 'Error: something').kind, 'Internal');
  assert.equal(ipError('add', 'a\nb\n').message, 'add: a; b');
});

test('parseLinkNames and netnsMounts read ip -o link and mountinfo', () => {
  assert.deepEqual(parseLinkNames('1: lo: <LOOPBACK> mtu 65536\n912: btvx0@if2: <BROADCAST> mtu 1500\n'), ['lo', 'btvx0']);
  const mi = '43 27 0:4 net:[4026532177] /tmp/a\\040b/ns1 rw - nsfs nsfs rw\n44 27 0:4 mnt:[1] /tmp/m rw - nsfs nsfs rw\n22 1 8:1 / / rw - ext4 /dev/sda rw\n';
  assert.deepEqual(netnsMounts(mi), ['/tmp/a b/ns1']);
});

test('createNetns refuses an existing file and leaves it alone', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-netns-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const calls: string[] = [];
  const fake: ExecFn = async (file) => {
    calls.push(file);
    return { exitCode: 1, stdout: '', stderr: 'umount: not mounted' };
  };
  await createNetns({ exec: fake }, join(dir, 'ns'), []).catch((e) => assert.equal(kindOf(e), 'Internal'));
  // The failed unshare cleaned up its file, so a second try gets the same error, not Conflict.
  assert.deepEqual(await readdir(dir), []);
  await (await import('node:fs/promises')).writeFile(join(dir, 'ns'), '');
  await assert.rejects(createNetns({ exec: fake }, join(dir, 'ns')), (e) => kindOf(e) === 'Conflict');
  assert.deepEqual(await readdir(dir), ['ns']);
  assert.deepEqual(calls, ['unshare', 'umount']);
});
