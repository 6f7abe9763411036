import { EngineError } from '../lib/errors.ts';
import type { InstructionFlags } from './dockerfile/ast.ts';

/** One `RUN --mount=…` as BuildKit spells it (type=cache|bind|secret|tmpfs). */
export interface RunMount {
  type: 'cache' | 'bind' | 'secret' | 'tmpfs';
  target: string;
  /** bind: the stage or image to read from (default: the build context). */
  from?: string;
  source?: string;
  /** cache: the cache's id (default: the target); secret: the secret's id. */
  id?: string;
  readonly: boolean;
  required: boolean;
  mode?: number;
  uid?: number;
  gid?: number;
}

const TRUE = new Set(['', 'true', '1']);

/** The `--mount` flags of a RUN. InvalidParameter for an unknown type or key, or a missing target. */
export function parseRunMounts(flags: InstructionFlags): RunMount[] {
  const out: RunMount[] = [];
  for (const f of flags) {
    if (f.name !== 'mount') continue;
    const kv = new Map<string, string>();
    for (const part of (f.value ?? '').split(',')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      kv.set((eq < 0 ? part : part.slice(0, eq)).toLowerCase(), eq < 0 ? '' : part.slice(eq + 1));
    }
    const type = (kv.get('type') ?? 'bind') as RunMount['type'];
    if (!['cache', 'bind', 'secret', 'tmpfs'].includes(type)) throw new EngineError('InvalidParameter', `unsupported mount type "${type}"`);
    const id = kv.get('id');
    let target = kv.get('target') ?? kv.get('dst') ?? kv.get('destination');
    if (target === undefined && type === 'secret' && id) target = `/run/secrets/${id}`;
    if (!target) throw new EngineError('InvalidParameter', `mount type ${type}: target is required`);
    const num = (k: string) => (kv.has(k) ? Number.parseInt(kv.get(k)!, k === 'mode' ? 8 : 10) : undefined);
    const ro = kv.has('ro') || kv.has('readonly') ? TRUE.has(kv.get('ro') ?? kv.get('readonly')!) : type === 'bind' && !kv.has('rw') && !kv.has('readwrite');
    const m: RunMount = { type, target, readonly: ro, required: kv.has('required') && TRUE.has(kv.get('required')!) };
    const from = kv.get('from');
    if (from !== undefined) m.from = from;
    const source = kv.get('source') ?? kv.get('src');
    if (source !== undefined) m.source = source;
    if (id !== undefined) m.id = id;
    for (const k of ['mode', 'uid', 'gid'] as const) {
      const v = num(k);
      if (v !== undefined) m[k] = v;
    }
    out.push(m);
  }
  return out;
}
