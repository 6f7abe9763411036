/**
 * Precompiled seccomp for crun. crun 1.8.1 compiles linux.seccomp with libseccomp on every
 * `crun create` (~15 ms of a ~39 ms create here); given the annotation `run.oci.seccomp_bpf_data`
 * (base64 of the BPF program) it copies that program instead and never compiles (container.c:
 * libcrun_copy_seccomp replaces libcrun_generate_seccomp). berth-helper's `seccomp-bpf` builds the
 * program with the same libseccomp calls crun makes, so the filter is byte-identical; this module
 * compiles each distinct profile once per daemon (memory, then a file under the exec root).
 *
 * linux.seccomp stays in the spec: crun still reads its `flags` (SPEC_ALLOW by default, TSYNC, LOG)
 * and listener settings when it loads the program, and runc, which ignores the annotation, still
 * gets its profile.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from '../../lib/errors.ts';
import type { OciSeccomp, OciSpec } from './types.ts';

/** crun's annotation carrying a precompiled program (base64). */
export const SECCOMP_BPF_ANNOTATION = 'run.oci.seccomp_bpf_data';
/** With it set (not "0"), crun fails on unknown syscall names: that check only happens when crun compiles. */
const FAIL_UNKNOWN_ANNOTATION = 'run.oci.seccomp_fail_unknown_syscall';
/** Bumped when the line format or the compile semantics change: old cache files are then ignored. */
const FORMAT = 'berth-seccomp-bpf/1';
const MAX_MEMORY_ENTRIES = 256;
const TOKEN = /^[A-Za-z0-9_]+$/;

export interface SeccompBpfCacheDeps {
  /** Compiles helper lines (seccompToLines) to the raw program: NativeHelper.compileSeccomp. */
  compile(input: string): Promise<Buffer>;
  /** Directory for compiled programs, e.g. `<exec-root>/seccomp-bpf`; created when first needed. */
  cacheDir: string;
}

/**
 * The profile in berth-helper's `seccomp-bpf` line format (see native/seccomp-bpf.c): only what
 * goes into the BPF program, in the profile's order (rule order matters to libseccomp).
 * Names that cannot be syscall names (empty, whitespace) are left out: crun skips unknown names.
 * Throws InvalidParameter for values the format cannot carry (non-token actions, negative numbers);
 * callers then leave the compile to the runtime, which reports the problem in its own words.
 */
export function seccompToLines(s: OciSeccomp): string {
  const token = (v: string, what: string) => {
    if (!TOKEN.test(v)) throw new EngineError('InvalidParameter', `seccomp ${what} ${JSON.stringify(v)} is not a valid name`);
    return v;
  };
  const uint = (v: number | bigint | undefined, what: string, max: bigint): string => {
    if (v === undefined) return '-';
    const ok = typeof v === 'bigint' || Number.isSafeInteger(v);
    if (!ok || BigInt(v) < 0n || BigInt(v) > max) throw new EngineError('InvalidParameter', `seccomp ${what} ${String(v)} is out of range`);
    return BigInt(v).toString();
  };
  const U32 = 0xffffffffn;
  const U64 = 0xffffffffffffffffn;
  const lines = [`default ${token(s.defaultAction, 'action')} ${uint(s.defaultErrnoRet, 'errnoRet', U32)}`];
  for (const a of s.architectures ?? []) lines.push(`arch ${token(a, 'architecture')}`);
  for (const r of s.syscalls ?? []) {
    lines.push(`rule ${token(r.action, 'action')} ${uint(r.errnoRet, 'errnoRet', U32)}`);
    for (const n of r.names ?? []) if (/^\S+$/.test(n) && n.length < 1000) lines.push(`name ${n}`);
    for (const a of r.args ?? []) {
      lines.push(`arg ${uint(a.index, 'arg index', U32)} ${token(a.op, 'operator')} ${uint(a.value, 'arg value', U64)} ${uint(a.valueTwo ?? 0, 'arg valueTwo', U64)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Compiles each distinct profile once and hands out crun's annotation for it. Concurrent requests
 * for one profile share one compile; results live in memory (bounded) and in cacheDir, so a berthd
 * restart reuses them. A failed compile is not cached.
 */
export class SeccompBpfCache {
  readonly #deps: SeccompBpfCacheDeps;
  readonly #memory = new Map<string, Promise<string>>();

  constructor(deps: SeccompBpfCacheDeps) {
    this.#deps = deps;
  }

  /**
   * `{ 'run.oci.seccomp_bpf_data': <base64 program> }` for the profile. Rejects InvalidParameter
   * (see seccompToLines) or with the compile's error (Internal for a profile crun would reject too).
   */
  async annotationFor(seccomp: OciSeccomp): Promise<Record<string, string>> {
    const input = seccompToLines(seccomp);
    const key = createHash('sha256').update(`${FORMAT}\n${input}`).digest('hex');
    let data = this.#memory.get(key);
    if (data) {
      // Keep recently used entries at the end of the Map: eviction takes the first.
      this.#memory.delete(key);
      this.#memory.set(key, data);
    } else {
      const loading = this.#load(key, input);
      data = loading;
      this.#memory.set(key, loading);
      loading.catch(() => { if (this.#memory.get(key) === loading) this.#memory.delete(key); });
      if (this.#memory.size > MAX_MEMORY_ENTRIES) this.#memory.delete(this.#memory.keys().next().value!);
    }
    return { [SECCOMP_BPF_ANNOTATION]: await data };
  }

  /** From the disk cache if a valid program is there, else compiled and stored (temp file + rename). */
  async #load(key: string, input: string): Promise<string> {
    const file = join(this.#deps.cacheDir, `${key}.b64`);
    const cached = await readFile(file, 'utf8').catch(() => '');
    if (isProgram(cached)) return cached;
    const program = await this.#deps.compile(input);
    if (program.length === 0 || program.length % 8 !== 0) {
      throw new EngineError('Internal', `seccomp compile returned ${program.length} bytes, not a BPF program`);
    }
    const b64 = program.toString('base64');
    // The disk copy only saves a compile after a restart: failing to write it is not an error.
    await mkdir(this.#deps.cacheDir, { recursive: true, mode: 0o700 })
      .then(() => writeFile(`${file}.${process.pid}.tmp`, b64, { mode: 0o600 }))
      .then(() => rename(`${file}.${process.pid}.tmp`, file))
      .catch(() => undefined);
    return b64;
  }
}

/** A stored base64 text that decodes to whole sock_filter instructions. */
function isProgram(b64: string): boolean {
  if (!b64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return false;
  const len = Buffer.from(b64, 'base64').length;
  return len > 0 && len % 8 === 0;
}

/**
 * Adds the precompiled program to a spec that will run under crun. Leaves the spec unchanged (and
 * crun compiling as before) when it has no seccomp, when annotations already choose (a program of
 * their own, or fail-on-unknown-syscall, which only crun's compile checks), or when compiling fails:
 * crun then compiles the profile itself and reports any error. Returns whether it added it.
 */
export async function addSeccompBpf(spec: OciSpec, cache: SeccompBpfCache): Promise<boolean> {
  const seccomp = spec.linux.seccomp;
  const ann = spec.annotations ?? {};
  if (!seccomp || SECCOMP_BPF_ANNOTATION in ann) return false;
  if (ann[FAIL_UNKNOWN_ANNOTATION] !== undefined && ann[FAIL_UNKNOWN_ANNOTATION] !== '0') return false;
  const extra = await cache.annotationFor(seccomp).catch(() => undefined);
  if (!extra) return false;
  spec.annotations = { ...ann, ...extra };
  return true;
}
