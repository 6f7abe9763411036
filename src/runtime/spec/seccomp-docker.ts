import { EngineError } from '../../lib/errors.ts';
import type { OciSeccomp, OciSeccompArg, OciSeccompSyscall, SeccompAction, SeccompOp } from './types.ts';

/** A condition block of Docker's profile format (`includes` / `excludes`). */
export interface DockerSeccompFilter { arches?: string[]; caps?: string[]; minKernel?: string }

/** A Docker-format seccomp profile, as `--security-opt seccomp=<file>` sends it (moby profiles/seccomp). */
export interface DockerSeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures?: string[] }[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: {
    name?: string;
    names?: string[];
    action: string;
    errnoRet?: number;
    args?: { index: number; value: number; valueTwo?: number; op: string }[] | null;
    comment?: string;
    includes?: DockerSeccompFilter;
    excludes?: DockerSeccompFilter;
  }[];
}

/** The host facts a Docker profile's includes/excludes are evaluated against. */
export interface SeccompHost {
  /** Full CAP_ names the container holds. */
  caps: readonly string[];
  /** Node `process.arch` of the host ('x64', 'arm64', ...). */
  arch: string;
  /** Kernel release, e.g. "6.1.0-18-amd64". */
  kernel: string;
}

const ACTIONS: readonly SeccompAction[] = ['SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY'];
const OPS: readonly SeccompOp[] = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE',
  'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'];

/** Docker (Go) architecture names of a Node arch: includes.arches uses Go's names. */
const GO_ARCH: Readonly<Record<string, string>> = {
  x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', riscv64: 'riscv64', s390x: 's390x', ppc64: 'ppc64le',
};
/** The libseccomp name of the host's native architecture, for matching archMap entries. */
const NATIVE_SCMP: Readonly<Record<string, string>> = {
  x64: 'SCMP_ARCH_X86_64', ia32: 'SCMP_ARCH_X86', arm64: 'SCMP_ARCH_AARCH64', arm: 'SCMP_ARCH_ARM',
  riscv64: 'SCMP_ARCH_RISCV64', s390x: 'SCMP_ARCH_S390X', ppc64: 'SCMP_ARCH_PPC64LE',
};

const bad = (msg: string) => new EngineError('InvalidParameter', `seccomp profile: ${msg}`);

/** Compares "major.minor" kernel versions; true when `kernel` >= `min`. */
export function kernelAtLeast(kernel: string, min: string): boolean {
  const parse = (v: string): [number, number] => {
    const m = /^(\d+)\.(\d+)/.exec(v);
    if (!m) throw bad(`invalid kernel version: ${v}`);
    return [Number(m[1]), Number(m[2])];
  };
  const [a, b] = parse(kernel);
  const [x, y] = parse(min);
  return a > x || (a === x && b >= y);
}

function action(name: string): SeccompAction {
  if (!(ACTIONS as readonly string[]).includes(name)) throw bad(`unknown action ${name}`);
  return name as SeccompAction;
}

/**
 * Converts a Docker-format profile to OCI linux.seccomp, evaluating each rule's includes/excludes
 * the way moby does: a rule applies only if the host arch is in includes.arches, every
 * includes.caps is held, and the kernel is >= includes.minKernel; it is skipped if the arch is in
 * excludes.arches, any excludes.caps is held, or the kernel is >= excludes.minKernel.
 * Pure. Throws InvalidParameter for a malformed profile (unknown action/op, both `name` and
 * `names`, both `architectures` and `archMap`).
 */
export function fromDockerSeccomp(profile: DockerSeccompProfile, host: SeccompHost): OciSeccomp {
  if (typeof profile !== 'object' || profile === null || typeof profile.defaultAction !== 'string') {
    throw bad('defaultAction is required');
  }
  if (profile.architectures?.length && profile.archMap?.length) {
    throw bad("'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'");
  }
  const caps = new Set(host.caps.map((c) => c.toUpperCase()));
  const goArch = GO_ARCH[host.arch] ?? host.arch;
  let architectures: string[] = [...(profile.architectures ?? [])];
  for (const a of profile.archMap ?? []) {
    if (a.architecture === NATIVE_SCMP[host.arch]) architectures.push(a.architecture, ...(a.subArchitectures ?? []));
  }
  architectures = [...new Set(architectures)];

  const holds = (c: string) => caps.has(c.toUpperCase().startsWith('CAP_') ? c.toUpperCase() : `CAP_${c.toUpperCase()}`);
  const syscalls: OciSeccompSyscall[] = [];
  for (const call of profile.syscalls ?? []) {
    if (call.name && call.names?.length) throw bad("use either 'name' or 'names', not both");
    const inc = call.includes ?? {};
    const exc = call.excludes ?? {};
    if (inc.arches?.length && !inc.arches.includes(goArch)) continue;
    if (inc.caps?.length && !inc.caps.every(holds)) continue;
    if (inc.minKernel && !kernelAtLeast(host.kernel, inc.minKernel)) continue;
    if (exc.arches?.includes(goArch)) continue;
    if (exc.caps?.some(holds)) continue;
    if (exc.minKernel && kernelAtLeast(host.kernel, exc.minKernel)) continue;
    const names = call.name ? [call.name] : [...(call.names ?? [])];
    if (names.length === 0) continue;
    const rule: OciSeccompSyscall = { names, action: action(call.action) };
    if (call.errnoRet !== undefined) rule.errnoRet = call.errnoRet;
    if (call.args?.length) rule.args = call.args.map(toOciArg);
    syscalls.push(rule);
  }
  const out: OciSeccomp = { defaultAction: action(profile.defaultAction), syscalls };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  if (architectures.length) out.architectures = architectures;
  if (profile.flags?.length) out.flags = [...profile.flags];
  if (profile.listenerPath) out.listenerPath = profile.listenerPath;
  if (profile.listenerMetadata) out.listenerMetadata = profile.listenerMetadata;
  return out;
}

function toOciArg(a: { index: number; value: number; valueTwo?: number; op: string }): OciSeccompArg {
  if (!(OPS as readonly string[]).includes(a.op)) throw bad(`unknown operator ${a.op}`);
  const arg: OciSeccompArg = { index: a.index, value: a.value, op: a.op as SeccompOp };
  if (a.valueTwo !== undefined) arg.valueTwo = a.valueTwo;
  return arg;
}
