import type * as api from '../api/types/index.ts';
import { EngineError } from '../lib/errors.ts';
import type { BuildArgs } from './build-args.ts';
import { goList, goQuoteList } from './created-by.ts';
import type { CommandForm, Instruction } from './dockerfile/ast.ts';
import type { ImageConfig } from '../image/index.ts';

export const DEFAULT_SHELL = ['/bin/sh', '-c'];

/**
 * Substitutes variables in a word and removes its quotes (dockerfile/substitute.ts `expand`);
 * `heredoc`: a COPY/ADD here-document body (quotes are ordinary characters there).
 */
export type ExpandFn = (word: string, env: ReadonlyMap<string, string>, opts?: { heredoc?: boolean }) => string;

/** Where a stage stands between two steps. */
export interface StageState {
  /** The image so far; null after `FROM scratch` until the first step stores one. */
  imageId: string | null;
  blob: ImageConfig;
  /** ARGs declared in this stage that have a value, in declaration order. */
  args: Map<string, string>;
  /** CMD was set in this stage (ENTRYPOINT then keeps it; otherwise it resets the base's CMD). */
  cmdSet: boolean;
}

export const configOf = (s: StageState): api.ContainerConfig => (s.blob.config ??= {});
export const shellOf = (s: StageState): string[] => configOf(s).Shell?.length ? [...configOf(s).Shell!] : [...DEFAULT_SHELL];

/** The config's Env as a map (first `=` splits). */
export function envMap(env: readonly string[] | null | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env ?? []) {
    const i = e.indexOf('=');
    m.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
  }
  return m;
}

/** Variables an instruction's words see: the stage's ARGs, then ENV over them (ENV wins, as dockerd). */
export function scopeOf(s: StageState): Map<string, string> {
  return new Map([...s.args, ...envMap(configOf(s).Env)]);
}

/** argv of a command form: exec as is, shell form through the stage's SHELL. */
export const argvOf = (c: CommandForm, shell: readonly string[]): string[] => c.kind === 'exec' ? [...c.args] : [...shell, c.command];

function setEnv(cfg: api.ContainerConfig, key: string, value: string): void {
  const env = (cfg.Env ?? []).filter((e) => e !== key && !e.startsWith(`${key}=`));
  const idx = (cfg.Env ?? []).findIndex((e) => e === key || e.startsWith(`${key}=`));
  const entry = `${key}=${value}`;
  if (idx >= 0) env.splice(idx, 0, entry);
  else env.push(entry);
  cfg.Env = env;
}

/** A port as EXPOSE records it: `80/tcp`; InvalidParameter for garbage. */
function portKey(p: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(p);
  if (!m) throw new EngineError('InvalidParameter', `invalid containerPort: ${p}`);
  const lo = Number(m[1]), hi = m[2] ? Number(m[2]) : lo;
  const proto = (m[3] ?? 'tcp').toLowerCase();
  const out: string[] = [];
  for (let i = lo; i <= hi; i++) out.push(`${i}/${proto}`);
  return out;
}

/**
 * Applies a metadata-only instruction (no layer) to the state's config and returns the history
 * comment dockerd records for it (`CMD ["sh"]`); null for an instruction that is not metadata-only.
 * Words are expanded where dockerd expands them (ENV, LABEL, EXPOSE, VOLUME, USER, STOPSIGNAL, ARG).
 */
