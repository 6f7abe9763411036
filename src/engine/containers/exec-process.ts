import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecCreateBody } from '../../api/types/index.ts';
import { parseCapabilityMask, toOciCapabilities } from '../../runtime/spec/capabilities.ts';
import type { OciProcess } from '../../runtime/spec/types.ts';
import { resolveUser } from '../../runtime/spec/user.ts';
import { execFailedMessage } from '../../runtime/runtime-errors.ts';
import { EngineError } from '../../lib/errors.ts';
import { mergeEnv } from './config-merge.ts';

const envKey = (e: string) => { const i = e.indexOf('='); return i < 0 ? e : e.slice(0, i); };

/**
 * An exec's environment as dockerd builds it (CreateDaemonEnvironment): the container's, where
 * TERM=xterm belongs to a terminal, the exec's if it has one, the container's own only if its
 * config sets TERM; then the exec's Env on top, so a TERM the user gives wins.
 */
export function execEnv(containerEnv: readonly string[], o: { configEnv: readonly string[]; terminal: boolean; execEnv?: readonly string[] | null }): string[] {
  const configSetsTerm = o.configEnv.some((e) => envKey(e) === 'TERM');
  const env = containerEnv.filter((e) => envKey(e) !== 'TERM' || configSetsTerm);
  if (o.terminal && !env.some((e) => envKey(e) === 'TERM')) env.push('TERM=xterm');
  return mergeEnv(env, o.execEnv);
}

/**
 * The process an exec runs: the container's process spec (its config.json) with the exec's command,
 * environment, user, working directory and terminal. Reads the container's /etc/passwd and
 * /etc/group for a named user; throws what resolveUser throws for an unknown one, and
 * InvalidParameter for a relative working directory.
 */
export async function execProcess(containerSpec: { process: OciProcess; root: { path: string } }, body: ExecCreateBody, o: {
  configEnv: readonly string[];
  consoleSize?: [number, number] | null;
}): Promise<OciProcess> {
  const terminal = !!body.Tty;
  const p: OciProcess = { ...containerSpec.process };
  p.args = body.Cmd;
  p.terminal = terminal;
  const size = o.consoleSize ?? body.ConsoleSize;
  if (terminal && size && size[0] > 0 && size[1] > 0) p.consoleSize = { height: size[0], width: size[1] };
  else delete p.consoleSize;
  p.env = execEnv(p.env ?? [], { configEnv: o.configEnv, terminal, execEnv: body.Env });
  if (body.WorkingDir) {
    // runc refuses it before it starts anything (validateProcessSpec); crun would chdir relative to '/'.
    if (!body.WorkingDir.startsWith('/')) throw new EngineError('InvalidParameter', execFailedMessage('Cwd must be an absolute path', body.Cmd[0] ?? ''));
    p.cwd = body.WorkingDir;
  }
  if (body.User) {
    const root = containerSpec.root.path;
    const [passwd, group] = await Promise.all([readFile(join(root, 'etc/passwd'), 'utf8').catch(() => ''), readFile(join(root, 'etc/group'), 'utf8').catch(() => '')]);
    const u = resolveUser(body.User, passwd, group);
    p.user = { uid: u.uid, gid: u.gid, additionalGids: u.additionalGids };
  }
  if (body.Privileged) p.capabilities = toOciCapabilities(hostCapabilities());
  return p;
}

let hostCaps: string[] | undefined;
/** The capabilities berthd itself holds (its bounding set): all a privileged process can get. */
function hostCapabilities(): string[] {
  if (!hostCaps) {
    const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    hostCaps = parseCapabilityMask(m?.[1] ?? '0');
  }
  return hostCaps;
}
