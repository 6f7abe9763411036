import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BuildArgs } from './build-args.ts';
import { parseDockerfile } from './dockerfile/index.ts';
import { expand as expandWord } from './dockerfile/substitute.ts';
import { applyMetadata, configOf, type ExpandFn, type StageState } from './stage-state.ts';

const expand: ExpandFn = (w, env) => expandWord(w, (n) => env.get(n));

/** Applies a Dockerfile's instructions (metadata only) to a busybox-like state. */
function apply(text: string, given: Record<string, string> = {}, base: Partial<StageState['blob']['config']> = { Cmd: ['sh'], Env: ['PATH=/bin'] }) {
  const df = parseDockerfile(text);
  const args = new BuildArgs(given);
  for (const a of df.metaArgs) for (const x of a.args) args.declareMeta(x.name, x.defaultValue);
  const s: StageState = { imageId: 'sha256:base', blob: { architecture: 'amd64', os: 'linux', config: structuredClone(base), rootfs: { type: 'layers', diff_ids: [] } }, args: new Map(), cmdSet: false };
  const comments = df.stages[0]!.instructions.map((ins) => applyMetadata(ins, s, expand, args));
  return { s, cfg: configOf(s), comments, args };
}

test('ENV sees earlier ENV and ARG; ENV wins over ARG of the same name; ARGs stay out of the config', () => {
  const { cfg, s, comments } = apply('FROM busybox\nARG V=1\nENV A=$V B="x y"\nENV C=${A}-${B}\nARG A=argval\nENV D=$A\n', { V: '2' });
  assert.deepEqual(cfg.Env, ['PATH=/bin', 'A=2', 'B=x y', 'C=2-x y', 'D=2']);
  assert.deepEqual([...s.args], [['V', '2'], ['A', 'argval']]);
  assert.equal(comments[1], 'ENV A=2 B=x y');
});

test('meta ARG: visible only when re-declared in the stage', () => {
  assert.deepEqual(apply('ARG M=meta\nFROM busybox\nENV X=[$M]\n').cfg.Env, ['PATH=/bin', 'X=[]']);
  assert.deepEqual(apply('ARG M=meta\nFROM busybox\nARG M\nENV X=[$M]\n').cfg.Env, ['PATH=/bin', 'X=[meta]']);
});

test('ENTRYPOINT resets an inherited CMD but keeps one set in the stage; shell forms go through SHELL', () => {
  assert.equal(apply('FROM busybox\nENTRYPOINT ["top"]\n').cfg.Cmd, null);
  const { cfg, comments } = apply('FROM busybox\nSHELL ["/bin/ash", "-c"]\nCMD echo hi\nENTRYPOINT ["top"]\n');
  assert.deepEqual(cfg.Cmd, ['/bin/ash', '-c', 'echo hi']);
  assert.deepEqual(cfg.Entrypoint, ['top']);
  assert.equal(comments[1], 'CMD ["/bin/ash" "-c" "echo hi"]');
});

test('LABEL, EXPOSE ranges and protocols, VOLUME, USER, STOPSIGNAL, ONBUILD, HEALTHCHECK', () => {
  const { cfg, comments } = apply('FROM busybox\nARG P=80\nLABEL a=1 "b c"=d\nEXPOSE $P 53/udp 8000-8001\nVOLUME /data\nUSER nobody\nSTOPSIGNAL SIGQUIT\nONBUILD RUN echo hi\nHEALTHCHECK --interval=5s --retries=2 CMD wget -q localhost\n');
  assert.deepEqual(cfg.Labels, { a: '1', 'b c': 'd' });
  assert.deepEqual(Object.keys(cfg.ExposedPorts ?? {}), ['80/tcp', '53/udp', '8000/tcp', '8001/tcp']);
  assert.deepEqual(cfg.Volumes, { '/data': {} });
  assert.equal(cfg.User, 'nobody');
  assert.equal(cfg.StopSignal, 'SIGQUIT');
  assert.deepEqual(cfg.OnBuild, ['RUN echo hi']);
  assert.deepEqual(cfg.Healthcheck, { Test: ['CMD-SHELL', 'wget -q localhost'], Interval: 5e9, Retries: 2 });
  assert.equal(comments[2], 'EXPOSE 80 53/udp 8000-8001');
  assert.equal(comments[3], 'VOLUME [/data]');
});
