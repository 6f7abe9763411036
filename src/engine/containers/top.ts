import { execFile } from '../../lib/exec.ts';
import { EngineError } from '../../lib/errors.ts';

/**
 * `docker top`: runs the host's ps with the caller's options and keeps the rows whose PID belongs
 * to the container, as dockerd does. The PID column is found by its header.
 */
export async function topProcesses(pids: number[], psArgs: string): Promise<{ titles: string[]; processes: string[][] }> {
  const args = psArgs.split(/\s+/).filter(Boolean);
  const r = await execFile('ps', args);
  if (r.exitCode !== 0) throw new EngineError('InvalidParameter', `ps: ${r.stderr.trim() || r.stdout.trim()}`);
  return filterPsOutput(r.stdout, new Set(pids));
}

export function filterPsOutput(out: string, pids: ReadonlySet<number>): { titles: string[]; processes: string[][] } {
  const lines = out.split('\n').filter((l) => l.trim() !== '');
  const titles = (lines[0] ?? '').trim().split(/\s+/);
  const pidCol = titles.indexOf('PID');
  if (pidCol < 0) throw new EngineError('InvalidParameter', `Couldn't find PID field in ps output`);
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    // The last column (the command) may contain spaces: keep it whole.
    const row = [...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')];
    if (pids.has(Number(row[pidCol]))) processes.push(row);
  }
  return { titles, processes };
}
