/**
 * `berth network create|ls|inspect|rm|prune|connect|disconnect`, ported from docker CLI 28
 * (cli/command/network): the same request bodies, output and messages. Daemon errors reach
 * main as ApiError ("Error response from daemon: ...", exit 1) unless a command collects them.
 */
import type * as api from '../../../api/types/index.ts';
import { checkFilter } from '../../args/checks.ts';
import { ApiError } from '../../../client/client.ts';
import type { CommandSpec } from '../../args/parse.ts';
import { renderList } from '../../format/formatter.ts';
import { type CliContext, ExitError, type Flags, bool, int, list, str } from '../../context.ts';
import { FlagError } from '../../args/spec.ts';
import { validateLink } from '../container/run-network.ts';
import { errorText } from '../container/run.ts';
import { inspectEach } from '../inspect-each.ts';
import { filtersParam } from '../container/ps.ts';
import { createIpamConfig } from './ipam-flags.ts';
import { NETWORK_HEADERS, listFormat, networkRow, sortByName } from './ls-format.ts';

/** pflag StringSlice: each use is a CSV list ("a,b" is two values; "" is none). */
const sliceFlag = (f: Flags, name: string): string[] => list(f, name).flatMap((v) => (v === '' ? [] : v.split(',')));

/** opts.MapOpts: key=value, a value-less key maps to "". Insertion order kept. */
function mapFlag(f: Flags, name: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const v of list(f, name)) { const i = v.indexOf('='); m.set(i < 0 ? v : v.slice(0, i), i < 0 ? '' : v.slice(i + 1)); }
  return m;
}

/** `--label` values checked as opts.ValidateLabel does (at flag time), then as a map. */
export function labelsFlag(values: readonly string[], flagName = '--label'): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    const key = (eq < 0 ? v : v.slice(0, eq)).replace(/^[ \t\n\r\v\f]+/, '');
    const why = key === '' ? `invalid label '${v}': empty name` : /[ \t\n\r\v\f]/.test(key) ? `label '${key}' contains whitespaces` : undefined;
    if (why) throw new FlagError(`invalid argument ${JSON.stringify(v)} for "${flagName}" flag: ${why}`);
    labels[eq < 0 ? v : v.slice(0, eq)] = eq < 0 ? '' : v.slice(eq + 1);
  }
  return labels;
}

export const networkCreateSpec: CommandSpec = {
  name: 'network create', usage: '[OPTIONS] NETWORK', description: 'Create a network',
  flags: [
    { name: 'attachable', kind: 'bool', description: 'Enable manual container attachment' },
    { name: 'aux-address', kind: 'string[]', valueName: 'map', description: 'Auxiliary IPv4 or IPv6 addresses used by Network driver (default map[])' },
    { name: 'config-from', kind: 'string', description: 'The network from which to copy the configuration' },
    { name: 'config-only', kind: 'bool', description: 'Create a configuration only network' },
    { name: 'driver', short: 'd', kind: 'string', default: 'bridge', description: 'Driver to manage the Network' },
    { name: 'gateway', kind: 'string[]', valueName: 'strings', description: 'IPv4 or IPv6 Gateway for the master subnet' },
    { name: 'ingress', kind: 'bool', description: 'Create swarm routing-mesh network' },
    { name: 'internal', kind: 'bool', description: 'Restrict external access to the network' },
    { name: 'ip-range', kind: 'string[]', valueName: 'strings', description: 'Allocate container ip from a sub-range' },
    { name: 'ipam-driver', kind: 'string', default: 'default', description: 'IP Address Management Driver' },
    { name: 'ipam-opt', kind: 'string[]', valueName: 'map', description: 'Set IPAM driver specific options (default map[])' },
    // No declared default (docker's is true): a default would make every call look like --ipv4.
    // The "(default ...)" texts are pflag's suffixes, written out for flags without a spec default.
    { name: 'ipv4', kind: 'bool', description: 'Enable or disable IPv4 address assignment (default true)' },
    { name: 'ipv6', kind: 'bool', description: 'Enable or disable IPv6 address assignment' },
    { name: 'label', kind: 'string[]', description: 'Set metadata on a network' },
    { name: 'opt', short: 'o', kind: 'string[]', valueName: 'map', description: 'Set driver specific options (default map[])' },
    { name: 'scope', kind: 'string', description: "Control the network's scope" },
    { name: 'subnet', kind: 'string[]', valueName: 'strings', description: 'Subnet in CIDR format that represents a network segment' },
  ],
  minArgs: 1, maxArgs: 1,
};

