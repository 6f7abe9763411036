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
  assert.equal(parseSecurityOpts(['no-new-privileges=False']).noNewPrivileges, false);
  assert.equal(parseSecurityOpts(['no-new-privileges=t']).noNewPrivileges, true);
  assert.throws(() => parseSecurityOpts(['no-new-privileges=maybe']), /^EngineError: invalid --security-opt 2: "no-new-privileges=maybe"$/);
});

test('apparmor and label are accepted with a warning; systempaths=unconfined', () => {
  const r = parseSecurityOpts(['apparmor=unconfined', 'label=disable', 'label:type:svirt_t', 'systempaths=unconfined']);
  assert.equal(r.warnings.length, 3);
  assert.equal(r.unconfinedSystemPaths, true);
});

test('anything else is InvalidParameter in dockerd\'s words: 1 without a key, 2 for an unknown key or value', () => {
  for (const o of ['bogus', '']) {
    assert.throws(() => parseSecurityOpts([o]), (e) => kindOf(e) === 'InvalidParameter' && messageOf(e) === `invalid --security-opt 1: ${JSON.stringify(o)}`);
  }
  for (const o of ['foo=bar', 'systempaths=confined', 'Seccomp=unconfined', 'x:y', 'a=b:c']) {
    assert.throws(() => parseSecurityOpts([o]), (e) => kindOf(e) === 'InvalidParameter' && messageOf(e) === `invalid --security-opt 2: ${JSON.stringify(o)}`);
  }
  assert.equal(parseSecurityOpts(['disable']).warnings.length, 1);
});
