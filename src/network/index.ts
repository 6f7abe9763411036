/**
 * The network subsystem's public surface (DESIGN "Networking"). Not wired into berthd yet:
 * IPAM, published-port parsing, nftables batches, namespaces and links, and the embedded DNS
 * server are built and tested on their own; the engine takes them up with the networking issue.
 */
export * from './ipam.ts';
export * from './ports.ts';
export * from './nft.ts';
export * from './netns.ts';
export * from './link.ts';
export * from './dns/index.ts';
export * from './bridge-driver.ts';
export * from './ipam6.ts';
