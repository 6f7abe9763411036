import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { addSeccompBpf, SECCOMP_BPF_ANNOTATION, SeccompBpfCache, seccompToLines } from './seccomp-bpf.ts';
import { defaultSeccomp } from './seccomp-default.ts';
import type { OciSeccomp, OciSpec } from './types.ts';

const PROFILE: OciSeccomp = {
  defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1, architectures: ['SCMP_ARCH_X86_64'], flags: ['SECCOMP_FILTER_FLAG_LOG'],
  syscalls: [
    { names: ['read', 'write', 'bad name', ''], action: 'SCMP_ACT_ALLOW' },
    { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
    { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0xffffffff, op: 'SCMP_CMP_EQ' }] },
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
  ],
};

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-bpf-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A fake compiler: 8 bytes per input line, counting calls. */
function fakeCompiler() {
  const calls: string[] = [];
  return {
    calls,
    compile: async (input: string) => {
      calls.push(input);
      await new Promise((r) => setTimeout(r, 5));
      return Buffer.alloc(8 * input.split('\n').length, 0x15);
    },
  };
}

test('seccompToLines writes what goes into the program, in order, and drops impossible names', () => {
  assert.equal(seccompToLines(PROFILE), [
    'default SCMP_ACT_ERRNO 1', 'arch SCMP_ARCH_X86_64',
    'rule SCMP_ACT_ALLOW -', 'name read', 'name write',
    'rule SCMP_ACT_ALLOW -', 'name clone', 'arg 0 SCMP_CMP_MASKED_EQ 2114060288 0',
    'rule SCMP_ACT_ALLOW -', 'name personality', 'arg 0 SCMP_CMP_EQ 4294967295 0',
    'rule SCMP_ACT_ERRNO 38', 'name clone3', '',
  ].join('\n'));
  // The default profile serializes without errors (every name and value fits the format).
  assert.match(seccompToLines(defaultSeccomp([], 'x64')), /^default SCMP_ACT_ERRNO 1\narch SCMP_ARCH_X86_64\n/);
});

test('seccompToLines refuses what the line format cannot carry', () => {
  assert.throws(() => seccompToLines({ ...PROFILE, defaultAction: 'SCMP_ACT_ALLOW x' as never }), { kind: 'InvalidParameter' });
  assert.throws(() => seccompToLines({ ...PROFILE, defaultErrnoRet: -1 }), { kind: 'InvalidParameter' });
  assert.throws(() => seccompToLines({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['x'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1.5, op: 'SCMP_CMP_EQ' }] }] }), { kind: 'InvalidParameter' });
});

test('SeccompBpfCache compiles each profile once, shares a compile in flight, and reuses the disk copy', async (t) => {
  const dir = await tempDir(t);
  const fake = fakeCompiler();
  const cache = new SeccompBpfCache({ compile: fake.compile, cacheDir: join(dir, 'bpf') });
  const results = await Promise.all([cache.annotationFor(PROFILE), cache.annotationFor(structuredClone(PROFILE)), cache.annotationFor(PROFILE)]);
  assert.equal(fake.calls.length, 1);
  const data = results[0]![SECCOMP_BPF_ANNOTATION]!;
  assert.equal(Buffer.from(data, 'base64').length, 8 * 14);
  for (const r of results) assert.deepEqual(r, { [SECCOMP_BPF_ANNOTATION]: data });
  // flags are a load-time setting, not part of the program: same compile.
  await cache.annotationFor({ ...PROFILE, flags: [] });
  assert.equal(fake.calls.length, 1);
  // Another profile is another compile.
  await cache.annotationFor({ ...PROFILE, defaultErrnoRet: 38 });
  assert.equal(fake.calls.length, 2);

  const files = await readdir(join(dir, 'bpf'));
  assert.equal(files.length, 2);
  assert.ok(files.every((f) => /^[0-9a-f]{64}\.b64$/.test(f)));
  // A new daemon (new cache) finds the program on disk.
  const fresh = fakeCompiler();
  const again = await new SeccompBpfCache({ compile: fresh.compile, cacheDir: join(dir, 'bpf') }).annotationFor(PROFILE);
  assert.deepEqual(again, results[0]);
  assert.equal(fresh.calls.length, 0);
  // A damaged file is compiled again and replaced.
  const file = join(dir, 'bpf', files[0]!);
  await writeFile(file, 'garbage!');
  const third = fakeCompiler();
  const c3 = new SeccompBpfCache({ compile: third.compile, cacheDir: join(dir, 'bpf') });
  await c3.annotationFor(PROFILE);
  await c3.annotationFor({ ...PROFILE, defaultErrnoRet: 38 });
  assert.equal(third.calls.length, 1);
  assert.notEqual(await readFile(file, 'utf8'), 'garbage!');
});

test('a failed compile is not cached, and a bad program is refused', async (t) => {
  const dir = await tempDir(t);
  let fail = true;
  const cache = new SeccompBpfCache({
    compile: async () => { if (fail) throw new Error('boom'); return Buffer.alloc(16); },
    cacheDir: join(dir, 'bpf'),
  });
  await assert.rejects(cache.annotationFor(PROFILE), /boom/);
  fail = false;
  assert.equal(Buffer.from((await cache.annotationFor(PROFILE))[SECCOMP_BPF_ANNOTATION]!, 'base64').length, 16);
  const odd = new SeccompBpfCache({ compile: async () => Buffer.alloc(12), cacheDir: join(dir, 'odd') });
  await assert.rejects(odd.annotationFor(PROFILE), { kind: 'Internal' });
});

test('addSeccompBpf annotates specs with seccomp and leaves the rest to crun', async (t) => {
  const dir = await tempDir(t);
  const fake = fakeCompiler();
  const cache = new SeccompBpfCache({ compile: fake.compile, cacheDir: dir });
  const spec = (extra: Partial<OciSpec['linux']> = {}, annotations?: Record<string, string>) =>
    ({ linux: { namespaces: [], ...extra }, ...(annotations ? { annotations } : {}) }) as OciSpec;

  const s1 = spec({ seccomp: PROFILE }, { 'org.example': 'x' });
  assert.equal(await addSeccompBpf(s1, cache), true);
  assert.equal(s1.annotations?.['org.example'], 'x');
  assert.ok(s1.annotations?.[SECCOMP_BPF_ANNOTATION]);
  assert.deepEqual(s1.linux.seccomp, PROFILE, 'linux.seccomp stays: crun reads its flags');

  const none = spec();
  assert.equal(await addSeccompBpf(none, cache), false);
  assert.equal(none.annotations, undefined);
  const own = spec({ seccomp: PROFILE }, { [SECCOMP_BPF_ANNOTATION]: 'mine' });
  assert.equal(await addSeccompBpf(own, cache), false);
  assert.equal(own.annotations?.[SECCOMP_BPF_ANNOTATION], 'mine');
  assert.equal(await addSeccompBpf(spec({ seccomp: PROFILE }, { 'run.oci.seccomp_fail_unknown_syscall': '1' }), cache), false);
  assert.equal(await addSeccompBpf(spec({ seccomp: PROFILE }, { 'run.oci.seccomp_fail_unknown_syscall': '0' }), cache), true);
  const broken = new SeccompBpfCache({ compile: async () => { throw new Error('no helper'); }, cacheDir: dir });
  const s2 = spec({ seccomp: { ...PROFILE, defaultErrnoRet: 5 } });
  assert.equal(await addSeccompBpf(s2, broken), false);
  assert.equal(s2.annotations, undefined);
});
