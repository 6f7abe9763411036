import assert from 'node:assert/strict';
import { test } from 'node:test';
import type * as api from '../types/index.ts';
import type { Image } from '../../engine/index.ts';
import {
  toApiImageDeletes, toApiImageHistory, toApiImageInspect, toApiImagePrune, toApiImageSummary, versionedImageInspect,
} from './image-views.ts';

const committed: api.ImageInspect = {
  Id: 'sha256:1', RepoTags: [], RepoDigests: [], Parent: '', Comment: '', Created: '', DockerVersion: '', Author: '',
  Config: { Cmd: ['sh'], Env: ['A=1'] }, Architecture: 'amd64', Os: 'linux', Size: 42,
  GraphDriver: { Name: 'overlay2', Data: null }, RootFS: { Type: 'layers', Layers: [] }, Metadata: { LastTagTime: '' },
  Container: 'c'.repeat(64), ContainerConfig: { Cmd: ['sh', '-c', 'touch /x'], Image: 'busybox', Tty: true },
};

test('API 1.47 (and 1.45): no Container or ContainerConfig; Config has every legacy field, OnBuild null', () => {
  for (const version of ['1.47', '1.45']) {
    const out = versionedImageInspect(committed, version);
    assert.ok(!('Container' in out) && !('ContainerConfig' in out), version);
    assert.ok(!('VirtualSize' in out));
    assert.deepEqual(out.Config, {
      Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false,
      Tty: false, OpenStdin: false, StdinOnce: false, Env: ['A=1'], Cmd: ['sh'], Image: '', Volumes: null,
      WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: null,
    });
    assert.equal(out.Created, '');
  }
});

test('API 1.44: the committed container and its config, as dockerd sent them before 1.45', () => {
  const out = versionedImageInspect(committed, '1.44');
  assert.equal(out.Container, 'c'.repeat(64));
  assert.deepEqual(out.ContainerConfig?.Cmd, ['sh', '-c', 'touch /x']);
  assert.equal(out.ContainerConfig?.Tty, true);
  assert.equal(out.ContainerConfig?.OnBuild, null);
  assert.equal(out.ContainerConfig?.Hostname, '');
  assert.ok(!('VirtualSize' in out));
});

test('API 1.43: an image not made by commit has "" and a zero config; VirtualSize and a zero Created', () => {
  const { Container: _c, ContainerConfig: _cc, ...plain } = committed;
  const out = versionedImageInspect({ ...plain, Config: {} }, '1.43');
  assert.equal(out.Container, '');
  assert.deepEqual(out.ContainerConfig, versionedImageInspect({ ...plain, Config: {} }, '1.47').Config);
  assert.equal(out.VirtualSize, 42);
  assert.equal(out.Created, '0001-01-01T00:00:00Z');
});

test('explicit nulls in a stored config keep their key; values set are never replaced', () => {
  const out = versionedImageInspect({ ...committed, Config: { OnBuild: ['RUN x'], User: 'app', Labels: null } }, '1.47');
  assert.deepEqual(out.Config.OnBuild, ['RUN x']);
  assert.equal(out.Config.User, 'app');
  assert.equal(out.Config.Labels, null);
});

const image: Image = {
  id: 'sha256:ab', repoTags: ['busybox:latest'], repoDigests: ['busybox@sha256:cd'], size: 5, storedAt: '2024-02-01T00:00:00Z',
  layerDirs: ['/d/overlay/layers/1/diff', '/d/overlay/layers/2/diff', '/d/overlay/layers/3/diff'],
  config: {
    architecture: 'amd64', os: 'linux', created: '2024-01-01T00:00:00Z', config: { Cmd: ['sh'], Labels: { tier: 'base' } },
    rootfs: { type: 'layers', diff_ids: ['sha256:1', 'sha256:2', 'sha256:3'] },
  },
};

test('an image as GET /images/json lists it, byte for byte', () => {
  assert.equal(JSON.stringify(toApiImageSummary(image)),
    '{"Id":"sha256:ab","ParentId":"","RepoTags":["busybox:latest"],"RepoDigests":["busybox@sha256:cd"],"Created":1704067200,'
    + '"Size":5,"SharedSize":-1,"Labels":{"tier":"base"},"Containers":-1}');
});

test('inspect: overlay2 GraphDriver from the layer dirs, top layer as UpperDir', () => {
  const out = toApiImageInspect(image);
  assert.deepEqual(out.GraphDriver, { Name: 'overlay2', Data: {
    MergedDir: '/d/overlay/layers/3/merged', UpperDir: '/d/overlay/layers/3/diff', WorkDir: '/d/overlay/layers/3/work',
    LowerDir: '/d/overlay/layers/2/diff:/d/overlay/layers/1/diff',
  } });
  assert.deepEqual(Object.keys(out), ['Id', 'RepoTags', 'RepoDigests', 'Parent', 'Comment', 'Created', 'DockerVersion', 'Author',
    'Config', 'Architecture', 'Os', 'Size', 'GraphDriver', 'RootFS', 'Metadata']);
  assert.deepEqual([out.Created, out.Metadata, out.RootFS.Layers.length], ['2024-01-01T00:00:00Z', { LastTagTime: '2024-02-01T00:00:00Z' }, 3]);
  assert.equal(toApiImageInspect({ ...image, layerDirs: [] }).GraphDriver.Data, null);
});

test('history, delete records and prune results in Docker\'s shapes', () => {
  assert.deepEqual(toApiImageHistory([
    { id: 'sha256:ab', created: '2024-01-01T00:00:00Z', createdBy: 'CMD', tags: ['a:1'], size: 0, comment: '' },
    { created: '', createdBy: 'ADD', tags: [], size: 5, comment: 'c' },
  ]), [
    { Id: 'sha256:ab', Created: 1704067200, CreatedBy: 'CMD', Tags: ['a:1'], Size: 0, Comment: '' },
    { Id: '<missing>', Created: 0, CreatedBy: 'ADD', Tags: null, Size: 5, Comment: 'c' },
  ]);
  assert.deepEqual(toApiImageDeletes([{ untagged: 'a:1' }, { deleted: 'sha256:ab' }]), [{ Untagged: 'a:1' }, { Deleted: 'sha256:ab' }]);
  assert.equal(JSON.stringify(toApiImagePrune({ removed: [], spaceReclaimed: 0 })), '{"ImagesDeleted":null,"SpaceReclaimed":0}');
  assert.deepEqual(toApiImagePrune({ removed: [{ deleted: 'sha256:ab' }], spaceReclaimed: 3 }), { ImagesDeleted: [{ Deleted: 'sha256:ab' }], SpaceReclaimed: 3 });
});
