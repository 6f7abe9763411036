import { EngineError } from '../lib/errors.ts';
import type { Stage } from './dockerfile/ast.ts';
import { parseRunMounts } from './run-mounts.ts';

/** What one stage needs before it can run: earlier stages (by index) and images by reference. */
export interface StageDeps {
  /** The stage its FROM names, when FROM names an earlier stage. */
  base?: number;
  /** Earlier stages read by COPY --from / RUN --mount from=. */
  stages: Set<number>;
}

/** A stage reference (`build`, `0`) to the earlier stage it names, or undefined for an image. */
export function stageRef(stages: readonly Stage[], before: number, ref: string): number | undefined {
  if (/^\d+$/.test(ref)) {
    const i = Number(ref);
    if (i >= before) throw new EngineError('InvalidParameter', `invalid from flag value ${ref}: ${i === before ? 'refers to current build stage' : 'index out of bounds'}`);
    return i;
  }
  const lower = ref.toLowerCase();
  for (let i = before - 1; i >= 0; i--) if (stages[i]!.name === lower) return i;
  return undefined;
}

/**
 * Each stage's dependencies; `expand` resolves variables in FROM and --from values (meta ARGs).
 * Throws InvalidParameter (dockerd's words) for a duplicate stage name.
 */
export function stageDeps(stages: readonly Stage[], expand: (word: string) => string): StageDeps[] {
  const seen = new Set<string>();
  return stages.map((s, i) => {
    if (s.name !== undefined) {
      if (seen.has(s.name)) throw new EngineError('InvalidParameter', `dockerfile parse error on line ${s.from.loc.line}: ${s.name} stage name already used`);
      seen.add(s.name);
    }
    const deps: StageDeps = { stages: new Set() };
    const base = expand(s.from.image);
    const b = /^\d+$/.test(base) ? undefined : stageRef(stages, i, base);
    if (b !== undefined) deps.base = b;
    for (const ins of s.instructions) {
      const refs: string[] = [];
      if (ins.kind === 'COPY' || ins.kind === 'ADD') {
        const from = ins.flags.find((f) => f.name === 'from')?.value;
        if (from !== undefined) refs.push(expand(from));
      }
      if (ins.kind === 'RUN') for (const m of parseRunMounts(ins.flags)) if (m.from !== undefined) refs.push(m.from);
      for (const r of refs) {
        const j = stageRef(stages, i, r);
        if (j !== undefined) deps.stages.add(j);
      }
    }
    return deps;
  });
}

/**
 * The stage a build stops at: `target` by name (case-insensitive, as dockerd), else the last.
 * InvalidParameter `target stage "x" could not be found`.
 */
export function targetStage(stages: readonly Stage[], target: string | undefined): number {
  if (stages.length === 0) throw new EngineError('InvalidParameter', 'file with no instructions');
  if (target === undefined || target === '') return stages.length - 1;
  const i = stages.findIndex((s) => s.name === target.toLowerCase());
  if (i < 0) throw new EngineError('InvalidParameter', `target stage "${target}" could not be found`);
  return i;
}

/** The stages `target` needs (itself included), in file order. */
export function neededStages(deps: readonly StageDeps[], target: number): number[] {
  const need = new Set<number>();
  const visit = (i: number) => {
    if (need.has(i)) return;
    need.add(i);
    const d = deps[i]!;
    if (d.base !== undefined) visit(d.base);
    for (const j of d.stages) visit(j);
  };
  visit(target);
  return [...need].sort((a, b) => a - b);
}