/** The POST /networks/create body docker CLI 28 sends for these flags. Throws FlagError or Error. */
export function networkCreateBody(name: string, f: Flags): api.NetworkCreateRequest & { ConfigFrom: { Network: string } | null } {
  const labels = labelsFlag(list(f, 'label'));
  const ipam = createIpamConfig({
    driver: str(f, 'ipam-driver') ?? 'default', subnets: sliceFlag(f, 'subnet'), ipRanges: sliceFlag(f, 'ip-range'),
    gateways: sliceFlag(f, 'gateway'), auxAddresses: mapFlag(f, 'aux-address'), options: Object.fromEntries(mapFlag(f, 'ipam-opt')),
  });
  const configFrom = str(f, 'config-from');
  return {
    Name: name, Driver: str(f, 'driver') ?? 'bridge', Scope: str(f, 'scope') ?? '',
    // Sent only when the flag was given (docker: *bool fields set when cmd.Flag(...).Changed).
    ...(f['ipv4'] !== undefined ? { EnableIPv4: bool(f, 'ipv4') } : {}),
    ...(f['ipv6'] !== undefined ? { EnableIPv6: bool(f, 'ipv6') } : {}),
    IPAM: ipam, Internal: bool(f, 'internal'), Attachable: bool(f, 'attachable'), Ingress: bool(f, 'ingress'),
    ConfigOnly: bool(f, 'config-only'), ConfigFrom: configFrom ? { Network: configFrom } : null,
    Options: Object.fromEntries(mapFlag(f, 'opt')), Labels: labels,
  };
}

export async function networkCreate(ctx: CliContext, f: Flags, args: string[]): Promise<void> {
  let body;
  try { body = networkCreateBody(args[0]!, f); } catch (err) {
    if (err instanceof FlagError) throw err;
    throw new ExitError(1, (err as Error).message);
  }
  const r = await ctx.client.json<api.NetworkCreateResponse>('POST', '/networks/create', { body });
  ctx.stdout.write(`${r.Id}\n`);
}

export const networkLsSpec: CommandSpec = {
  name: 'network ls', usage: '[OPTIONS]', description: 'List networks', aliases: ['network ls', 'network list'],
  flags: [
    { name: 'filter', short: 'f', kind: 'string[]', valueName: 'filter', description: 'Provide filter values (e.g. "driver=bridge")', check: checkFilter },
    { name: 'format', kind: 'string', description: "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates" },
    { name: 'no-trunc', kind: 'bool', description: 'Do not truncate the output' },
    { name: 'quiet', short: 'q', kind: 'bool', description: 'Only display network IDs' },
  ],
  maxArgs: 0,
};

export async function networkLs(ctx: CliContext, f: Flags): Promise<void> {
  const filters = filtersParam(list(f, 'filter'));
  const nets = await ctx.client.json<api.NetworkResource[]>('GET', '/networks', { query: { filters } });
  const trunc = !bool(f, 'no-trunc');
  ctx.stdout.write(renderList(sortByName(nets ?? []), {
    format: listFormat(str(f, 'format'), bool(f, 'quiet')), defaultTable: listFormat(undefined, false), headers: NETWORK_HEADERS,
    toRow: (n) => networkRow(n, trunc),
  }));
}

