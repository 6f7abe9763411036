import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kindOf } from '../../lib/errors.ts';
import { ALL_CAPABILITIES, computeCapabilities, DEFAULT_CAPABILITIES, normalizeCapability, parseCapabilityMask, toOciCapabilities } from './capabilities.ts';

// This host: everything but CAP_SYS_RESOURCE.
const HOST = ALL_CAPABILITIES.filter((c) => c !== 'CAP_SYS_RESOURCE');

test('normalizeCapability accepts any case, with or without CAP_', () => {
  assert.equal(normalizeCapability('net_admin'), 'CAP_NET_ADMIN');
  assert.equal(normalizeCapability('CAP_sys_admin'), 'CAP_SYS_ADMIN');
  assert.equal(normalizeCapability('all'), 'ALL');
  assert.throws(() => normalizeCapability('FOO'), (e) => kindOf(e) === 'InvalidParameter' && /invalid capability: FOO/.test((e as Error).message));
});

test('no adds or drops gives the default set', () => {
  assert.deepEqual(computeCapabilities({ hostCapabilities: HOST }).caps, DEFAULT_CAPABILITIES);
});

test('cap-drop removes and cap-add appends', () => {
  const { caps } = computeCapabilities({ hostCapabilities: HOST, capDrop: ['net_raw', 'CAP_MKNOD'], capAdd: ['sys_ptrace'] });
  assert.ok(!caps.includes('CAP_NET_RAW') && !caps.includes('CAP_MKNOD'));
  assert.equal(caps.at(-1), 'CAP_SYS_PTRACE');
  assert.equal(caps.length, DEFAULT_CAPABILITIES.length - 1);
});

test('cap-add ALL gives every host capability minus drops, never one the host lacks', () => {
  const { caps, unavailable } = computeCapabilities({ hostCapabilities: HOST, capAdd: ['ALL'], capDrop: ['sys_admin'] });
  assert.equal(caps.length, HOST.length - 1);
  assert.ok(!caps.includes('CAP_SYS_ADMIN') && !caps.includes('CAP_SYS_RESOURCE'));
  assert.deepEqual(unavailable, []);
});

test('cap-drop ALL keeps only the adds', () => {
  assert.deepEqual(computeCapabilities({ hostCapabilities: HOST, capDrop: ['ALL'], capAdd: ['chown'] }).caps, ['CAP_CHOWN']);
});

test('a capability the daemon lacks is left out and reported', () => {
  const r = computeCapabilities({ hostCapabilities: HOST, capAdd: ['SYS_RESOURCE'] });
  assert.ok(!r.caps.includes('CAP_SYS_RESOURCE'));
  assert.deepEqual(r.unavailable, ['CAP_SYS_RESOURCE']);
});

test('privileged gets the host set whatever the drops', () => {
  assert.deepEqual(computeCapabilities({ hostCapabilities: HOST, privileged: true, capDrop: ['ALL'] }).caps, HOST);
});

test('OCI capabilities: bounding = effective = permitted, no inheritable or ambient', () => {
  const c = toOciCapabilities(['CAP_KILL']);
  assert.deepEqual(c, { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'], inheritable: [], ambient: [] });
});

test('parseCapabilityMask reads CapBnd from /proc/self/status', () => {
  const caps = parseCapabilityMask('Name:\tx\nCapInh:\t0000000000000000\nCapBnd:\t000001fffeffffff\n');
  assert.deepEqual(caps, HOST);
  assert.deepEqual(parseCapabilityMask('a80425fb'), [...DEFAULT_CAPABILITIES].sort((a, b) => ALL_CAPABILITIES.indexOf(a) - ALL_CAPABILITIES.indexOf(b)));
});
