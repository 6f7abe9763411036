/**
 * Result rows and their markdown rendering: one row per measurement, values per CLI target,
 * ratios against docker and podman, and the issue's target with a pass/fail mark.
 */
import type { TargetId } from './engines.ts';

/** The goal a row is judged by: a ratio to docker or podman, or an absolute ceiling. */
/** `vsDocker`/`vsPodman`: berth ≤ that multiple (times); `minVsDocker`: berth ≥ that multiple (throughputs). */
export interface Goal { vsDocker?: number; vsPodman?: number; minVsDocker?: number; max?: number; min?: number; text: string }

export interface Row {
  bench: string;
  metric: string;
  unit: 'ms' | 's' | 'MB' | 'req/s' | 'MB/s' | 'x';
  values: Partial<Record<TargetId, number>>;
  /** Which berth value the ratios use: the berth CLI (default) or the docker CLI against berthd. */
  primary?: 'berth' | 'docker-berthd';
  goal?: Goal;
  note?: string;
  /** No berth/docker, berth/podman columns (rows whose values are already ratios). */
  noRatios?: boolean;
}

const COLS: Array<[TargetId, string]> = [['berth', 'berth'], ['docker-berthd', 'docker CLI→berthd'], ['docker', 'docker'], ['podman', 'podman']];

function fmt(v: number | undefined, unit: string): string {
  if (v === undefined || Number.isNaN(v)) return '—';
  if (unit === 'x') return `${v.toFixed(2)}x`;
  const digits = unit === 'ms' ? (Math.abs(v) < 1 ? 3 : Math.abs(v) < 100 ? 1 : 0) : unit === 's' ? 2 : unit === 'req/s' ? 0 : 1;
  return `${v.toFixed(digits)} ${unit}`;
}

const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 && !Number.isNaN(a) ? a / b : undefined);
const fmtRatio = (r: number | undefined) => (r === undefined ? '—' : `${r.toFixed(2)}x`);

/** The berth value the row is judged by, and its ratios. */
export function judge(row: Row): { primary?: number; vsDocker?: number; vsPodman?: number; pass?: boolean } {
  const primary = row.values[row.primary ?? 'berth'];
  const vsDocker = row.noRatios ? undefined : ratio(primary, row.values.docker);
  const vsPodman = row.noRatios ? undefined : ratio(primary, row.values.podman);
  const g = row.goal;
  if (!g || primary === undefined || Number.isNaN(primary)) return { primary, vsDocker, vsPodman };
  const checks: boolean[] = [];
  if (g.vsDocker !== undefined && vsDocker !== undefined) checks.push(vsDocker <= g.vsDocker);
  if (g.vsPodman !== undefined && vsPodman !== undefined) checks.push(vsPodman <= g.vsPodman);
  if (g.minVsDocker !== undefined && vsDocker !== undefined) checks.push(vsDocker >= g.minVsDocker);
  if (g.max !== undefined) checks.push(primary <= g.max);
  if (g.min !== undefined) checks.push(primary >= g.min);
  return { primary, vsDocker, vsPodman, pass: checks.length ? checks.every(Boolean) : undefined };
}

/** A GitHub-flavoured markdown table of the rows, then their notes as a numbered list. */
export function markdownTable(rows: Row[]): string {
  const head = ['benchmark', ...COLS.map(([, l]) => l), 'berth/docker', 'berth/podman', 'target', 'met'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((h, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`];
  const notes: string[] = [];
  for (const r of rows) {
    const j = judge(r);
    let name = r.metric;
    if (r.note) { notes.push(r.note); name += ` [${notes.length}]`; }
    const cells = [name, ...COLS.map(([id]) => fmt(r.values[id], r.unit)),
      fmtRatio(j.vsDocker) + (r.primary === 'docker-berthd' ? '*' : ''), fmtRatio(j.vsPodman) + (r.primary === 'docker-berthd' ? '*' : ''),
      r.goal?.text ?? '', j.pass === undefined ? '' : j.pass ? 'yes' : 'NO'];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  const out = [lines.join('\n')];
  if (rows.some((r) => r.primary === 'docker-berthd')) out.push('\n\\* ratio of the docker CLI→berthd column (same client for both daemons).');
  if (notes.length) out.push(`\n${notes.map((n, i) => `${i + 1}. ${n}`).join('\n')}`);
  return out.join('\n');
}
