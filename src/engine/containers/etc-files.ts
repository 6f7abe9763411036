import { readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';

/** Inputs for the files Docker generates in each container's /etc. */
export interface EtcInput {
  hostname: string;
  domainname: string;
  networkMode: string;
  /** The container's address on its network, if it has one, and its IPv6 address on a dual-stack network. */
  ip?: string;
  ip6?: string;
  /** --link entries: "IP\talias hostname name", as Docker writes them. */
  links?: readonly { ip: string; names: readonly string[] }[];
  /** Attached to a user-defined network: the embedded DNS answers at 127.0.0.11. */
  embeddedDns?: boolean;
  /** What --add-host's `host-gateway` stands for (the default bridge's gateway). */
  hostGateway?: string;
  extraHosts: readonly string[];
  dns: readonly string[];
  dnsSearch: readonly string[];
  dnsOptions: readonly string[];
  hostResolvConf: string;
  hostHosts: string;
}

export function hostnameFile(i: EtcInput): string {
  return `${i.networkMode === 'host' ? osHostname() : i.hostname}\n`;
}

/** /etc/hosts as Docker writes it; with --network host, the host's own file. */
export function hostsFile(i: EtcInput): string {
  if (i.networkMode === 'host') {
    // The host file may lack its final newline; --add-host lines must not join its last line.
    const base = i.hostHosts === '' || i.hostHosts.endsWith('\n') ? i.hostHosts : `${i.hostHosts}\n`;
    return base + extraLines(i.extraHosts, i.hostGateway);
  }
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
  ];
  const fq = i.domainname ? `${i.hostname}.${i.domainname} ${i.hostname}` : i.hostname;
  // Docker's order: the defaults, --add-host and --link entries, then the container's own name.
  const links = (i.links ?? []).map((l) => `${l.ip}\t${l.names.join(' ')}\n`).join('');
  // dockerd 27 lists each of the endpoint's addresses (libnetwork getEtcHostsAddrs): IPv4, then IPv6.
  const own = [i.ip, i.ip6].filter(Boolean).map((a) => `${a}\t${fq}\n`).join('');
  return lines.join('\n') + '\n' + extraLines(i.extraHosts, i.hostGateway) + links + own;
}

function extraLines(extra: readonly string[], hostGateway: string | undefined): string {
  // --add-host name:ip (Docker also accepts name=ip since 25.0); host-gateway is the bridge's gateway.
  return extra.map((h) => {
    const m = /^([^:=]+)[:=](.+)$/.exec(h);
    if (!m) return '';
    const ip = m[2] === 'host-gateway' ? hostGateway ?? '' : m[2]!.replace(/^\[|\]$/g, '');
    return ip ? `${ip}\t${m[1]}\n` : '';
  }).join('');
}

const LOOPBACK = /^(127\.|::1$)/;

/**
 * resolv.conf: the host's, with --dns/--dns-search/--dns-option replacing its parts. Loopback
 * nameservers are unreachable from a container's own network namespace, so they are dropped, and
 * Docker's public defaults stand in when none is left.
 */
export function resolvConfFile(i: EtcInput): string {
  const host = parseResolvConf(i.hostResolvConf);
  if (i.embeddedDns) {
    // berthd's server forwards what it does not know to the host's resolvers, loopback ones too.
    const search = i.dnsSearch.length ? i.dnsSearch : host.search;
    const options = i.dnsOptions.length ? [...i.dnsOptions] : [...host.options];
    if (!options.some((o) => o.startsWith('ndots:'))) options.unshift('ndots:0');
    let out = 'nameserver 127.0.0.11\n';
    if (search.length && !(search.length === 1 && search[0] === '.')) out += `search ${search.join(' ')}\n`;
    return out + `options ${options.join(' ')}\n`;
  }
  if (i.networkMode === 'host' && i.dns.length === 0 && i.dnsSearch.length === 0 && i.dnsOptions.length === 0) return i.hostResolvConf;
  let ns = i.dns.length ? [...i.dns] : host.nameservers.filter((n) => i.networkMode === 'host' || !LOOPBACK.test(n));
  if (ns.length === 0) ns = ['8.8.8.8', '8.8.4.4'];
  const search = i.dnsSearch.length ? i.dnsSearch : host.search;
  const options = i.dnsOptions.length ? i.dnsOptions : host.options;
  let out = '';
  if (search.length && !(search.length === 1 && search[0] === '.')) out += `search ${search.join(' ')}\n`;
  for (const n of ns) out += `nameserver ${n}\n`;
  if (options.length) out += `options ${options.join(' ')}\n`;
  return out;
}

export function parseResolvConf(text: string): { nameservers: string[]; search: string[]; options: string[] } {
  const r = { nameservers: [] as string[], search: [] as string[], options: [] as string[] };
  for (const line of text.split('\n')) {
    const [key, ...rest] = line.trim().split(/\s+/);
    if (key === 'nameserver' && rest[0]) r.nameservers.push(rest[0]);
    else if (key === 'search' || key === 'domain') r.search = rest;
    else if (key === 'options') r.options.push(...rest);
  }
  return r;
}

export function readHostFile(path: string): string {
  try { return readFileSync(path, 'utf8'); } catch { return ''; }
}
