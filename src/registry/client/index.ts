/**
 * The OCI distribution client: RegistryClient implements the contract the image engine uses
 * (contract.ts). RegistryError carries the registry's status and error codes for the engine's
 * wording ("manifest for x not found: …", "pull access denied for x, …").
 */
export type * from './contract.ts';
export { RegistryClient, type RegistryClientTuning } from './client.ts';
export { RegistryError, TransportError, type DistributionErrorEntry } from './errors.ts';
export type { RegistryLogger } from './http.ts';
export { MEDIA_TYPES } from './manifests.ts';
