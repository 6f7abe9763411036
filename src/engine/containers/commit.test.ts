import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { EngineError } from '../../lib/errors.ts';
import { commitContainer, type CommitDeps } from './commit.ts';
import { initialState, type ContainerRecord, type ContainerStatus } from './record.ts';
import type { ImageConfig } from '../../image/index.ts';

/** Records what the commit did to the container; each step can be made to fail. */
class FakeCommitDeps implements CommitDeps {
  calls: string[] = [];
  running = true;
  pauseError: EngineError | undefined;
  unpauseError: EngineError | undefined;
  commitError: Error | undefined;
  readLayer = true;
  constructor(private readonly status: ContainerStatus = 'running') {}
  resolve(ref: string): ContainerRecord {
    return { id: ref, name: ref, imageId: 'sha256:parent', imageRef: 'busybox', createdAt: '', config: {}, hostConfig: {}, runtime: 'crun', restartCount: 0, state: { ...initialState(), status: this.status } };
  }
  isRunning(): boolean { return this.running; }
  async pause(id: string) { this.calls.push(`pause ${id}`); if (this.pauseError) throw this.pauseError; }
  async unpause(id: string) { this.calls.push(`unpause ${id}`); if (this.unpauseError) throw this.unpauseError; }
  upperPath(id: string) { return `/upper/${id}`; }
  layerTar() { return Readable.from([Buffer.from('tar')]); }
  images = {
    commit: async (o: { layerRead?: () => Promise<void>; config: (p: ImageConfig, d: string) => ImageConfig }) => {
      this.calls.push('commit');
      if (this.readLayer) await o.layerRead?.();
      if (this.commitError) throw this.commitError;
      o.config({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: {} }, 'sha256:diff');
      return 'sha256:new';
    },
  };
  event(action: string) { this.calls.push(`event ${action}`); }
}

test('commit pauses a running container while its layer is read, and thaws it once', async () => {
  const d = new FakeCommitDeps();
  assert.equal(await commitContainer(d, 'c1'), 'sha256:new');
  assert.deepEqual(d.calls, ['pause c1', 'commit', 'unpause c1', 'event commit']);
});

test('commit of a stopped container, or with pause: false, never pauses', async () => {
  const exited = new FakeCommitDeps('exited');
  exited.running = false;
  await commitContainer(exited, 'c1');
  assert.deepEqual(exited.calls, ['commit', 'event commit']);
  const noPause = new FakeCommitDeps();
  await commitContainer(noPause, 'c1', { pause: false });
  assert.deepEqual(noPause.calls, ['commit', 'event commit']);
});

test('commit of a container that exits before the pause commits it as it is (the 500 of issue 11)', async () => {
  const d = new FakeCommitDeps();
  d.pauseError = new EngineError('Conflict', 'Container c1 is not running');
  assert.equal(await commitContainer(d, 'c1'), 'sha256:new');
  assert.deepEqual(d.calls, ['pause c1', 'commit', 'event commit']);
});

test('a failed commit still thaws the container and reports its own error', async () => {
  const d = new FakeCommitDeps();
  d.readLayer = false;
  d.commitError = new EngineError('Internal', 'disk full');
  d.unpauseError = new EngineError('Internal', 'freezer broke');
  await assert.rejects(commitContainer(d, 'c1'), /disk full/);
  assert.deepEqual(d.calls, ['pause c1', 'commit', 'unpause c1']);
});

test('a container killed while paused for the commit is no error; a pause that truly fails is', async () => {
  const killed = new FakeCommitDeps();
  killed.unpauseError = new EngineError('Conflict', 'Container c1 is not paused');
  assert.equal(await commitContainer(killed, 'c1'), 'sha256:new');
  const broken = new FakeCommitDeps();
  broken.pauseError = new EngineError('Internal', 'crun pause: freezer failed');
  await assert.rejects(commitContainer(broken, 'c1'), /freezer failed/);
  assert.deepEqual(broken.calls, ['pause c1']);
});
