import type { ContainerConfig, HealthConfig } from '../../api/types/index.ts';
import { invalid } from '../../lib/errors.ts';
import { parseInstructions } from '../../build/dockerfile/parse.ts';
import { healthConfigOf } from '../../build/stage-state.ts';
import { normalizeSignal } from '../containers/signals.ts';

/** The Dockerfile instructions `docker import --change` and `commit --change` accept (dockerd's validCommitCommands). */
export const CHANGE_INSTRUCTIONS = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'HEALTHCHECK', 'LABEL', 'ONBUILD', 'USER', 'VOLUME', 'WORKDIR', 'STOPSIGNAL'] as const;

/** A HEALTHCHECK line as the Dockerfile parser reads it (flags, NONE, exec or shell form); its errors are the parser's. */
function parseHealthcheck(line: string): HealthConfig {
  const ins = parseInstructions(line)[0];
  if (ins?.kind !== 'HEALTHCHECK') throw invalid('HEALTHCHECK requires at least one argument');
  return healthConfigOf(ins);
}

/** A JSON array of strings ("exec form"), or null when `s` is not one. */
function jsonArray(s: string): string[] | null {
  if (!s.startsWith('[')) return null;
  try {
    const v: unknown = JSON.parse(s);
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : null;
  } catch {
    return null;
  }
}

/** Splits `k=v k2="v 2"` into pairs; quotes and backslash escapes as the Dockerfile parser takes them. */
export function parseKeyValues(s: string, instr: string): [string, string][] {
  const words: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw invalid(`${instr}: unterminated quote`);
  if (inWord) words.push(cur);
  return words.map((w) => {
    const eq = w.indexOf('=');
    // The Dockerfile parser's wording: a word with no "=" is a syntax error, "=v" a blank name.
    if (eq < 0) throw invalid(`Syntax error - can't find = in "${w}". Must be of the form: name=value`);
    if (eq === 0) throw invalid(`${instr} names can not be blank`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/**
 * Applies `--change` lines ("CMD [\"sh\"]", "ENV A=b", "EXPOSE 80") to an image config, returning
 * a new one. InvalidParameter for an instruction outside CHANGE_INSTRUCTIONS (Docker's wording, with
 * the instruction as written: "ADD is not a valid change command"), a malformed argument or a
 * STOPSIGNAL dockerd would not know (`invalid signal: FOO`).
 */
export function applyChanges(base: ContainerConfig, changes: readonly string[]): ContainerConfig {
  const cfg: ContainerConfig = structuredClone(base);
  for (const line of changes) {
    const m = /^\s*(\S+)\s*(.*?)\s*$/s.exec(line);
    if (!m) continue;
    const instr = m[1]!.toUpperCase();
    const arg = m[2]!;
    switch (instr) {
      case 'CMD':
      case 'ENTRYPOINT': {
        const argv = jsonArray(arg) ?? (arg === '' ? [] : ['/bin/sh', '-c', arg]);
        if (instr === 'CMD') cfg.Cmd = argv;
        else { cfg.Entrypoint = argv; }
        break;
      }
      case 'ENV': {
        // Legacy form "ENV KEY value with spaces" when the first word has no "=".
        const first = arg.split(/\s+/, 1)[0] ?? '';
        const pairs = first.includes('=') ? parseKeyValues(arg, 'ENV') : [[first, arg.slice(first.length).trim()] as [string, string]];
        if (pairs.length === 0 || pairs.some(([k]) => k === '')) throw invalid('ENV requires at least one argument');
        const env = [...(cfg.Env ?? [])];
        for (const [k, v] of pairs) {
          const i = env.findIndex((e) => e.split('=', 1)[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        cfg.Env = env;
        break;
      }
      case 'LABEL': {
        const pairs = parseKeyValues(arg, 'LABEL');
        if (pairs.length === 0) throw invalid('LABEL requires at least one argument');
        cfg.Labels = { ...(cfg.Labels ?? {}), ...Object.fromEntries(pairs) };
        break;
      }
      case 'EXPOSE': {
        const ports = arg.split(/\s+/).filter(Boolean);
        if (ports.length === 0) throw invalid('EXPOSE requires at least one argument');
        const exposed = { ...(cfg.ExposedPorts ?? {}) };
        for (const p of ports) {
          const pm = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(p);
          if (!pm) throw invalid(`invalid containerPort: ${p}`);
          const lo = Number(pm[1]);
          const hi = pm[2] ? Number(pm[2]) : lo;
          if (lo < 1 || hi > 65535 || hi < lo) throw invalid(`invalid containerPort: ${p}`);
          for (let port = lo; port <= hi; port++) exposed[`${port}/${(pm[3] ?? 'tcp').toLowerCase()}`] = {};
        }
        cfg.ExposedPorts = exposed;
        break;
      }
      case 'VOLUME': {
        const vols = jsonArray(arg) ?? arg.split(/\s+/).filter(Boolean);
        if (vols.length === 0) throw invalid('VOLUME requires at least one argument');
        cfg.Volumes = { ...(cfg.Volumes ?? {}), ...Object.fromEntries(vols.map((v) => [v, {}])) };
        break;
      }
      case 'USER':
      case 'WORKDIR':
      case 'STOPSIGNAL':
        if (arg === '') throw invalid(`${instr} requires exactly one argument`);
        if (instr === 'USER') cfg.User = arg;
        else if (instr === 'WORKDIR') cfg.WorkingDir = arg.startsWith('/') ? arg : `/${arg}`;
        else {
          normalizeSignal(arg);
          cfg.StopSignal = arg;
        }
        break;
      case 'HEALTHCHECK':
        cfg.Healthcheck = parseHealthcheck(line.trim());
        break;
      case 'ONBUILD':
        if (arg === '') throw invalid('ONBUILD requires at least one argument');
        cfg.OnBuild = [...(cfg.OnBuild ?? []), arg];
        break;
      default:
        throw invalid(`${m[1]!} is not a valid change command`);
    }
  }
  return cfg;
}
