import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kindOf, messageOf } from '../../lib/errors.ts';
import { resolveUser } from './user.ts';

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh', 'daemon:x:1:1::/:/bin/false', '# comment', 'broken line',
  'www-data:x:33:33:www:/var/www:/bin/false', 'app:x:1000:1001::/home/app:/bin/sh',
].join('\n');
const GROUP = ['root:x:0:', 'wheel:x:10:root,app', 'www-data:x:33:', 'appgrp:x:1001:', 'docker:x:999:app', 'video:x:44:'].join('\n');

test('empty user is root with root\'s groups', () => {
  assert.deepEqual(resolveUser('', PASSWD, GROUP), { uid: 0, gid: 0, additionalGids: [0, 10] });
  assert.deepEqual(resolveUser('', '', ''), { uid: 0, gid: 0, additionalGids: [0] });
});

test('a name takes its uid, gid and member groups', () => {
  assert.deepEqual(resolveUser('app', PASSWD, GROUP), { uid: 1000, gid: 1001, additionalGids: [1001, 10, 999] });
  assert.deepEqual(resolveUser('www-data', PASSWD, GROUP), { uid: 33, gid: 33, additionalGids: [33] });
});

test('a numeric uid matches passwd, or is used as is with gid 0', () => {
  assert.deepEqual(resolveUser('1000', PASSWD, GROUP), { uid: 1000, gid: 1001, additionalGids: [1001, 10, 999] });
  assert.deepEqual(resolveUser('4242', PASSWD, GROUP), { uid: 4242, gid: 0, additionalGids: [0] });
});

test('an explicit group replaces the gid and the member groups', () => {
  assert.deepEqual(resolveUser('app:video', PASSWD, GROUP), { uid: 1000, gid: 44, additionalGids: [44] });
  assert.deepEqual(resolveUser('1000:5000', PASSWD, GROUP), { uid: 1000, gid: 5000, additionalGids: [5000] });
  assert.deepEqual(resolveUser('7:7', '', ''), { uid: 7, gid: 7, additionalGids: [7] });
});

test('group-add appends names and numbers', () => {
  assert.deepEqual(resolveUser('www-data', PASSWD, GROUP, ['video', '2000']), { uid: 33, gid: 33, additionalGids: [33, 44, 2000] });
  assert.throws(() => resolveUser('', PASSWD, GROUP, ['nogroup']), /unable to find group nogroup/);
});

test('unknown names fail with docker\'s wording', () => {
  assert.throws(() => resolveUser('nobody', PASSWD, GROUP),
    (e) => kindOf(e) === 'InvalidParameter' && messageOf(e) === 'unable to find user nobody: no matching entries in passwd file');
  assert.throws(() => resolveUser('app:nope', PASSWD, GROUP),
    (e) => kindOf(e) === 'InvalidParameter' && messageOf(e) === 'unable to find group nope: no matching entries in group file');
  assert.throws(() => resolveUser('root', '', ''), /unable to find user root/);
});
