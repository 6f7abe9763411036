import assert from 'node:assert/strict';
import { test } from 'node:test';
import type * as api from '../types/index.ts';
import { versionedImageInspect } from './image-views.ts';

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
