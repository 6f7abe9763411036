import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAssignableMac, parseMac } from './mac-address.ts';

test('parseMac: the 6-byte forms Go reads, as ip link takes them', () => {
  assert.equal(parseMac('02:42:AC:11:00:02'), '02:42:ac:11:00:02');
  assert.equal(parseMac('02-42-ac-11-00-02'), '02:42:ac:11:00:02');
  assert.equal(parseMac('0242.ac11.0002'), '02:42:ac:11:00:02');
  for (const bad of ['zz', '', '02:42:ac:11:00', '02:42:ac:11:00:02:03', '02:42-ac:11:00:02', '0242ac110002', '02:42:ac:11:00:0g']) {
    assert.equal(parseMac(bad), undefined, bad);
  }
});

test('isAssignableMac: no multicast (low bit of the first byte), no zero address', () => {
  assert.equal(isAssignableMac('01:00:5e:00:00:01'), false);
  assert.equal(isAssignableMac('00:00:00:00:00:00'), false);
  assert.equal(isAssignableMac('02:42:ac:11:00:02'), true);
});
