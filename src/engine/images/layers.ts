import type { Readable } from 'node:stream';
import { applyLayer, decompress, MediaType, type MakeWhiteouts } from '../../image/index.ts';
import type { Snapshotter } from '../../snapshot/index.ts';
import type { BlobStore } from '../../store/blob-store.ts';
import type { ImageRecords } from './records.ts';

/** What layer bookkeeping needs from the service's deps. */
export interface LayerDeps {
  blobs: BlobStore;
  snapshotter: Snapshotter;
  makeWhiteouts: MakeWhiteouts;
  records: ImageRecords;
  maxLayerBytes?: number;
}

export interface IngestRequest {
  /** Opens the layer as found (plain or gzip). */
  open: () => Promise<Readable>;
  /** The expected diffID (from the image config); unknown for an import. */
  diffId?: string;
  /** Chain ID of the layer below, null for the base. */
  parent: string | null;
  /** The chain ID, computable only when diffId is known. */
  chainId?: string;
  signal?: AbortSignal;
}

/**
 * Makes sure a layer is stored: its uncompressed tar in the blob store (digest = diffID, so save
 * is a straight copy; a wrong diffID is InvalidParameter) and unpacked once in the snapshotter.
 * The layer row is 'pending' while that happens and 'complete' after, so recovery can drop
 * half-done layers. Returns the diffID, chain ID and unpacked size.
 */
export async function ingestLayer(d: LayerDeps, req: IngestRequest): Promise<{ diffId: string; chainId: string; size: number }> {
  if (req.chainId && req.diffId) {
    const row = d.records.layer(req.chainId);
    if (row?.state === 'complete' && (await d.snapshotter.hasLayer(req.chainId)) && (await d.blobs.has(req.diffId))) {
      return { diffId: req.diffId, chainId: req.chainId, size: row.size };
    }
  }
  let diffId = req.diffId;
  if (diffId === undefined || !(await d.blobs.has(diffId))) {
    const plain = await decompress(await req.open());
    diffId = (await d.blobs.put(plain, diffId, req.signal ? { signal: req.signal } : {})).digest;
  }
  const chainId = req.chainId ?? diffId;
  const blobSize = await d.blobs.size(diffId);
  const row = { chainId, diffId, parent: req.parent, blob: diffId, blobSize, mediaType: MediaType.ociLayer, size: 0 };
  d.records.upsertLayer({ ...row, state: 'pending' });
  let size = -1;
  await d.snapshotter.ensureLayer(chainId, async (dir) => {
    const applied = await applyLayer(await d.blobs.open(diffId), dir, {
      makeWhiteouts: d.makeWhiteouts,
      ...(d.maxLayerBytes !== undefined ? { maxBytes: d.maxLayerBytes } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
    });
    size = applied.size;
  });
  if (size < 0) size = await d.snapshotter.layerSize(chainId);
  d.records.upsertLayer({ ...row, size, state: 'complete' });
  return { diffId, chainId, size };
}

/**
 * Removes the layers among `candidates` that no image row references any more: snapshot, row
 * and (unless another layer keeps it) blob. Returns the removed chain IDs and their sizes.
 */
export async function removeUnusedLayers(d: LayerDeps, candidates: Iterable<string>): Promise<{ chainId: string; size: number }[]> {
  const used = d.records.usedChainIds();
  const removed: { chainId: string; size: number }[] = [];
  for (const chainId of new Set(candidates)) {
    if (used.has(chainId)) continue;
    const row = d.records.layer(chainId);
    await d.snapshotter.removeLayer(chainId);
    d.records.deleteLayer(chainId);
    if (row?.blob && !d.records.blobUsedElsewhere(row.blob, chainId)) await d.blobs.delete(row.blob);
    removed.push({ chainId, size: row?.size ?? 0 });
  }
  return removed;
}
