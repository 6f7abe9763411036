/**
 * The embedded DNS of user-defined networks: one DnsServer per network, on its gateway address,
 * answering from one shared name table. A client is identified by its source address; a
 * container on several networks resolves names on all of them (as with Docker). Upstreams are
 * the host's resolv.conf nameservers, re-read when the file changes (loopback ones included:
 * berthd, on the host, can reach systemd-resolved where containers cannot).
 */
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { DnsRecords, DnsServer, readHostResolvers, type DnsLookup, type DnsRecordSource, type UpstreamResolver } from '../../network/index.ts';

export interface DnsHubDeps {
  hostResolvConf: string;
  log: { warn(o: object, m?: string): void; debug(o: object, m?: string): void };
}

export class DnsHub {
  readonly records = new DnsRecords();
  readonly #servers = new Map<string, DnsServer>();
  /** Client address → the networks of the container holding it, and its own --dns servers. */
  readonly #clients = new Map<string, { nets: Set<string>; dns: UpstreamResolver[] }>();
  #upstreams: UpstreamResolver[] = [];
  #watcher: FSWatcher | undefined;

  constructor(readonly deps: DnsHubDeps) {
    this.#reloadUpstreams();
    try {
      // The directory, not the file: resolvers replace resolv.conf by rename.
      const file = basename(deps.hostResolvConf);
      this.#watcher = watch(dirname(deps.hostResolvConf), (_e, f) => { if (!f || String(f) === file) this.#reloadUpstreams(); });
      this.#watcher.unref();
    } catch (err) {
      deps.log.warn({ err }, 'watch host resolv.conf');
    }
  }

  #reloadUpstreams(): void {
    let text = '';
    try { text = readFileSync(this.deps.hostResolvConf, 'utf8'); } catch { /* none: no upstreams */ }
    this.#upstreams = readHostResolvers(text);
    this.deps.log.debug({ upstreams: this.#upstreams }, 'dns upstreams');
  }

  /** Starts the server for a network on its gateway; failure is logged, the network still works. */
  async serve(networkId: string, gateway: string): Promise<void> {
    if (this.#servers.has(networkId)) return;
    const source: DnsRecordSource = {
      lookup: (client, name) => this.#lookup(client, name),
      reverse: (client, address) => this.#reverse(client, address),
    };
    const server = new DnsServer({
      records: source,
      // The "network" the server scopes to is the client address itself; we fan out below.
      networkOf: (addr) => (this.#clients.has(addr) ? addr : undefined),
      // A container's --dns servers replace the host's for it, as with Docker's embedded DNS.
      upstreams: (client) => {
        const own = client ? this.#clients.get(client)?.dns : undefined;
        return own && own.length ? own : this.#upstreams;
      },
      onError: (err, context) => this.deps.log.warn({ err, context, networkId }, 'dns server'),
    }, { address: gateway, port: 53 });
    try {
      await server.listen();
      this.#servers.set(networkId, server);
    } catch (err) {
      this.deps.log.warn({ err, networkId, gateway }, 'embedded DNS server could not start');
    }
  }

  async stop(networkId: string): Promise<void> {
    const s = this.#servers.get(networkId);
    this.#servers.delete(networkId);
    this.records.removeNetwork(networkId);
    await s?.close();
  }

  /**
   * Makes a container's names resolvable on a network (A, and AAAA on a dual-stack network) and
   * lets its address ask. Clients ask over IPv4 (127.0.0.11 is redirected to the IPv4 gateway).
   */
  register(networkId: string, addr: { ip: string; ip6?: string | null }, names: string[], containerIps: readonly string[], containerNetworks: readonly string[], dns: readonly string[] = []): void {
    const ip = addr.ip;
    this.records.register(networkId, { names, ipv4: ip, ...(addr.ip6 ? { ipv6: addr.ip6 } : {}) });
    const upstreams = readHostResolvers(dns.map((a) => `nameserver ${a}`).join('\n'));
    for (const a of containerIps) this.#clients.set(a, { nets: new Set(containerNetworks), dns: upstreams });
  }

  /** Forgets the endpoint at once: the next query for its names gets NXDOMAIN (or upstream). */
  unregister(networkId: string, ip: string, containerIps: readonly string[], containerNetworks: readonly string[]): void {
    this.records.unregister(networkId, { ipv4: ip });
    const dns = this.#clients.get(ip)?.dns ?? [];
    this.#clients.delete(ip);
    for (const a of containerIps) if (a !== ip) this.#clients.set(a, { nets: new Set(containerNetworks), dns });
  }

  #lookup(client: string, name: string): DnsLookup | undefined {
    const nets = this.#clients.get(client)?.nets;
    if (!nets) return undefined;
    let found: DnsLookup | undefined;
    for (const n of nets) {
      const r = this.records.lookup(n, name);
      if (r) found = { ipv4: [...(found?.ipv4 ?? []), ...r.ipv4], ipv6: [...(found?.ipv6 ?? []), ...r.ipv6] };
    }
    return found;
  }

  #reverse(client: string, address: string): string | undefined {
    for (const n of this.#clients.get(client)?.nets ?? []) {
      const r = this.records.reverse(n, address);
      if (r) return r;
    }
    return undefined;
  }

  async close(): Promise<void> {
    this.#watcher?.close();
    await Promise.all([...this.#servers.values()].map((s) => s.close()));
    this.#servers.clear();
  }
}
