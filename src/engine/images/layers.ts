import { createReadStream } from 'node:fs';
import { open, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { isErrno } from '../../lib/errors.ts';
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
  /** The data root: its free space is checked while layers are decompressed. */
  dataRoot?: string;
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
  /**
   * A file on the data root's filesystem holding exactly the layer's uncompressed tar, already
   * verified against diffId (a load's spooled `blobs/sha256/<diffId>`): the blob store takes the
   * file over (fsync, rename) instead of copying it. The file is gone afterwards.
   */
  verifiedFile?: string;
  /**
   * A directory holding this layer already unpacked in the snapshotter's format (the upper dir of
   * an unmounted build snapshot, whose tar is the blob): its entries are moved into the new layer
   * instead of unpacking the blob again. Left as it was if the layer exists already.
   */
  prepared?: string;
  signal?: AbortSignal;
}

/**
 * Makes sure a layer is stored: its uncompressed tar in the blob store (digest = diffID, so save
 * is a straight copy; a wrong diffID is InvalidParameter) and unpacked once in the snapshotter.
 * The layer row is 'pending' while that happens and 'complete' after, so recovery can drop
 * half-done layers (row, snapshot and blob). With a known diffID the layer is read once: the
 * uncompressed stream goes to the blob store and to the unpacker at the same time, so the blob's
 * writes (thread pool) overlap the unpacking (this thread); the snapshot is committed only when
 * both succeeded. Returns the diffID, chain ID and unpacked size.
 */
export async function ingestLayer(d: LayerDeps, req: IngestRequest): Promise<{ diffId: string; chainId: string; size: number }> {
  if (req.chainId && req.diffId) {
    const row = d.records.layer(req.chainId);
    if (row?.state === 'complete' && (await d.snapshotter.hasLayer(req.chainId)) && (await d.blobs.has(req.diffId))) {
      return { diffId: req.diffId, chainId: req.chainId, size: row.size };
    }
  }
  const signal = req.signal ? { signal: req.signal } : {};
  const plain = async () => decompress(await req.open(), { what: 'invalid layer', ...(d.dataRoot !== undefined ? { spaceRoot: d.dataRoot } : {}) });
  // No hashing while unpacking: every input below is verified against the diffID elsewhere (a
  // blob read by its digest, a spool file checked while spooled, a stream the blob store checks).
  const applyOpts = { makeWhiteouts: d.makeWhiteouts, hash: false, ...(d.maxLayerBytes !== undefined ? { maxBytes: d.maxLayerBytes } : {}), ...signal };
  let diffId = req.diffId;
  let needBlob = diffId === undefined || !(await d.blobs.has(diffId));
  if (diffId === undefined) {
    // An import: the diffID (and so the chain ID, the snapshot's name) is known once stored.
    diffId = (await d.blobs.put(await plain(), undefined, signal)).digest;
    needBlob = false;
  }
  const known = diffId;
  const chainId = req.chainId ?? known;
  const row = { chainId, diffId: known, parent: req.parent, blob: known, mediaType: MediaType.ociLayer, size: 0 };
  d.records.upsertLayer({ ...row, blobSize: needBlob ? null : await d.blobs.size(known), state: 'pending' });
  let size = -1;
  await d.snapshotter.ensureLayer(chainId, async (dir) => {
    if (!needBlob && req.prepared !== undefined) {
      for (const name of await readdir(req.prepared)) await rename(join(req.prepared, name), join(dir, name));
      return;
    }
    if (!needBlob) {
      size = (await applyLayer(await d.blobs.open(known), dir, applyOpts)).size;
      return;
    }
    if (req.verifiedFile !== undefined) {
      // Unpacked from the file (opened before it moves) while the store syncs and takes it over.
      const file = req.verifiedFile;
      const input = (await open(file, 'r')).createReadStream({ highWaterMark: 1 << 20 });
      const [adopted, applied] = await settleBoth(adoptFile(d.blobs, file, known), applyLayer(input, dir, applyOpts));
      if (!adopted) await d.blobs.put(createReadStream(file, { highWaterMark: 1 << 20 }), known, signal);
      needBlob = false;
      size = applied.size;
      return;
    }
    const [toBlob, toLayer, fail] = tee(await plain());
    const [, applied] = await Promise.all([
      d.blobs.put(toBlob, known, signal).catch((err: unknown) => { fail(err); throw err; }),
      applyLayer(toLayer, dir, applyOpts).catch((err: unknown) => { fail(err); throw err; }),
    ]);
    needBlob = false;
    size = applied.size;
  });
  // The snapshot was there already (a blob lost since): store the blob alone.
  if (needBlob) await d.blobs.put(await plain(), known, signal);
  if (size < 0) size = await d.snapshotter.layerSize(chainId);
  d.records.upsertLayer({ ...row, blobSize: await d.blobs.size(known), size, state: 'complete' });
  return { diffId: known, chainId, size };
}

/** Both results once both have settled (so neither is still writing after a failure), else the first error. */
async function settleBoth<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  if (ra.status === 'rejected') throw ra.reason;
  if (rb.status === 'rejected') throw rb.reason;
  return [ra.value, rb.value];
}

/**
 * Moves a verified file into the blob store as `digest`: synced first (a blob is visible only
 * complete), readable like the blobs `put` writes. False when it cannot be renamed there (another
 * filesystem): the caller copies it instead.
 */
async function adoptFile(blobs: BlobStore, file: string, digest: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    await fh.sync();
    await fh.chmod(0o644);
  } finally {
    await fh.close();
  }
  try {
    await blobs.adopt(file, digest);
    return true;
  } catch (err) {
    if (isErrno(err, 'EXDEV')) return false;
    throw err;
  }
}

/**
 * Two readers of one stream, with backpressure from the slower (Readable.pipe to both). `fail`
 * destroys the source and both branches, so one failing consumer stops the other.
 */
function tee(src: Readable): [PassThrough, PassThrough, (err: unknown) => void] {
  const a = new PassThrough({ highWaterMark: 1 << 20 });
  const b = new PassThrough({ highWaterMark: 1 << 20 });
  const fail = (err: unknown) => {
    const e = err instanceof Error ? err : new Error(String(err));
    src.destroy(e);
    a.destroy(e);
    b.destroy(e);
  };
  src.once('error', fail);
  // Each consumer sees errors through its own pipeline; a branch destroyed by `fail` after its
  // consumer let go must not raise an unhandled 'error'.
  for (const p of [a, b]) p.on('error', () => undefined);
  src.pipe(a);
  src.pipe(b);
  return [a, b, fail];
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
