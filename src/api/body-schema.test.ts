import { test } from 'node:test';
import assert from 'node:assert/strict';
import { httpStatusOf } from './http-status.ts';
import { messageOf } from '../lib/errors.ts';
import { bodyValidator } from './body-schema.ts';
import { containerCreateSchema, containerUpdateSchema } from './schemas/container.ts';
import { networkCreateSchema } from './schemas/network.ts';
import { execCreateSchema } from './schemas/exec.ts';
import { buildArgsSchema } from './schemas/build.ts';

const create = bodyValidator<Record<string, unknown>>(containerCreateSchema());

function refusal(fn: () => unknown): string {
  try { fn(); } catch (err) {
    assert.equal(httpStatusOf(err), 400, messageOf(err));
    return messageOf(err);
  }
  assert.fail('expected a refusal');
}

test('a wrong type is a 400 naming the field and the Go type', () => {
  assert.equal(refusal(() => create.check({ Image: 'busybox', Labels: { a: 1 } })), 'json: cannot unmarshal number into Labels.a of type string');
  assert.equal(refusal(() => create.check({ Image: 'busybox', HostConfig: { Memory: 'abc' } })), 'json: cannot unmarshal string into HostConfig.Memory of type int64');
  assert.equal(refusal(() => create.check({ Image: 5 })), 'json: cannot unmarshal number into Image of type string');
  assert.equal(refusal(() => create.check({ Env: 'A=1' })), 'json: cannot unmarshal string into Env of type []string');
  assert.equal(refusal(() => create.check({ HostConfig: { Binds: ['/a:/b', 3] } })), 'json: cannot unmarshal number into HostConfig.Binds[1] of type string');
  assert.equal(refusal(() => create.check({ Labels: { 'com.example.x': true } })), 'json: cannot unmarshal boolean into Labels["com.example.x"] of type string');
  assert.equal(refusal(() => create.check({ HostConfig: { RestartPolicy: 'always' } })), 'json: cannot unmarshal string into HostConfig.RestartPolicy of type object');
  assert.equal(refusal(() => create.check({ HostConfig: { PortBindings: { '80/tcp': 'x' } } })), 'json: cannot unmarshal string into HostConfig.PortBindings["80/tcp"] of type []object');
  assert.equal(refusal(() => create.check([1])), 'json: cannot unmarshal array into body of type object');
  assert.equal(refusal(() => bodyValidator(networkCreateSchema()).check({ Name: 5 })), 'json: cannot unmarshal number into Name of type string');
  assert.equal(refusal(() => bodyValidator(execCreateSchema()).check({ Cmd: 'ls' })), 'json: cannot unmarshal string into Cmd of type []string');
});

test('integers: fractions and values outside the Go type are refused with the number', () => {
  const update = bodyValidator(containerUpdateSchema());
  assert.equal(refusal(() => update.check({ Memory: 1.5 })), 'json: cannot unmarshal number 1.5 into Memory of type int64');
  assert.equal(refusal(() => update.check({ BlkioWeight: -1 })), 'json: cannot unmarshal number -1 into BlkioWeight of type uint16');
  assert.equal(refusal(() => update.check({ BlkioWeight: 70000 })), 'json: cannot unmarshal number 70000 into BlkioWeight of type uint16');
  // MemorySwappiness -1 ("unset", older docker CLIs send it) is a valid int64; its range is the engine's business.
  assert.deepEqual(update.check({ MemorySwappiness: -1 }), { MemorySwappiness: -1 });
});

test('null is accepted wherever Go accepts it: unset fields, zero map values and array elements', () => {
  const body = JSON.parse(`{"Image":"busybox","Cmd":null,"Env":["A=1",null],"Labels":{"a":null},"StopTimeout":null,
    "Healthcheck":{"Test":["CMD","true"],"Interval":null,"Retries":null},"ExposedPorts":{"80/tcp":null},
    "HostConfig":{"Memory":null,"Binds":null,"PortBindings":{"80/tcp":null},"RestartPolicy":null,"Init":null},
    "NetworkingConfig":{"EndpointsConfig":{"net1":null}}}`) as unknown;
  assert.deepEqual(create.check(body), {
    Image: 'busybox', Env: ['A=1', ''], Labels: { a: '' }, Healthcheck: { Test: ['CMD', 'true'] }, ExposedPorts: { '80/tcp': {} },
    HostConfig: { PortBindings: { '80/tcp': null } }, NetworkingConfig: { EndpointsConfig: { net1: {} } },
  });
  assert.equal(create.check(null), null);
  // buildargs is map[string]*string: a null value stays null (take it from the environment).
  assert.deepEqual(bodyValidator(buildArgsSchema()).check({ A: null, B: 'x' }), { A: null, B: 'x' });
});

test('unknown fields are ignored and dropped, keys match case-insensitively, a strslice may be one string', () => {
  assert.deepEqual(create.check({ image: 'busybox', hostconfig: { memory: 7_000_000 }, Cmd: 'echo hi', Entrypoint: '/bin/sh', Whatever: [1, 2] }),
    { Image: 'busybox', HostConfig: { Memory: 7_000_000 }, Cmd: ['echo hi'], Entrypoint: ['/bin/sh'] });
  // Dropped at every depth of a struct; the keys of a map are data and stay, and so does what an interface holds.
  assert.deepEqual(create.check({
    Image: 'busybox', Labels: { 'x.y': 'z' }, ExposedPorts: { '80/tcp': { Junk: 1 } },
    HostConfig: { Bogus: true, LogConfig: { Type: 'json-file', Extra: 'x', Config: { 'max-size': '1m' } }, Mounts: [{ Type: 'tmpfs', Target: '/t', Nope: 1, ClusterOptions: { Any: 1 } }] },
    NetworkingConfig: { EndpointsConfig: { net1: { Aliases: ['a'], Junk: 2 } }, Junk: 3 },
  }), {
    Image: 'busybox', Labels: { 'x.y': 'z' }, ExposedPorts: { '80/tcp': {} },
    HostConfig: { LogConfig: { Type: 'json-file', Config: { 'max-size': '1m' } }, Mounts: [{ Type: 'tmpfs', Target: '/t', ClusterOptions: { Any: 1 } }] },
    NetworkingConfig: { EndpointsConfig: { net1: { Aliases: ['a'] } } },
  });
  assert.deepEqual(create.check({ HostConfig: { CapAdd: 'NET_ADMIN' } }), { HostConfig: { CapAdd: ['NET_ADMIN'] } });
});
