import { isIP } from 'node:net';

/** An upstream resolver the DNS server forwards to. */
export interface UpstreamResolver {
  address: string;
  port: number;
}

/**
 * Parses the host's resolv.conf text into the resolvers berthd forwards to, in file order and
 * without duplicates. Unlike the resolv.conf written into containers, loopback resolvers
 * (systemd-resolved's 127.0.0.53, a local dnsmasq) are kept: berthd runs on the host and can
 * reach them, which is the point of forwarding through it. A zone suffix (fe80::1%eth0) is kept
 * for the socket layer. Malformed lines are ignored; an empty result means "no resolvers", and
 * the caller decides on a fallback. Never throws.
 */
export function readHostResolvers(text: string): UpstreamResolver[] {
  const out: UpstreamResolver[] = [];
  const seen = new Set<string>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, value] = line.split(/\s+/);
    if (key !== 'nameserver' || value === undefined) continue;
    const bare = value.split('%')[0] ?? '';
    if (isIP(bare) === 0 || seen.has(value)) continue;
    seen.add(value);
    out.push({ address: value, port: 53 });
  }
  return out;
}
