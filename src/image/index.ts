/**
 * Image formats and layers: chain IDs and configs, hostile-safe layer apply (with overlay
 * whiteouts), docker-archive / OCI layout reading and writing, compression sniffing.
 */
export { applyLayer, DEFAULT_MAX_LAYER_BYTES, DEFAULT_MAX_LAYER_ENTRIES } from './layer-apply.ts';
export type { ApplyLayerOptions, AppliedLayer, MakeWhiteouts } from './layer-apply.ts';
export { readImageArchive } from './archive-read.ts';
export type { ArchiveImage, ReadArchiveOptions, SpooledArchive } from './archive-read.ts';
export { writeImageArchive } from './archive-write.ts';
export type { OpenLayer, SaveImage } from './archive-write.ts';
export type { ConfigHistoryEntry, Descriptor, ImageConfig, ImageIndex, ImageManifest, Platform } from './oci.ts';
export { chainIds, imageIdOf, parseImageConfig, hostArchitecture, MediaType } from './config.ts';
export { abandonInput, decompress, detectCompression } from './compression.ts';
export type { Compression, DecompressOptions } from './compression.ts';
export { checkFreeSpace, DEFAULT_INFLATE_LIMITS } from './inflate-guard.ts';
export type { InflateLimits } from './inflate-guard.ts';
export { gzipLayer } from './gzip.ts';
