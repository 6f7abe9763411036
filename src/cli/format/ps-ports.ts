import type { Port } from '../../api/types/index.ts';

const joinHostPort = (ip: string, port: string | number): string => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

/**
 * `docker ps` PORTS column, a port of the CLI's DisplayablePorts: "0.0.0.0:8080->80/tcp",
 * identical host/container runs collapse ("0.0.0.0:9000-9002->9000-9002/tcp"), unpublished
 * exposed ports print as "80/tcp", comma-separated.
 */
export function formatPsPorts(ports: readonly Port[]): string {
  const sorted = [...ports].sort(
    (a, b) =>
      a.PrivatePort - b.PrivatePort ||
      (a.IP ?? '').localeCompare(b.IP ?? '') ||
      (a.PublicPort ?? 0) - (b.PublicPort ?? 0) ||
      a.Type.localeCompare(b.Type),
  );
  const groups = new Map<string, { first: number; last: number }>();
  const result: string[] = [];
  const hostMappings: string[] = [];
  for (const p of sorted) {
    const cur = p.PrivatePort;
    let key = p.Type;
    if (p.IP) {
      if (p.PublicPort !== cur) {
        hostMappings.push(`${joinHostPort(p.IP, p.PublicPort ?? 0)}->${cur}/${p.Type}`);
        continue;
      }
      key = `${p.IP}/${p.Type}`;
    }
    const g = groups.get(key);
    if (!g) groups.set(key, { first: cur, last: cur });
    else if (cur === g.last + 1) g.last = cur;
    else {
      result.push(formGroup(key, g.first, g.last));
      // Re-insert so the new group keeps the key's original position, as the Go map-of-keys does.
      g.first = cur;
      g.last = cur;
    }
  }
  for (const [key, g] of groups) result.push(formGroup(key, g.first, g.last));
  return [...result, ...hostMappings].join(', ');
}

function formGroup(key: string, first: number, last: number): string {
  const slash = key.lastIndexOf('/');
  const ip = slash >= 0 ? key.slice(0, slash) : '';
  const type = slash >= 0 ? key.slice(slash + 1) : key;
  let group = first === last ? `${first}` : `${first}-${last}`;
  if (ip !== '') group = `${joinHostPort(ip, group)}->${group}`;
  return `${group}/${type}`;
}