export const networkInspectSpec: CommandSpec = {
  name: 'network inspect', usage: '[OPTIONS] NETWORK [NETWORK...]', description: 'Display detailed information on one or more networks',
  flags: [
    { name: 'format', short: 'f', kind: 'string', description: "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates" },
    { name: 'verbose', short: 'v', kind: 'bool', description: 'Verbose output for diagnostics' },
  ],
  minArgs: 1,
};

/** docker's inspect.Inspect over networks (see inspectEach); an empty name is an error of its own. */
export async function networkInspect(ctx: CliContext, f: Flags, args: string[]): Promise<void> {
  await inspectEach(ctx, str(f, 'format') ?? '', args, (ref) => {
    const id = ref.trim();
    if (id === '') return Promise.reject(new Error('invalid network name or ID: value is empty'));
    return ctx.client.json<unknown>('GET', `/networks/${encodeURIComponent(id)}`, { query: { verbose: bool(f, 'verbose') ? 'true' : undefined } });
  });
}

export const networkRmSpec: CommandSpec = {
  name: 'network rm', usage: 'NETWORK [NETWORK...]', description: 'Remove one or more networks', aliases: ['network rm', 'network remove'],
  flags: [{ name: 'force', short: 'f', kind: 'bool', description: 'Do not error if the network does not exist' }],
  minArgs: 1,
};

export async function networkRm(ctx: CliContext, f: Flags, args: string[]): Promise<void> {
  let failed = false;
  for (const name of args) {
    try {
      await ctx.client.call('DELETE', `/networks/${encodeURIComponent(name)}`);
      ctx.stdout.write(`${name}\n`);
    } catch (err) {
      if (bool(f, 'force') && err instanceof ApiError && err.status === 404) continue;
      ctx.stderr.write(`${errorText(err)}\n`);
      failed = true;
    }
  }
  // docker 28 ends with cli.StatusError{Status: "exit status 1"}, which its main prints.
  if (failed) throw new ExitError(1, 'exit status 1');
}

export const networkPruneSpec: CommandSpec = {
  name: 'network prune', usage: '[OPTIONS]', description: 'Remove all unused networks',
  flags: [
    { name: 'filter', kind: 'string[]', valueName: 'filter', description: 'Provide filter values (e.g. "until=<timestamp>")', check: checkFilter },
    { name: 'force', short: 'f', kind: 'bool', description: 'Do not prompt for confirmation' },
  ],
  maxArgs: 0,
};

/** docker's prompt.Confirm: prints MESSAGE [y/N], reads one line; only "y"/"Y" agrees. */
export async function confirm(ctx: CliContext, message: string): Promise<boolean> {
  ctx.stdout.write(`${message} [y/N] `);
  const line = await new Promise<string>((resolve) => {
    let buf = '';
    const done = (): void => { ctx.stdin.off('data', onData); ctx.stdin.off('end', done); ctx.stdin.pause(); resolve(buf.split('\n')[0] ?? ''); };
    const onData = (b: Buffer): void => { buf += b.toString(); if (buf.includes('\n')) done(); };
    ctx.stdin.on('data', onData);
    ctx.stdin.once('end', done);
    ctx.stdin.resume();
  });
  return line.trim().toLowerCase() === 'y';
}

