/**
 * Docker Engine API wire types (API 1.47), field names exactly as Docker sends them. Only lib/ may be
 * imported from here; the engine stores some of these shapes as they are (a container's HostConfig).
 */

export const API_VERSION = '1.47';
export const MIN_API_VERSION = '1.24';

export type * from './containers.ts';
export type * from './exec-stats.ts';
export type * from './images.ts';
export type * from './networks-volumes.ts';
export type * from './system.ts';
export type * from './build.ts';
