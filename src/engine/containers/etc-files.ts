import { readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';

/** Inputs for the files Docker generates in each container's /etc. */
export interface EtcInput {
  hostname: string;
  domainname: string;
  networkMode: string;
  /** The container's address on its network, if it has one. */
  ip?: string;
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
    return base + extraLines(i.extraHosts);
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
  if (i.ip) lines.push(`${i.ip}\t${fq}`);
  return lines.join('\n') + '\n' + extraLines(i.extraHosts);
}

function extraLines(extra: readonly string[]): string {
  // --add-host name:ip (Docker also accepts name=ip since 25.0).
  return extra.map((h) => {
    const m = /^([^:=]+)[:=](.+)$/.exec(h);
    return m ? `${m[2]}\t${m[1]}\n` : '';
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
