/**
 * `network ls` output as docker CLI 28 renders it (cli/command/network/formatter.go, list.go):
 * rows sorted by name in natural order, the NETWORK ID truncated to 12 characters, Go's
 * time.Time String() for CreatedAt. Also the natural order itself (fvbommel/sortorder), which
 * `port` uses too.
 */
import type * as api from '../../../api/types/index.ts';

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** sortorder.NaturalLess: digit runs compare by value, digits before other bytes. */
export function naturalLess(a: string, b: string): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    const da = isDigit(ca);
    const db = isDigit(cb);
    if (da !== db) return da;
    if (!da) {
      if (ca !== cb) return ca < cb;
      i++;
      j++;
      continue;
    }
    while (i < a.length && a[i] === '0') i++;
    while (j < b.length && b[j] === '0') j++;
    const nza = i;
    const nzb = j;
    while (i < a.length && isDigit(a.charCodeAt(i))) i++;
    while (j < b.length && isDigit(b.charCodeAt(j))) j++;
    if (i - nza !== j - nzb) return i - nza < j - nzb;
    const na = a.slice(nza, i);
    const nb = b.slice(nzb, j);
    if (na !== nb) return na < nb;
    // Same value: fewer leading zeros first.
    if (nza !== nzb) return nza < nzb;
  }
  return a.length < b.length;
}

/** A comparator for Array.prototype.sort from naturalLess. */
export const naturalCompare = (a: string, b: string): number => (naturalLess(a, b) ? -1 : naturalLess(b, a) ? 1 : 0);

/** stringid.TruncateID: drop an "algo:" prefix, keep 12 characters. */
export function truncateId(id: string): string {
  const i = id.indexOf(':');
  return (i >= 0 ? id.slice(i + 1) : id).slice(0, 12);
}

/**
 * An RFC 3339 timestamp as Go's time.Time.String() prints it once decoded from JSON:
 * "2024-05-01T10:00:00.120Z" → "2024-05-01 10:00:00.12 +0000 UTC"; an offset zone prints as
 * "+0200 +0200". Unparseable input comes back unchanged.
 */
export function goTimeString(rfc3339: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(rfc3339);
  if (!m) return rfc3339;
  const frac = (m[3] ?? '').slice(0, 9).replace(/0+$/, '');
  const zone = m[4] === 'Z' ? '+0000 UTC' : `${m[4]!.replace(':', '')} ${m[4]!.replace(':', '')}`;
  return `${m[1]} ${m[2]}${frac ? `.${frac}` : ''} ${zone}`;
}

/** Column titles for `--format 'table ...'`, by field (docker's SubHeaderContext). */
export const NETWORK_HEADERS: Readonly<Record<string, string>> = {
  ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv4: 'IPV4', IPv6: 'IPV6',
  Internal: 'INTERNAL', Labels: 'LABELS', CreatedAt: 'CREATED AT',
};

export const DEFAULT_NETWORK_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';

/** The object `--format` templates see for one network, with docker's field names. */
export function networkRow(n: api.NetworkResource, trunc: boolean) {
  const labels = n.Labels ?? {};
  return {
    ID: trunc ? truncateId(n.Id) : n.Id,
    Name: n.Name,
    Driver: n.Driver,
    Scope: n.Scope,
    IPv4: String(n.EnableIPv4 ?? true),
    IPv6: String(n.EnableIPv6 ?? false),
    Internal: String(n.Internal ?? false),
    Labels: Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(','),
    CreatedAt: goTimeString(n.Created ?? ''),
    Label: (name: string): string => labels[name] ?? '',
  };
}

/**
 * The format docker 28 uses for `network ls` (list.go + NewFormat): no --format means the
 * default table, or `{{.ID}}` with -q; an explicit `table` with -q is also just IDs.
 */
export function listFormat(format: string | undefined, quiet: boolean): string {
  const f = format ?? '';
  if (f === '' || f === 'table') return quiet ? '{{.ID}}' : DEFAULT_NETWORK_TABLE;
  return f;
}

/** Networks sorted by name in natural order, as `network ls` prints them. */
export const sortByName = (nets: readonly api.NetworkResource[]): api.NetworkResource[] =>
  [...nets].sort((a, b) => naturalCompare(a.Name, b.Name));
