import { isIP } from 'node:net';

/**
 * One endpoint's names on one network: the container name, its aliases and its short ID, and the
 * addresses the endpoint holds there. Names are matched case-insensitively, with or without a
 * trailing dot; the client applies its own search domains, so only exact names match.
 */
export interface DnsEndpoint {
  names: string[];
  ipv4: string;
  /** Optional IPv6 address; without it AAAA queries for the names get an empty NOERROR answer. */
  ipv6?: string;
}

/** Result of a forward lookup: every address registered under the name (round robin in Docker). */
export interface DnsLookup {
  ipv4: string[];
  ipv6: string[];
}

/**
 * What the DNS server reads. The engine owns the data; the server only asks, per query, scoped to
 * the network of the client that asked. Implementations must answer synchronously and cheaply.
 */
export interface DnsRecordSource {
  /** Addresses registered under `name` on `networkId`, or undefined when the network does not know the name. */
  lookup(networkId: string, name: string): DnsLookup | undefined;
  /** The first name of the endpoint holding `address` on `networkId`, or undefined. */
  reverse(networkId: string, address: string): string | undefined;
}

/** Lower-case and strip one trailing dot: the key under which names are stored and looked up. */
export function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/**
 * In-memory name table for user-defined networks, shared by every DnsServer of one daemon.
 * Lifecycle: the engine registers an endpoint when a container joins a network (start, connect)
 * and unregisters it when it leaves (stop, disconnect, rm); changes are visible to the very next
 * query, so a removed container stops resolving at once. Endpoints are keyed by their IPv4 address,
 * which IPAM makes unique within a network. Nothing here throws except register on bad input.
 */
export class DnsRecords implements DnsRecordSource {
  // networkId → ipv4 → endpoint; and networkId → name → set of ipv4 for O(1) lookups.
  readonly #endpoints = new Map<string, Map<string, DnsEndpoint>>();
  readonly #names = new Map<string, Map<string, Set<string>>>();

  /**
   * Adds (or replaces, when the IPv4 address is already registered) an endpoint on a network.
   * Throws TypeError for an invalid IPv4/IPv6 address: that is a caller bug, not user input.
   */
  register(networkId: string, endpoint: DnsEndpoint): void {
    if (isIP(endpoint.ipv4) !== 4) throw new TypeError(`dns register: invalid ipv4 ${endpoint.ipv4}`);
    if (endpoint.ipv6 !== undefined && isIP(endpoint.ipv6) !== 6) {
      throw new TypeError(`dns register: invalid ipv6 ${endpoint.ipv6}`);
    }
    this.unregister(networkId, endpoint);
    const copy: DnsEndpoint = {
      names: [...new Set(endpoint.names.map(normalizeName).filter((n) => n !== ''))],
      ipv4: endpoint.ipv4,
      ...(endpoint.ipv6 !== undefined ? { ipv6: endpoint.ipv6 } : {}),
    };
    let eps = this.#endpoints.get(networkId);
    if (!eps) this.#endpoints.set(networkId, (eps = new Map()));
    eps.set(copy.ipv4, copy);
    let names = this.#names.get(networkId);
    if (!names) this.#names.set(networkId, (names = new Map()));
    for (const n of copy.names) {
      let set = names.get(n);
      if (!set) names.set(n, (set = new Set()));
      set.add(copy.ipv4);
    }
  }

  /** Removes the endpoint holding `endpoint.ipv4` on the network; a no-op when there is none. */
  unregister(networkId: string, endpoint: Pick<DnsEndpoint, 'ipv4'>): void {
    const eps = this.#endpoints.get(networkId);
    const old = eps?.get(endpoint.ipv4);
    if (!eps || !old) return;
    eps.delete(old.ipv4);
    const names = this.#names.get(networkId);
    for (const n of old.names) {
      const set = names?.get(n);
      set?.delete(old.ipv4);
      if (set?.size === 0) names?.delete(n);
    }
    if (eps.size === 0) {
      this.#endpoints.delete(networkId);
      this.#names.delete(networkId);
    }
  }

  /** Forgets every endpoint of a network (network removal). */
  removeNetwork(networkId: string): void {
    this.#endpoints.delete(networkId);
    this.#names.delete(networkId);
  }

  lookup(networkId: string, name: string): DnsLookup | undefined {
    const set = this.#names.get(networkId)?.get(normalizeName(name));
    if (!set || set.size === 0) return undefined;
    const eps = this.#endpoints.get(networkId);
    const ipv4: string[] = [];
    const ipv6: string[] = [];
    for (const a of set) {
      ipv4.push(a);
      const v6 = eps?.get(a)?.ipv6;
      if (v6 !== undefined) ipv6.push(v6);
    }
    return { ipv4, ipv6 };
  }

  reverse(networkId: string, address: string): string | undefined {
    const eps = this.#endpoints.get(networkId);
    if (!eps) return undefined;
    if (isIP(address) === 4) return eps.get(address)?.names[0];
    for (const ep of eps.values()) if (ep.ipv6 !== undefined && sameIpv6(ep.ipv6, address)) return ep.names[0];
    return undefined;
  }
}

/** Compares two IPv6 addresses by their expanded form (the textual forms may differ). */
function sameIpv6(a: string, b: string): boolean {
  return expandIpv6(a) === expandIpv6(b);
}

/** 32 lower-case hex digits for an IPv6 address, or '' when it is not one. */
export function expandIpv6(address: string): string {
  if (isIP(address) !== 6) return '';
  let addr = address.toLowerCase();
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hextets.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(addr);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    addr = addr.slice(0, v4.index) + ((a << 8) | b).toString(16) + ':' + ((c << 8) | d).toString(16);
  }
  const [head = '', tail] = addr.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? [] : new Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((x) => x.padStart(4, '0')).join('');
}
