import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kindOf, messageOf } from '../../lib/errors.ts';
import { parseSecurityOpts } from './security-opts.ts';

test('seccomp=unconfined, builtin and a JSON profile', () => {
  assert.deepEqual(parseSecurityOpts(['seccomp=unconfined']).seccomp, { kind: 'unconfined' });
  assert.deepEqual(parseSecurityOpts(['seccomp:unconfined']).seccomp, { kind: 'unconfined' });
  assert.deepEqual(parseSecurityOpts(['seccomp=builtin']).seccomp, { kind: 'default' });
  const json = JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] });
  assert.deepEqual(parseSecurityOpts([`seccomp=${json}`]).seccomp, { kind: 'custom', profile: JSON.parse(json) });
  // Pretty-printed profile files contain newlines and '=' / ':' characters.
  const pretty = JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', comment: 'a=b:c' }, null, 2);
  assert.equal(parseSecurityOpts([`seccomp=${pretty}`]).seccomp?.kind, 'custom');
});

test('a seccomp value that is not JSON is InvalidParameter', () => {
  assert.throws(() => parseSecurityOpts(['seccomp={nope']), (e) => kindOf(e) === 'InvalidParameter' && /seccomp profile/.test(messageOf(e)));
});

test('no-new-privileges in all its spellings', () => {
  assert.equal(parseSecurityOpts(['no-new-privileges']).noNewPrivileges, true);
  assert.equal(parseSecurityOpts(['no-new-privileges:true']).noNewPrivileges, true);
  assert.equal(parseSecurityOpts(['no-new-privileges=true']).noNewPrivileges, true);
  assert.equal(parseSecurityOpts(['no-new-privileges:false']).noNewPrivileges, false);
  assert.equal(parseSecurityOpts([]).noNewPrivileges, undefined);
  assert.throws(() => parseSecurityOpts(['no-new-privileges=maybe']), /invalid --security-opt: no-new-privileges=maybe/);
});

test('apparmor and label are accepted with a warning; systempaths=unconfined', () => {
  const r = parseSecurityOpts(['apparmor=unconfined', 'label=disable', 'label:type:svirt_t', 'systempaths=unconfined']);
  assert.equal(r.warnings.length, 3);
  assert.equal(r.unconfinedSystemPaths, true);
});

test('anything else is InvalidParameter', () => {
  for (const o of ['bogus', 'foo=bar', 'systempaths=confined', '']) {
    assert.throws(() => parseSecurityOpts([o]), (e) => kindOf(e) === 'InvalidParameter' && messageOf(e) === `invalid --security-opt: ${o}`);
  }
});
