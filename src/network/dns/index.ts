/**
 * berthd's embedded DNS for user-defined networks. The daemon builds one DnsRecords, shares it with
 * one DnsServer per network gateway, and feeds upstreams from readHostResolvers(host resolv.conf).
 */
export { DnsServer, type DnsServerDeps, type DnsServerOptions } from './dns-server.ts';
export { DnsRecords, normalizeName, type DnsEndpoint, type DnsLookup, type DnsRecordSource } from './dns-records.ts';
export { readHostResolvers, type UpstreamResolver } from './host-resolvers.ts';
export type { DnsTransport } from './dns-forwarder.ts';