export async function networkPrune(ctx: CliContext, f: Flags): Promise<void> {
  const filters = filtersParam(list(f, 'filter'), '--filter');
  // A "no" is a cancellation: docker exits 0 without a message.
  if (!bool(f, 'force') && !(await confirm(ctx, 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?'))) return;
  const r = await ctx.client.json<api.NetworkPruneResponse>('POST', '/networks/prune', { query: { filters } });
  const deleted = r?.NetworksDeleted ?? [];
  // docker builds "Deleted Networks:\nA\nB\n" and prints it with Println: a blank line ends it.
  if (deleted.length) ctx.stdout.write(`Deleted Networks:\n${deleted.map((n) => `${n}\n`).join('')}\n`);
}

export const networkConnectSpec: CommandSpec = {
  name: 'network connect', usage: '[OPTIONS] NETWORK CONTAINER', description: 'Connect a container to a network',
  flags: [
    { name: 'alias', kind: 'string[]', valueName: 'strings', description: 'Add network-scoped alias for the container' },
    { name: 'driver-opt', kind: 'string[]', valueName: 'strings', description: 'driver options for the network' },
    { name: 'gw-priority', kind: 'int', description: 'Highest gw-priority provides the default gateway. Accepts positive and negative values.' },
    { name: 'ip', kind: 'string', description: 'IPv4 address (e.g., "172.30.100.104")' },
    { name: 'ip6', kind: 'string', description: 'IPv6 address (e.g., "2001:db8::33")' },
    { name: 'link', kind: 'string[]', description: 'Add link to another container' },
    { name: 'link-local-ip', kind: 'string[]', valueName: 'strings', description: 'Add a link-local address for the container' },
  ],
  minArgs: 2, maxArgs: 2,
};

/** The POST /networks/{id}/connect body docker CLI 28 sends. Throws FlagError or Error. */
export function networkConnectBody(container: string, f: Flags): api.NetworkConnectRequest {
  const links = list(f, 'link');
  for (const l of links) {
    try { validateLink(l); } catch (err) { throw new FlagError(`invalid argument ${JSON.stringify(l)} for "--link" flag: ${(err as Error).message}`); }
  }
  const driverOpts: Record<string, string> = {};
  for (const o of sliceFlag(f, 'driver-opt')) {
    const i = o.indexOf('=');
    if (i < 0 || o.slice(0, i).trim() === '') throw new Error('invalid key/value pair format in driver options');
    driverOpts[o.slice(0, i).trim()] = o.slice(i + 1).trim();
  }
  const ip = str(f, 'ip');
  const ip6 = str(f, 'ip6');
  const linkLocal = sliceFlag(f, 'link-local-ip');
  const gw = int(f, 'gw-priority') ?? 0;
  const endpoint = {
    // Go's EndpointIPAMConfig fields are omitempty; the struct itself is always sent.
    IPAMConfig: { ...(ip ? { IPv4Address: ip } : {}), ...(ip6 ? { IPv6Address: ip6 } : {}), ...(linkLocal.length ? { LinkLocalIPs: linkLocal } : {}) },
    Links: links.length ? links : null, Aliases: sliceFlag(f, 'alias'), DriverOpts: driverOpts,
    // GwPriority is API 1.48; sent only when asked for, so a 1.47 daemon never sees it otherwise.
    ...(gw ? { GwPriority: gw } : {}),
  };
  return { Container: container, EndpointConfig: endpoint };
}

export async function networkConnect(ctx: CliContext, f: Flags, args: string[]): Promise<void> {
  let body;
  try { body = networkConnectBody(args[1]!, f); } catch (err) {
    if (err instanceof FlagError) throw err;
    throw new ExitError(1, (err as Error).message);
  }
  await ctx.client.call('POST', `/networks/${encodeURIComponent(args[0]!)}/connect`, { body });
}

export const networkDisconnectSpec: CommandSpec = {
  name: 'network disconnect', usage: '[OPTIONS] NETWORK CONTAINER', description: 'Disconnect a container from a network',
  flags: [{ name: 'force', short: 'f', kind: 'bool', description: 'Force the container to disconnect from a network' }],
  minArgs: 2, maxArgs: 2,
};

export async function networkDisconnect(ctx: CliContext, f: Flags, args: string[]): Promise<void> {
  const body: api.NetworkDisconnectRequest = { Container: args[1]!, Force: bool(f, 'force') };
  await ctx.client.call('POST', `/networks/${encodeURIComponent(args[0]!)}/disconnect`, { body });
}
