/**
 * `berth port CONTAINER [PRIVATE_PORT[/PROTO]]`, docker CLI 28's runPort: the mappings come from
 * GET /containers/{id}/json NetworkSettings.Ports and every output line is sorted in natural order.
 */
import type * as api from '../../../api/types/index.ts';
import type { CommandSpec } from '../../args/parse.ts';
import { type CliContext, ExitError, type Flags } from '../../context.ts';
import { naturalCompare } from '../network/ls-format.ts';
import { parseUint16 } from './run-network.ts';

export const portSpec: CommandSpec = {
  name: 'port', usage: 'CONTAINER [PRIVATE_PORT[/PROTO]]', description: 'List port mappings or a specific mapping for the container',
  aliases: ['container port', 'port'], flags: [], minArgs: 1, maxArgs: 2,
};

/** net.JoinHostPort; an empty HostIp (dockerd always fills it) is shown as 0.0.0.0. */
const joinHostPort = (ip: string, port: string): string => {
  const host = ip || '0.0.0.0';
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
};

/**
 * The lines `port` prints for `ports` (NetworkSettings.Ports). With `privatePort` ("80" means
 * 80/tcp) only that port's host addresses; `container` is the argument as typed, for the message.
 * @throws Error `Error: No public port '81' published for web`, or `Error: invalid port (x): ...`
 */
export function portLines(ports: api.PortMap | null | undefined, container: string, privatePort?: string): string[] {
  const out: string[] = [];
  if (privatePort !== undefined) {
    const slash = privatePort.indexOf('/');
    const port = slash < 0 ? privatePort : privatePort.slice(0, slash);
    const proto = (slash < 0 ? '' : privatePort.slice(slash + 1)) || 'tcp';
    try { parseUint16(port); } catch (err) { throw new Error(`Error: invalid port (${port}): ${(err as Error).message}`); }
    const frontends = ports?.[`${port}/${proto}`];
    if (!frontends?.length) throw new Error(`Error: No public port '${privatePort}' published for ${container}`);
    for (const b of frontends) out.push(joinHostPort(b.HostIp, b.HostPort));
  } else {
    for (const [from, frontends] of Object.entries(ports ?? {})) {
      for (const b of frontends ?? []) out.push(`${from} -> ${joinHostPort(b.HostIp, b.HostPort)}`);
    }
  }
  return out.sort(naturalCompare);
}

export async function port(ctx: CliContext, _f: Flags, args: string[]): Promise<void> {
  const [container, privatePort] = args as [string, string | undefined];
  const c = await ctx.client.json<api.ContainerInspect>('GET', `/containers/${encodeURIComponent(container)}/json`);
  let lines: string[];
  try { lines = portLines(c.NetworkSettings?.Ports, container, privatePort); } catch (err) { throw new ExitError(1, (err as Error).message); }
  if (lines.length) ctx.stdout.write(`${lines.join('\n')}\n`);
}
