import { EngineError } from '../../lib/errors.ts';
import type { DockerSeccompProfile } from './seccomp-docker.ts';

/** Which seccomp policy a container gets. */
export type SeccompChoice =
  | { kind: 'default' }
  | { kind: 'unconfined' }
  | { kind: 'custom'; profile: DockerSeccompProfile };

/** The parsed `HostConfig.SecurityOpt` list. Fields are set only when an option named them. */
export interface SecurityOptions {
  seccomp?: SeccompChoice;
  noNewPrivileges?: boolean;
  /** `systempaths=unconfined`: no masked or read-only /proc and /sys paths. */
  unconfinedSystemPaths?: boolean;
  /** Options accepted but without effect here (AppArmor, SELinux labels), to log. */
  warnings: string[];
}

const invalid = (opt: string) => new EngineError('InvalidParameter', `invalid --security-opt: ${opt}`);

function parseBool(opt: string, v: string): boolean {
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw invalid(opt);
}

/**
 * Parses Docker's `--security-opt` values. Keys may be separated by `=` or the legacy `:`.
 * Handles `seccomp=unconfined|builtin|<profile JSON>` (the CLI reads the file and sends its JSON
 * content, like docker), `no-new-privileges[=|:true|false]`, `systempaths=unconfined`;
 * accepts `apparmor=...` and `label=...`/`label:...` with a warning (no AppArmor/SELinux here).
 * Pure. Throws InvalidParameter `invalid --security-opt: X` for anything else, and for a seccomp
 * value that is not valid JSON.
 */
export function parseSecurityOpts(opts: readonly string[]): SecurityOptions {
  const out: SecurityOptions = { warnings: [] };
  for (const opt of opts) {
    if (opt === 'no-new-privileges') { out.noNewPrivileges = true; continue; }
    const m = /^([a-z-]+)[=:]([\s\S]*)$/.exec(opt);
    if (!m) throw invalid(opt);
    const key = m[1]!;
    const value = m[2]!;
    switch (key) {
      case 'no-new-privileges':
        out.noNewPrivileges = parseBool(opt, value);
        break;
      case 'seccomp':
        out.seccomp = parseSeccompValue(opt, value);
        break;
      case 'systempaths':
        if (value !== 'unconfined') throw invalid(opt);
        out.unconfinedSystemPaths = true;
        break;
      case 'apparmor':
        out.warnings.push(`AppArmor is not supported by this daemon; ignoring --security-opt ${opt}`);
        break;
      case 'label':
        out.warnings.push(`SELinux labels are not supported by this daemon; ignoring --security-opt ${opt}`);
        break;
      default:
        throw invalid(opt);
    }
  }
  return out;
}

function parseSeccompValue(opt: string, value: string): SeccompChoice {
  if (value === 'unconfined') return { kind: 'unconfined' };
  if (value === 'builtin' || value === '') return { kind: 'default' };
  let profile: unknown;
  try {
    profile = JSON.parse(value);
  } catch (err) {
    throw new EngineError('InvalidParameter', `decoding seccomp profile failed: ${(err as Error).message}`, { cause: err });
  }
  if (typeof profile !== 'object' || profile === null || Array.isArray(profile)) throw invalid(opt.slice(0, 80));
  return { kind: 'custom', profile: profile as DockerSeccompProfile };
}
