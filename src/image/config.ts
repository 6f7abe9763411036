import { createHash } from 'node:crypto';
import { isDigest, sha256Digest } from '../lib/digest.ts';
import { invalid } from '../lib/errors.ts';
import type { ImageConfig } from './oci.ts';

/** OCI and Docker media types the image code reads and writes. */
export const MediaType = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
} as const;

/** Annotation keys that name an image in an OCI layout. */
export const ANNOTATION_IMAGE_NAME = 'io.containerd.image.name';
export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';

/**
 * Chain IDs per the OCI image spec: ChainID(L0) = DiffID(L0),
 * ChainID(L0|…|Ln) = sha256(ChainID(L0|…|Ln-1) + " " + DiffID(Ln)). One per layer, base first.
 */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? d : `sha256:${createHash('sha256').update(`${prev} ${d}`).digest('hex')}`);
  }
  return out;
}

/** The image ID: "sha256:" + sha256 of the config JSON bytes exactly as stored. */
export const imageIdOf = (configBytes: string | Uint8Array): string => sha256Digest(configBytes);

/**
 * Parses and checks an image config blob: a JSON object with os, architecture and
 * rootfs.diff_ids (sha256 digests). InvalidParameter otherwise.
 */
export function parseImageConfig(bytes: string | Uint8Array): ImageConfig {
  let c: unknown;
  try {
    c = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw invalid(`invalid image config: ${(err as Error).message}`, err);
  }
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw invalid('invalid image config: not an object');
  const cfg = c as Partial<ImageConfig>;
  const ids = cfg.rootfs?.diff_ids;
  if (cfg.rootfs?.type !== 'layers' || !Array.isArray(ids) || !ids.every((d) => typeof d === 'string' && isDigest(d))) {
    throw invalid('invalid image config: rootfs must be of type layers with sha256 diff_ids');
  }
  if (typeof cfg.os !== 'string' || typeof cfg.architecture !== 'string') throw invalid('invalid image config: missing os or architecture');
  return cfg as ImageConfig;
}

/** The OCI architecture name of this machine (amd64, arm64, …). */
export function hostArchitecture(): string {
  const map: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return map[process.arch] ?? process.arch;
}
