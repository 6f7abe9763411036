import { mkdir, writeFile } from 'node:fs/promises';
import type { ContainerCreateBody } from '../../api/types/index.ts';
import { bestEffort } from '../../lib/best-effort.ts';
import { EngineError } from '../../lib/errors.ts';
import { isValidContainerName, newId } from '../../lib/ids.ts';
import { generateName } from '../../lib/names.ts';
import { mergeConfig, normalizeHostConfig } from './config-merge.ts';
import { resolveVisibleOrUndefined, type ContainerContext } from './context.ts';
import type { SandboxInfo } from './deps.ts';
import { hostnameFile, hostsFile, readHostFile, resolvConfFile, type EtcInput } from './etc-files.ts';
import { moveTo } from './lifecycle-table.ts';
import type { ContainerPaths } from './paths.ts';
import { initialState, type ContainerRecord } from './record.ts';
import { discard } from './remove.ts';
import { validateCreate } from './validate.ts';
import { resolveSharedNamespaces } from './validate-host.ts';

/**
 * POST /containers/create: validates, records a `creating` row (the intent), plans networks and
 * volumes, makes the rootfs and /etc files, then shows the container (`created`). A create that
 * fails leaves nothing: its row and files go (or stay `creating`, invisible, for recovery to
 * finish when even that fails). Throws InvalidParameter, NotFound (image), Conflict (name).
 */
export async function createContainer(ctx: ContainerContext, body: ContainerCreateBody, requestedName?: string): Promise<{ id: string; warnings: string[] }> {
  if (!body.Image) throw new EngineError('InvalidParameter', 'config cannot be empty in order to create a container');
  let name = requestedName?.replace(/^\//, '');
  if (name !== undefined && name !== '' && !isValidContainerName(name)) {
    throw new EngineError('InvalidParameter', `Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  const { deps, repo } = ctx;
  const hostConfig = normalizeHostConfig(body.HostConfig, deps.config.defaultRuntime, deps.config.defaultLogConfig);
  const warnings = validateCreate(body, hostConfig, body.HostConfig);
  ctx.runtimeFor(hostConfig.Runtime!);
  Object.assign(hostConfig, resolveSharedNamespaces(hostConfig, (ref) => resolveVisibleOrUndefined(repo, ref)?.id));
  const image = await deps.images.resolve(body.Image);
  const id = newId();
  let config = mergeConfig(body, image.config.config, id, body.Image);
  const joins = (hostConfig.NetworkMode ?? '').startsWith('container:') ? resolveVisibleOrUndefined(repo, hostConfig.NetworkMode!.slice('container:'.length)) : undefined;
  // A container in another's network namespace takes its names (dockerd: initializeNetworking).
  if (joins && !body.Hostname) config = { ...config, Hostname: joins.config.Hostname, Domainname: joins.config.Domainname };
  if (!name) name = generateName((n) => repo.nameTaken(n));
  const record: ContainerRecord = {
    id, name, imageId: image.id, imageRef: body.Image, createdAt: new Date().toISOString(), config, hostConfig,
    runtime: hostConfig.Runtime!, restartCount: 0, state: initialState(),
  };
  // Intent first: a 'creating' row is invisible to clients and removed by recovery if we die here.
  repo.insert(record);
  const paths = ctx.paths(id);
  try {
    // The network checks see the requested hostname, not the default (-h with container: is refused).
    if (deps.network) warnings.push(...deps.network.plan({ ...record, config: { ...config, Hostname: body.Hostname ?? '' } }, body.NetworkingConfig));
    await deps.volumes?.plan(record);
    await mkdir(paths.persistDir, { recursive: true, mode: 0o700 });
    await deps.rootfs.prepare(id, image.chainIds);
    await writeEtcFiles(ctx, record, paths);
  } catch (err) {
    // Left `creating` if this fails too: recovery discards it at the next start.
    await bestEffort(deps.log, 'discard a container whose create failed', id, () => discard(ctx, record));
    throw err;
  }
  moveTo(record, 'created', 'created');
  repo.saveState(id, record.state);
  ctx.publish('create', record);
  return { id, warnings };
}

/** hostname, hosts and resolv.conf for the container: at create, and at each start with the run's addresses. */
export async function writeEtcFiles(ctx: ContainerContext, c: ContainerRecord, paths: ContainerPaths, sandbox?: SandboxInfo): Promise<void> {
  const hc = c.hostConfig;
  const hostGateway = ctx.deps.network?.hostGateway();
  const input: EtcInput = {
    hostname: c.config.Hostname ?? c.id.slice(0, 12), domainname: c.config.Domainname ?? '',
    networkMode: hc.NetworkMode ?? 'none', ...(sandbox?.ip ? { ip: sandbox.ip } : {}), ...(sandbox?.ip6 ? { ip6: sandbox.ip6 } : {}), links: sandbox?.links ?? [],
    embeddedDns: sandbox?.embeddedDns ?? false, ...(hostGateway ? { hostGateway } : {}), extraHosts: hc.ExtraHosts ?? [], dns: hc.Dns ?? [], dnsSearch: hc.DnsSearch ?? [],
    dnsOptions: hc.DnsOptions ?? [], hostResolvConf: readHostFile('/etc/resolv.conf'), hostHosts: readHostFile('/etc/hosts'),
  };
  await writeFile(paths.hostnamePath, hostnameFile(input));
  await writeFile(paths.hostsPath, hostsFile(input));
  await writeFile(paths.resolvConfPath, resolvConfFile(input));
}
