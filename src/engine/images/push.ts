import { Readable } from 'node:stream';
import { gzipLayer, MediaType, type ImageManifest } from '../../image/index.ts';
import { Semaphore } from '../../lib/semaphore.ts';
import type { RepositorySession, UploadOutcome } from '../../registry/client/contract.ts';
import type { BlobStore } from '../../store/blob-store.ts';
import type { DistributionRecords, LayerBlobRow } from './distribution-records.ts';
import { layerProgress, progressMessage, type Progress } from '../../lib/progress.ts';
import { shortId, throttled, type MessageChannel } from './progress.ts';

const DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
const GZIP_TYPES = new Set([DOCKER_LAYER_GZIP, MediaType.ociLayerGzip]);

export interface PushDeps {
  blobs: BlobStore;
  dist: DistributionRecords;
  maxConcurrentUploads: number;
}

/** One image to push: its config bytes and its layers' diffIDs, base first. */
export interface PushImage {
  configBytes: Buffer;
  imageId: string;
  diffIds: readonly string[];
}

/**
 * Uploads an image's layers and config to `session`'s repository and PUTs a Docker schema2
 * manifest under `tag`; returns the manifest's digest and size. Per layer: a blob the registry
 * has is skipped ("Layer already exists"), one a sibling repository has is mounted ("Mounted
 * from x"), any other is sent — the stored gzip form when berthd has one, else the layer
 * compressed now (and kept, so the next push sends it as is).
 */
export async function pushImage(d: PushDeps, session: RepositorySession, img: PushImage, tag: string, out: MessageChannel, signal?: AbortSignal): Promise<{ digest: string; size: number }> {
  const { domain, path } = session.repo;
  const limit = new Semaphore(d.maxConcurrentUploads);
  // Docker lists a push's layers top first.
  const order = img.diffIds.map((diffId, i) => ({ diffId, i })).reverse();
  for (const { diffId } of order) out.push(layerProgress(shortId(diffId), 'Preparing'));
  const pushed = new Array<LayerBlobRow>(img.diffIds.length);
  await Promise.all(order.map(async ({ diffId, i }) => {
    const id = shortId(diffId);
    if (limit.busy) out.push(layerProgress(id, 'Waiting'));
    await limit.run(async () => {
      const blob = await gzipBlobOf(d, diffId, signal);
      const mountFrom = d.dist.sourcesOn(blob.digest, domain).find((r) => r !== path);
      const report = throttled(100, (sent) => out.push(layerProgress(id, 'Pushing', { current: sent, total: blob.size })));
      const outcome: UploadOutcome = await session.pushBlob(blob, () => d.blobs.open(blob.digest), {
        ...(mountFrom ? { mountFrom } : {}),
        onProgress: report,
        ...(signal ? { signal } : {}),
      });
      d.dist.addSource(blob.digest, domain, path);
      if (outcome.kind === 'exists') out.push(layerProgress(id, 'Layer already exists'));
      else if (outcome.kind === 'mounted') out.push(layerProgress(id, `Mounted from ${outcome.from}`));
      else out.push(layerProgress(id, 'Pushed'));
      pushed[i] = blob;
    });
  }));
  await session.pushBlob({ digest: img.imageId, size: img.configBytes.length }, async () => Readable.from([img.configBytes]), signal ? { signal } : {});
  const doc: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.dockerManifest,
    config: { mediaType: MediaType.dockerConfig, size: img.configBytes.length, digest: img.imageId },
    layers: pushed.map((b) => ({ mediaType: DOCKER_LAYER_GZIP, size: b.size, digest: b.digest })),
  };
  const manifest = Buffer.from(JSON.stringify(doc, null, 3));
  const digest = await session.putManifest(tag, MediaType.dockerManifest, manifest, signal);
  return { digest, size: manifest.length };
}

/** The stored gzip form of a layer, made (and recorded) when there is none. */
async function gzipBlobOf(d: PushDeps, diffId: string, signal?: AbortSignal): Promise<LayerBlobRow> {
  for (const row of d.dist.blobsOf(diffId)) {
    if (GZIP_TYPES.has(row.mediaType) && (await d.blobs.has(row.digest))) return row;
  }
  const stored = await d.blobs.put(gzipLayer(await d.blobs.open(diffId)), undefined, signal ? { signal } : {});
  const row = { digest: stored.digest, diffId, mediaType: DOCKER_LAYER_GZIP, size: stored.size };
  d.dist.addLayerBlob(row);
  return row;
}

/** The final lines of a pushed tag, as dockerd writes them. */
export function pushedMessages(tag: string, r: { digest: string; size: number }): Progress[] {
  return [
    progressMessage(`${tag}: digest: ${r.digest} size: ${r.size}`),
    // The client's record of what was pushed (docker's PushResult): Tag, Digest, Size.
    { kind: 'result', aux: { Tag: tag, Digest: r.digest, Size: r.size } },
  ];
}
