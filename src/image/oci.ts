/**
 * The OCI image spec's documents (and Docker schema2's, which have the same shape): the image
 * config, content descriptors, image manifests and indexes. Field names are the spec's. These
 * are what berthd stores, reads from archives and registries, and writes on save and push; the
 * Engine API's views of an image (api/types) are made from them in api/.
 */
import type { ContainerConfig } from '../api/types/index.ts';

/** The platform an image is for (image-index.md "platform"; the config's os/architecture/variant). */
export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

/** A content descriptor (descriptor.md): what a manifest or index points at. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
}

/** An image manifest (manifest.md; Docker's schema2 application/vnd.docker.distribution.manifest.v2+json). */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** An image index (image-index.md; Docker's manifest list). */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

/** One entry of an image config's history: how a layer (or a config-only step) was made. */
export interface ConfigHistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/**
 * The image config blob (config.md; application/vnd.oci.image.config.v1+json and Docker's
 * application/vnd.docker.container.image.v1+json). Its sha256 is the image ID. `config` is the
 * container config in Docker's field names; Docker's legacy fields (container, container_config,
 * docker_version, parent) are kept as found, hence the index signature.
 */
export interface ImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  author?: string;
  config?: ContainerConfig;
  container_config?: ContainerConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: ConfigHistoryEntry[];
  [key: string]: unknown;
}