export function applyMetadata(ins: Instruction, s: StageState, expand: ExpandFn, args: BuildArgs): string | null {
  const cfg = configOf(s);
  const x = (w: string) => expand(w, scopeOf(s));
  switch (ins.kind) {
    case 'CMD': {
      cfg.Cmd = argvOf(ins.command, shellOf(s));
      s.cmdSet = true;
      return `CMD ${goQuoteList(cfg.Cmd)}`;
    }
    case 'ENTRYPOINT': {
      cfg.Entrypoint = argvOf(ins.command, shellOf(s));
      if (!s.cmdSet) cfg.Cmd = null;
      return `ENTRYPOINT ${goQuoteList(cfg.Entrypoint)}`;
    }
    case 'ENV': {
      const scope = scopeOf(s);
      const pairs = ins.pairs.map((p) => [expand(p.key, scope), expand(p.value, scope)] as const);
      for (const [k, v] of pairs) setEnv(cfg, k, v);
      return `ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`;
    }
    case 'LABEL': {
      const scope = scopeOf(s);
      const pairs = ins.pairs.map((p) => [expand(p.key, scope), expand(p.value, scope)] as const);
      cfg.Labels = { ...(cfg.Labels ?? {}) };
      for (const [k, v] of pairs) cfg.Labels[k] = v;
      return `LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`;
    }
    case 'EXPOSE': {
      const ports = ins.ports.map(x);
      cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}) };
      for (const p of ports) for (const k of portKey(p)) cfg.ExposedPorts[k] = {};
      return `EXPOSE ${ports.join(' ')}`;
    }
    case 'VOLUME': {
      const paths = ins.paths.map(x);
      cfg.Volumes = { ...(cfg.Volumes ?? {}) };
      for (const p of paths) {
        if (p.trim() === '') throw new EngineError('InvalidParameter', 'VOLUME specified can not be an empty string');
        cfg.Volumes[p] = {};
      }
      return `VOLUME ${goList(paths)}`;
    }
    case 'USER': {
      cfg.User = x(ins.user);
      return `USER ${cfg.User}`;
    }
    case 'STOPSIGNAL': {
      cfg.StopSignal = x(ins.signal);
      return `STOPSIGNAL ${cfg.StopSignal}`;
    }
    case 'MAINTAINER': {
      s.blob.author = ins.name;
      return `MAINTAINER ${ins.name}`;
    }
    case 'SHELL': {
      cfg.Shell = [...ins.args];
      return `SHELL ${goList(cfg.Shell)}`;
    }
    case 'ONBUILD': {
      const t = onbuildTrigger(ins);
      cfg.OnBuild = [...(cfg.OnBuild ?? []), t];
      return `ONBUILD ${t}`;
    }
    case 'HEALTHCHECK': {
      const h = healthConfigOf(ins);
      cfg.Healthcheck = h;
      return `HEALTHCHECK &{${goQuoteList(h.Test ?? [])} "${h.Interval ?? 0}" "${h.Timeout ?? 0}" "${h.StartPeriod ?? 0}" "${h.StartInterval ?? 0}" '${h.Retries ?? 0}'}`;
    }
    case 'ARG':
      return `ARG ${applyArgs(ins, s, expand, args).join(' ')}`;
    default:
      return null;
  }
}

/** An ONBUILD trigger as recorded, refused with dockerd's words where it may not be one. */
function onbuildTrigger(ins: Extract<Instruction, { kind: 'ONBUILD' }>): string {
  const t = ins.trigger.trim();
  const word = t.split(/\s+/, 1)[0]!.toUpperCase();
  if (word === 'ONBUILD') throw new EngineError('InvalidParameter', 'Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
  if (word === 'FROM' || word === 'MAINTAINER') throw new EngineError('InvalidParameter', `${word} isn't allowed as an ONBUILD trigger`);
  return t;
}

/**
 * The image config's Healthcheck for a HEALTHCHECK instruction (durations in ns, only what is set);
 * also what `commit/import --change HEALTHCHECK` sets.
 */
export function healthConfigOf(ins: Extract<Instruction, { kind: 'HEALTHCHECK' }>): api.HealthConfig {
  if (ins.test.kind === 'none') return { Test: ['NONE'] };
  const c = ins.test.command;
  const o = ins.options;
  return {
    Test: c.kind === 'exec' ? ['CMD', ...c.args] : ['CMD-SHELL', c.command],
    ...(o.intervalNs !== undefined ? { Interval: o.intervalNs } : {}),
    ...(o.timeoutNs !== undefined ? { Timeout: o.timeoutNs } : {}),
    ...(o.startPeriodNs !== undefined ? { StartPeriod: o.startPeriodNs } : {}),
    ...(o.startIntervalNs !== undefined ? { StartInterval: o.startIntervalNs } : {}),
    ...(o.retries !== undefined ? { Retries: o.retries } : {}),
  };
}

/** Sets (or unsets) each ARG in the stage's scope; returns `name` or `name=value` for its history. */
function applyArgs(ins: Extract<Instruction, { kind: 'ARG' }>, s: StageState, expand: ExpandFn, args: BuildArgs): string[] {
  const done: string[] = [];
  for (const a of ins.args) {
    const dflt = a.defaultValue === undefined ? undefined : expand(a.defaultValue, scopeOf(s));
    const v = args.resolve(a.name, dflt);
    if (v !== undefined) s.args.set(a.name, v);
    else s.args.delete(a.name);
    done.push(v === undefined ? a.name : `${a.name}=${v}`);
  }
  return done;
}
