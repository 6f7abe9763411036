import type * as api from '../types/index.ts';
import { processArgs, type ContainerDetails, type ContainerRecord, type ContainerSizes, type MountRecord } from '../../engine/index.ts';
import { containerStatusText } from '../../lib/units.ts';
import { containerNetworkSettings, summaryPorts } from './network-views.ts';

const WIRE_STATUS = (s: ContainerRecord['state']['status']): api.ContainerStateWire['Status'] =>
  s === 'creating' ? 'created' : s;

const sizeFields = (s: ContainerSizes | undefined) => (s ? { SizeRw: s.rw, SizeRootFs: s.rootFs } : {});

/** An entry of `Mounts` (inspect and ps): Name and Driver for volumes only, in dockerd's key order. */
export function toApiMountPoint(m: MountRecord): api.MountPoint {
  return {
    Type: m.type, ...(m.type === 'volume' ? { Name: m.name ?? '' } : {}), Source: m.source, Destination: m.destination,
    ...(m.type === 'volume' ? { Driver: m.driver ?? 'local' } : {}), Mode: m.mode, RW: m.rw, Propagation: m.propagation,
  };
}

/** GET /containers/{id}/json */
export function toContainerInspect(d: ContainerDetails): api.ContainerInspect {
  const { record: c, paths, execIds, graphData, networking: net } = d;
  const [path = '', ...args] = processArgs(c.config);
  const s = c.state;
  const status = WIRE_STATUS(s.status);
  return {
    Id: c.id, Created: c.createdAt, Path: path, Args: args,
    State: {
      Status: status, Running: status === 'running' || status === 'paused' || status === 'restarting', Paused: status === 'paused',
      Restarting: status === 'restarting', OOMKilled: s.oomKilled, Dead: status === 'dead', Pid: s.pid, ExitCode: s.exitCode,
      Error: s.error, StartedAt: s.startedAt, FinishedAt: s.finishedAt,
      // Present once a container with a health check has run (dockerd: State.Health non-nil).
      ...(s.health && c.config.Healthcheck ? { Health: s.health } : {}),
    },
    Image: c.imageId, ResolvConfPath: paths.resolvConfPath, HostnamePath: paths.hostnamePath, HostsPath: paths.hostsPath,
    LogPath: c.hostConfig.LogConfig?.Type === 'none' ? '' : paths.logPath,
    Name: `/${c.name}`, RestartCount: c.restartCount, Driver: 'overlay2', Platform: 'linux', MountLabel: '', ProcessLabel: '',
    AppArmorProfile: '', ExecIDs: execIds.length ? execIds : null,
    HostConfig: c.hostConfig.Links?.length ? { ...c.hostConfig, Links: c.hostConfig.Links.map((l) => dockerLink(c.name, l)) } : c.hostConfig,
    GraphDriver: { Name: 'overlay2', Data: graphData }, Mounts: d.mounts.map(toApiMountPoint), Config: c.config, NetworkSettings: containerNetworkSettings(c, net),
    ...sizeFields(d.sizes),
  };
}

/** `web:alias` as dockerd's inspect shows a link: `/web:/<container>/alias`. */
function dockerLink(name: string, link: string): string {
  const [target = '', alias] = link.split(':');
  const t = target.replace(/^\//, '');
  return `/${t}:/${name}/${(alias ?? t).replace(/^.*\//, '')}`;
}

/**
 * An entry of GET /containers/json. `withNetworks` false leaves Ports and Networks empty, as
 * `system df` has always sent them.
 */
export function toContainerSummary(d: ContainerDetails, withNetworks = true): api.ContainerSummary {
  const c = d.record;
  const net = withNetworks ? d.networking : undefined;
  // Docker quotes each argument with a space in it, but not the path: `sh -c 'sleep 300'`.
  const [path = '', ...args] = processArgs(c.config);
  const cmd = [path, ...args.map((a) => (a.includes(' ') ? `'${a}'` : a))].join(' ');
  return {
    Id: c.id, Names: [`/${c.name}`], Image: c.imageRef, ImageID: c.imageId, Command: cmd,
    Created: Math.floor(Date.parse(c.createdAt) / 1000), Ports: summaryPorts(c, net), Labels: c.config.Labels ?? {},
    State: WIRE_STATUS(c.state.status), Status: statusText(c), HostConfig: { NetworkMode: c.hostConfig.NetworkMode ?? 'none' },
    NetworkSettings: { Networks: containerNetworkSettings(c, net).Networks }, Mounts: d.mounts.map(toApiMountPoint),
    ...sizeFields(d.sizes),
  };
}

/** Docker's human status: "Up 5 minutes", "Exited (0) 2 seconds ago", "Created". */
export function statusText(c: ContainerRecord, now = Date.now()): string {
  const s = c.state;
  return containerStatusText({ Status: WIRE_STATUS(s.status), ExitCode: s.exitCode, StartedAt: s.startedAt, FinishedAt: s.finishedAt, ...(s.health ? { Health: s.health } : {}) }, new Date(now));
}
