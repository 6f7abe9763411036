import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { EngineClient, HostError, daemonHost, demux, jsonMessages, resolveHost } from './client.ts';

/** A frame as the daemon writes it (built by hand: the client does not import api/). */
const frameOf = (stream: number, text: string) => {
  const data = Buffer.from(text);
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(data.length, 4);
  return Buffer.concat([head, data]);
};

function collector() {
  const got: [number, string][] = [];
  return { got, feed: demux((stream, data) => got.push([stream, data.toString()])) };
}

test('demux: whole frames, several in one chunk', () => {
  const c = collector();
  c.feed(Buffer.concat([frameOf(1, 'out\n'), frameOf(2, 'err\n'), frameOf(1, '')]));
  assert.deepEqual(c.got, [[1, 'out\n'], [2, 'err\n'], [1, '']]);
});

test('demux: frames split across chunks at every byte', () => {
  const all = Buffer.concat([frameOf(1, 'hello'), frameOf(2, 'world!'), frameOf(1, 'x')]);
  for (let size = 1; size <= all.length; size++) {
    const c = collector();
    for (let i = 0; i < all.length; i += size) c.feed(all.subarray(i, i + size));
    assert.deepEqual(c.got, [[1, 'hello'], [2, 'world!'], [1, 'x']], `chunk size ${size}`);
  }
});

test('demux: an incomplete frame waits for the rest', () => {
  const c = collector();
  const f = frameOf(1, 'abcdef');
  c.feed(f.subarray(0, 5));
  c.feed(f.subarray(5, 10));
  assert.deepEqual(c.got, []);
  c.feed(f.subarray(10));
  assert.deepEqual(c.got, [[1, 'abcdef']]);
});

test('demux: payload bytes are delivered unchanged (binary, multi-byte text split mid-character)', () => {
  const bin: Buffer[] = [];
  const feed = demux((_s, d) => bin.push(Buffer.from(d)));
  const payload = Buffer.from([0, 255, 10, 13, 0xe2, 0x82, 0xac]);
  const head = Buffer.alloc(8); head[0] = 1; head.writeUInt32BE(payload.length, 4);
  const f = Buffer.concat([head, payload]);
  feed(f.subarray(0, 12)); feed(f.subarray(12));
  assert.deepEqual(Buffer.concat(bin), payload);
});

test('resolveHost: -H, then BERTH_HOST, then DOCKER_HOST, then the default socket', () => {
  const env = { BERTH_HOST: 'unix:///berth.sock', DOCKER_HOST: 'unix:///docker.sock' };
  assert.equal(resolveHost('unix:///flag.sock', env), 'unix:///flag.sock');
  assert.equal(resolveHost(undefined, env), 'unix:///berth.sock');
  assert.equal(resolveHost(undefined, { DOCKER_HOST: 'unix:///docker.sock' }), 'unix:///docker.sock');
  assert.equal(resolveHost(undefined, {}), 'unix:///run/berth.sock');
  // Empty values count as unset.
  assert.equal(resolveHost('', { BERTH_HOST: '', DOCKER_HOST: 'unix:///docker.sock' }), 'unix:///docker.sock');
});

test('EngineClient: unix:// hosts only; any other address is a HostError naming its source', () => {
  assert.equal(new EngineClient('unix:///run/x.sock').socketPath, '/run/x.sock');
  assert.equal(new EngineClient('unix://').socketPath, '/run/berth.sock');
  const hostError = (host: string, source: string | undefined, message: string) =>
    assert.throws(() => new EngineClient(host, source), (e) => e instanceof HostError && e.message === message);
  hostError('tcp://127.0.0.1:2375', 'DOCKER_HOST', 'cannot use daemon host "tcp://127.0.0.1:2375" (from DOCKER_HOST): berth connects to unix:// sockets only (e.g. unix:///run/berth.sock)');
  hostError('ssh://me@host', '-H', 'cannot use daemon host "ssh://me@host" (from -H): berth connects to unix:// sockets only (e.g. unix:///run/berth.sock)');
  hostError('garbage', 'BERTH_HOST', 'invalid daemon host "garbage" (from BERTH_HOST): expected unix:///path/to/socket');
  hostError('/run/berth.sock', undefined, 'invalid daemon host "/run/berth.sock" (from -H): expected unix:///path/to/socket');
});

test('daemonHost names where the address came from', () => {
  assert.deepEqual(daemonHost('unix:///a', { DOCKER_HOST: 'tcp://x' }), { host: 'unix:///a', source: '-H' });
  assert.deepEqual(daemonHost(undefined, { DOCKER_HOST: 'tcp://x' }), { host: 'tcp://x', source: 'DOCKER_HOST' });
  assert.deepEqual(daemonHost(undefined, {}), { host: 'unix:///run/berth.sock', source: 'default' });
});

test('jsonMessages: messages split across chunks (inside a UTF-8 character too), a last line without newline', async () => {
  const text = Buffer.from('{"stream":"caf\u00e9 \u2603"}\n{"stream":"été"}\n\n{"aux":{"ID":"sha256:1"}}');
  const cut = text.indexOf(Buffer.from('ét')) + 1; // in the middle of the two bytes of é
  const got: unknown[] = [];
  await jsonMessages(Readable.from([text.subarray(0, 5), text.subarray(5, cut), text.subarray(cut)]), (m) => got.push(m));
  assert.deepEqual(got, [{ stream: 'caf\u00e9 \u2603' }, { stream: '\u00e9t\u00e9' }, { aux: { ID: 'sha256:1' } }]);
  await assert.rejects(jsonMessages(Readable.from([Buffer.from('{"a":1}\nnot json\n')]), () => undefined), SyntaxError);
});
