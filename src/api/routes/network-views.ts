import type * as api from '../types/index.ts';
import {
  containerPortMap, containerPorts, dnsNames, type Attached, type ContainerNetworking, type ContainerRecord, type NetworkRecord,
} from '../../engine/index.ts';

/** What the container views know of a container's networking. */
export type ContainerNetView = ContainerNetworking;

/** The prefix length of a stored (canonical) CIDR: "172.18.0.0/16" → 16. */
const prefixLength = (cidr: string): number => Number(cidr.slice(cidr.indexOf('/') + 1));

const EMPTY_ENDPOINT = {
  IPAMConfig: null, Links: null, Aliases: null, MacAddress: '', DriverOpts: null, NetworkID: '', EndpointID: '', Gateway: '',
  IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: null,
} satisfies api.EndpointSettings;

/** One entry of NetworkSettings.Networks, as Docker fills it (addresses only while running). */
function endpointSettings(c: ContainerRecord, a: Attached, running: boolean): api.EndpointSettings {
  const cfg = a.ep.config;
  const live = running && a.ep.ip !== null;
  const userNet = a.net.driver === 'bridge' && !a.net.builtin;
  return {
    ...EMPTY_ENDPOINT,
    IPAMConfig: cfg.IPAMConfig ?? null,
    Links: cfg.Links?.length ? cfg.Links : null,
    Aliases: cfg.Aliases?.length ? cfg.Aliases : null,
    // Kept as the client sent it (docker network connect sends {} when no --driver-opt is given).
    DriverOpts: cfg.DriverOpts ?? null,
    MacAddress: live ? a.ep.mac ?? '' : cfg.MacAddress ?? '',
    NetworkID: a.net.id,
    EndpointID: live || a.net.driver !== 'bridge' ? a.ep.endpointId : '',
    ...(live ? { Gateway: a.net.gateway, IPAddress: a.ep.ip!, IPPrefixLen: prefixLength(a.net.subnet) } : {}),
    ...(live && a.ep.ip6 ? { IPv6Gateway: a.net.gateway6, GlobalIPv6Address: a.ep.ip6, GlobalIPv6PrefixLen: prefixLength(a.net.subnet6) } : {}),
    DNSNames: userNet ? dnsNames(c, cfg) : null,
  };
}

export function containerNetworkSettings(c: ContainerRecord, v: ContainerNetView | undefined): api.NetworkSettings {
  const attached = v?.attached ?? [];
  const running = v?.running ?? false;
  const networks: Record<string, api.EndpointSettings> = {};
  for (const a of attached) networks[a.net.name] = endpointSettings(c, a, running);
  // The deprecated top-level fields mirror the default bridge only, as in Docker.
  const bridge = attached.find((a) => a.net.builtin && a.net.driver === 'bridge');
  const top = bridge ? networks[bridge.net.name]! : EMPTY_ENDPOINT;
  const ports = containerPortMap(c, v);
  return {
    Bridge: '', SandboxID: running && v?.sandboxKey ? c.id : '', SandboxKey: running ? v?.sandboxKey ?? '' : '', Ports: ports,
    HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0, SecondaryIPAddresses: null, SecondaryIPv6Addresses: null,
    EndpointID: top.EndpointID ?? '', Gateway: top.Gateway ?? '', GlobalIPv6Address: top.GlobalIPv6Address ?? '', GlobalIPv6PrefixLen: top.GlobalIPv6PrefixLen ?? 0,
    IPAddress: top.IPAddress ?? '', IPPrefixLen: top.IPPrefixLen ?? 0, IPv6Gateway: top.IPv6Gateway ?? '', MacAddress: top.MacAddress ?? '',
    Networks: networks,
  };
}

/** ContainerSummary.Ports: exposed and published ports of a running container. */
export function summaryPorts(c: ContainerRecord, v: ContainerNetView | undefined): api.Port[] {
  return containerPorts(c, v);
}

/** GET /networks/{id}; `Containers` lists running endpoints only, as Docker does. */
export function toNetworkResource(n: NetworkRecord, members: { id: string; name: string; a: Attached }[], withContainers: boolean): api.NetworkResource {
  const containers: Record<string, api.NetworkContainer> = {};
  if (withContainers) {
    for (const m of members) {
      if (n.driver === 'bridge' && !m.a.ep.ip) continue;
      containers[m.id] = {
        Name: m.name, EndpointID: m.a.ep.endpointId, MacAddress: m.a.ep.mac ?? '',
        IPv4Address: m.a.ep.ip ? `${m.a.ep.ip}/${prefixLength(n.subnet)}` : '',
        IPv6Address: m.a.ep.ip6 ? `${m.a.ep.ip6}/${prefixLength(n.subnet6)}` : '',
      };
    }
  }
  return {
    Name: n.name, Id: n.id, Created: n.createdAt, Scope: 'local', Driver: n.driver, EnableIPv4: true, EnableIPv6: n.enableIPv6,
    // dockerd: host and none have no pools (Config null); Options is the map the client sent, or null.
    IPAM: { Driver: n.ipam.Driver || 'default', Options: n.ipam.Options ?? null, Config: n.ipam.Config?.length ? n.ipam.Config : null },
    Internal: n.internal, Attachable: n.attachable, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false,
    Containers: containers, Options: n.options, Labels: n.labels,
  };
}
