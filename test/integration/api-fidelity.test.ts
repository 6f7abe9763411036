// What real clients send and expect beyond the common paths (issue 11 "API fidelity"): swarm and
// plugin endpoints of a non-swarm dockerd, body validation, and the legacy corners of create.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonFor, requireRoot } from './harness.ts';

test('swarm and plugin commands print what they print against a dockerd in no swarm', async (t) => {
  if (!requireRoot(t)) return;
  const d = await daemonFor(t);
  const leave = d.docker(['swarm', 'leave']);
  assert.equal(leave.code, 1);
  assert.equal(leave.stderr.trim(), 'Error response from daemon: This node is not part of a swarm');
  const notManager = 'Error response from daemon: This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
  for (const args of [['node', 'ls'], ['service', 'ls'], ['secret', 'ls'], ['config', 'ls'], ['service', 'ps', 'x']]) {
    const r = d.docker(args);
    assert.equal(r.code, 1, args.join(' '));
    assert.equal(r.stderr.trim(), notManager, args.join(' '));
  }
  const plugins = d.docker(['plugin', 'ls']);
  assert.equal(plugins.code, 0, plugins.stderr);
  assert.match(plugins.stdout, /^ID\s+NAME\s+DESCRIPTION\s+ENABLED\s*$/);
  const inspect = d.docker(['plugin', 'inspect', 'nope']);
  assert.equal(inspect.code, 1);
  assert.match(inspect.stderr, /Error response from daemon: plugin "nope" not found/);
});
