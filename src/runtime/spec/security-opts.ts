import { EngineError } from '../../lib/errors.ts';
import { parseGoBool } from '../../lib/units.ts';
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

// dockerd's words (daemon_unix.go parseSecurityOpt): 1 is an option without a key, 2 an unknown key or value.
const invalid = (which: 1 | 2, opt: string) => new EngineError('InvalidParameter', `invalid --security-opt ${which}: ${JSON.stringify(opt)}`);

/** Go's strconv.ParseBool, refused with the option's words. */
function parseBool(opt: string, v: string): boolean {
  const b = parseGoBool(v);
  if (b === undefined) throw invalid(2, opt);
  return b;
}

/**
 * Parses Docker's `--security-opt` values as dockerd does: the key ends at the first `=`, or at the
 * first `:` (the legacy separator) when there is no `=`. Handles `seccomp=unconfined|builtin|<profile
 * JSON>` (the CLI reads the file and sends its JSON content, like docker), `no-new-privileges[=|:bool]`,
 * `systempaths=unconfined` (berth's: the docker CLI turns it into empty MaskedPaths and ReadonlyPaths);
 * accepts `apparmor=...`, `label=...` and `disable` with a warning (no AppArmor/SELinux here).
 * Pure. Throws InvalidParameter `invalid --security-opt 1: "x"` / `2: "k=v"` for anything else, and
 * for a seccomp value that is not valid JSON.
 */
export function parseSecurityOpts(opts: readonly string[]): SecurityOptions {
  const out: SecurityOptions = { warnings: [] };
  for (const opt of opts) {
    if (opt === 'no-new-privileges') { out.noNewPrivileges = true; continue; }
    if (opt === 'disable') {
      out.warnings.push(`SELinux labels are not supported by this daemon; ignoring --security-opt ${opt}`);
      continue;
    }
    const sep = opt.includes('=') ? '=' : opt.includes(':') ? ':' : undefined;
    if (!sep) throw invalid(1, opt);
    const at = opt.indexOf(sep);
    const key = opt.slice(0, at);
    const value = opt.slice(at + 1);
    switch (key) {
      case 'no-new-privileges':
        out.noNewPrivileges = parseBool(opt, value);
        break;
      case 'seccomp':
        out.seccomp = parseSeccompValue(opt, value);
        break;
      case 'systempaths':
        if (value !== 'unconfined') throw invalid(2, opt);
        out.unconfinedSystemPaths = true;
        break;
      case 'apparmor':
        out.warnings.push(`AppArmor is not supported by this daemon; ignoring --security-opt ${opt}`);
        break;
      case 'label':
        out.warnings.push(`SELinux labels are not supported by this daemon; ignoring --security-opt ${opt}`);
        break;
      default:
        throw invalid(2, opt);
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
  if (typeof profile !== 'object' || profile === null || Array.isArray(profile)) throw invalid(2, opt.slice(0, 80));
  return { kind: 'custom', profile: profile as DockerSeccompProfile };
}
