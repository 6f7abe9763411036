import { isIP } from 'node:net';

/**
 * The address a reverse-lookup name stands for: `4.3.2.1.in-addr.arpa` → `1.2.3.4`, and the
 * 32-nibble `…ip6.arpa` form → a colon-separated IPv6 address. Undefined for anything else
 * (partial zones, bad labels). Case-insensitive, trailing dot optional. Never throws.
 */
export function ptrAddress(name: string): string | undefined {
  const n = name.toLowerCase().replace(/\.$/, '');
  if (n.endsWith('.in-addr.arpa')) {
    const labels = n.slice(0, -'.in-addr.arpa'.length).split('.');
    if (labels.length !== 4 || !labels.every((l) => /^(0|[1-9]\d{0,2})$/.test(l))) return undefined;
    const addr = labels.reverse().join('.');
    return isIP(addr) === 4 ? addr : undefined;
  }
  if (n.endsWith('.ip6.arpa')) {
    const nibbles = n.slice(0, -'.ip6.arpa'.length).split('.');
    if (nibbles.length !== 32 || !nibbles.every((x) => /^[0-9a-f]$/.test(x))) return undefined;
    const hex = nibbles.reverse().join('');
    return hex.match(/.{4}/g)!.join(':');
  }
  return undefined;
}
