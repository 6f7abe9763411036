/**
 * Bridges and veth endpoints, batched: a bridge is one `ip -batch -`; an endpoint in a new
 * namespace is one `unshare ... ip -batch -` (the veth is created from inside, its host end
 * pushed out to the daemon's namespace) plus one `ip -batch -` to enslave the host end.
 *
 * Names (bridge, host veth) are the caller's, carrying the daemon's prefix so teardown and leak
 * checks can find them. Errors: Conflict (name exists), NotFound, Internal (ip failed; stderr
 * in the message). Teardown functions are idempotent.
 */
import { EngineError, invalid } from '../lib/errors.ts';
import type { ExecFn } from '../lib/exec.ts';
import { createNetns, ipError, removeNetns, runInNetns } from './netns.ts';

export interface LinkDeps {
  exec: ExecFn;
}

/** Linux interface names: at most 15 bytes, no '/', whitespace or ':'. */
export function checkIfName(name: string): void {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(name)) throw invalid(`invalid interface name ${JSON.stringify(name)}`);
}

async function ipBatch(deps: LinkDeps, what: string, lines: readonly string[]): Promise<void> {
  const r = await deps.exec('ip', ['-batch', '-'], { input: [...lines, ''].join('\n') });
  if (r.exitCode !== 0) throw ipError(what, r.stderr);
}

export interface BridgeOptions {
  name: string;
  /** Gateway address with the subnet's prefix, e.g. "172.17.0.1/16". */
  address: string;
  mtu?: number;
  /** A fixed MAC (else the bridge takes its lowest port's, changing as containers come and go). */
  mac?: string;
}

/**
 * Creates a bridge with its gateway address and brings it up. Throws Conflict when the name is
 * taken; on any other failure the half-made bridge is deleted.
 */
export async function createBridge(deps: LinkDeps, opts: BridgeOptions): Promise<void> {
  checkIfName(opts.name);
  const mtu = opts.mtu ? ` mtu ${opts.mtu}` : '';
  const mac = opts.mac ? ` address ${opts.mac}` : '';
  try {
    await ipBatch(deps, `create bridge ${opts.name}`, [
      `link add ${opts.name}${mtu}${mac} type bridge`,
      `addr add ${opts.address} dev ${opts.name}`,
      `link set ${opts.name} up`,
    ]);
  } catch (err) {
    if (err instanceof EngineError && err.kind !== 'Conflict') await removeLink(deps, opts.name).catch(() => undefined);
    throw err;
  }
}

/** Deletes an interface (bridge or host veth end). Idempotent: a missing one is fine. */
export async function removeLink(deps: LinkDeps, name: string): Promise<void> {
  checkIfName(name);
  const r = await deps.exec('ip', ['link', 'del', name]);
  if (r.exitCode !== 0 && !/Cannot find device|does not exist/.test(r.stderr)) throw ipError(`remove link ${name}`, r.stderr);
}

export interface EndpointOptions {
  /** Host-side veth name (prefixed, unique). */
  hostVeth: string;
  /** Name inside the namespace; "eth0" for the first network. */
  ifName?: string;
  /** Container address with prefix, e.g. "172.17.0.2/16". */
  address: string;
  /** Default route via this gateway; omitted for internal networks or extra interfaces. */
  gateway?: string;
  /** On an IPv6-enabled network: the IPv6 address with prefix ("fd00:1::2/64"), and the IPv6 default route's gateway. */
  address6?: string;
  gateway6?: string;
  mac?: string;
  mtu?: number;
  /** The daemon's own network namespace, where the host end goes. */
  hostNetns?: string;
}

/** The ip batch lines, run inside the container's namespace, that make its end of a veth pair. */
export function endpointCommands(opts: EndpointOptions): string[] {
  const ifName = opts.ifName ?? 'eth0';
  checkIfName(ifName);
  checkIfName(opts.hostVeth);
  if (opts.mac !== undefined && !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(opts.mac)) throw invalid(`invalid MAC address: ${opts.mac}`);
  const hostNs = opts.hostNetns ?? `/proc/${process.pid}/ns/net`;
  const mtu = opts.mtu ? ` mtu ${opts.mtu}` : '';
  const mac = opts.mac ? ` address ${opts.mac}` : '';
  return [
    `link add ${ifName}${mac}${mtu} type veth peer name ${opts.hostVeth}${mtu} netns ${hostNs}`,
    `addr add ${opts.address} dev ${ifName}`,
    // nodad, as dockerd: IPAM made the address unique, and a tentative one cannot be used for a second or so.
    ...(opts.address6 ? [`addr add ${opts.address6} dev ${ifName} nodad`] : []),
    `link set ${ifName} up`,
    ...(opts.gateway ? [`route add default via ${opts.gateway} dev ${ifName}`] : []),
    ...(opts.gateway6 ? [`route add default via ${opts.gateway6} dev ${ifName}`] : []),
  ];
}

/**
 * Creates the namespace at `netnsPath` with a veth pair: the inside end configured (address,
 * up, default route, loopback up), the host end enslaved to `bridge` and up. Two processes in
 * all. On failure, both the namespace and the host end are removed (Conflict if the namespace
 * file or the veth name already exists).
 */
export async function createEndpoint(deps: LinkDeps, netnsPath: string, bridge: string, opts: EndpointOptions): Promise<void> {
  checkIfName(bridge);
  await createNetns(deps, netnsPath, endpointCommands(opts));
  try {
    await attachToBridge(deps, opts.hostVeth, bridge);
  } catch (err) {
    await removeEndpoint(deps, netnsPath, opts.hostVeth).catch(() => undefined);
    throw err;
  }
}

/** Adds another interface to an existing namespace (network connect). Rolls back on failure. */
export async function addInterface(deps: LinkDeps, netnsPath: string, bridge: string, opts: EndpointOptions): Promise<void> {
  checkIfName(bridge);
  await runInNetns(deps, netnsPath, endpointCommands(opts));
  try {
    await attachToBridge(deps, opts.hostVeth, bridge);
  } catch (err) {
    await removeLink(deps, opts.hostVeth).catch(() => undefined);
    throw err;
  }
}

/**
 * The ip batch lines, run in the host namespace, that put a host veth end on its bridge. Hairpin:
 * with br_netfilter loaded (Docker's hosts), a container reaching its own published port is
 * DNATed at the bridge layer and must go back out the port it came in on.
 */
export function attachCommands(hostVeth: string, bridge: string): string[] {
  return [`link set ${hostVeth} master ${bridge}`, `link set ${hostVeth} type bridge_slave hairpin on`, `link set ${hostVeth} up`];
}

async function attachToBridge(deps: LinkDeps, hostVeth: string, bridge: string): Promise<void> {
  await ipBatch(deps, `attach ${hostVeth} to ${bridge}`, attachCommands(hostVeth, bridge));
}

/**
 * Removes the host veth end (its peer goes with it) and the namespace. Idempotent.
 */
export async function removeEndpoint(deps: LinkDeps, netnsPath: string, hostVeth: string): Promise<void> {
  await removeLink(deps, hostVeth);
  await removeNetns(deps, netnsPath);
}

/** Interface names from `ip -o link` text (strips "@peer"), for leak checks and recovery. */
export function parseLinkNames(ipOLink: string): string[] {
  const out: string[] = [];
  for (const line of ipOLink.split('\n')) {
    const m = /^\d+:\s+([^:@\s]+)/.exec(line);
    if (m) out.push(m[1]!);
  }
  return out;
}
