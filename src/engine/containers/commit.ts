import type { Readable } from 'node:stream';
import { kindOf } from '../../lib/errors.ts';
import { applyChanges } from '../images/changes.ts';
import { commitImageConfig } from '../images/commit.ts';
import type { ContainerRecord } from './record.ts';
import type { CommitRequest } from '../contracts/containers.ts';
import type { ImageConfig } from '../../image/index.ts';

export interface CommitDeps {
  resolve(ref: string): ContainerRecord;
  isRunning(id: string): boolean;
  pause(id: string): Promise<void>;
  unpause(id: string): Promise<void>;
  upperPath(id: string): string;
  /** A layer tar of a directory (the native helper's tar-out with --whiteouts, chrooted). */
  layerTar(upperDir: string): Readable;
  images: {
    commit(opts: { parentId: string; layer: Readable; layerRead?: () => Promise<void>; config: (parent: ImageConfig, diffId: string) => ImageConfig; ref?: string }): Promise<string>;
  };
  event(action: string, c: ContainerRecord, attrs: Record<string, string>): void;
}


/**
 * POST /commit: the container's writable layer (overlay whiteouts as `.wh.` entries) becomes the
 * top layer of a new image over the container's image. A running container is paused while the
 * layer is read, unless `pause: false`, and keeps running after; one that has stopped (or stops
 * before the pause) is committed as it is, as dockerd does. The pause is undone however the
 * commit ends. Returns the image ID.
 */
export async function commitContainer(d: CommitDeps, ref: string, opts: CommitRequest = {}): Promise<string> {
  const c = d.resolve(ref);
  applyChanges({}, opts.changes ?? []); // a bad --change fails before anything is paused or stored
  let paused = false;
  if ((opts.pause ?? true) && d.isRunning(c.id) && c.state.status === 'running') {
    // Conflict: it exited (or was paused by someone else) since we looked; commit it as it is.
    paused = await d.pause(c.id).then(() => true, (err: unknown) => {
      if (kindOf(err) === 'Conflict') return false;
      throw err;
    });
  }
  const unpause = async () => {
    if (!paused) return;
    paused = false;
    // Conflict: it was killed or unpaused meanwhile; there is nothing left to undo.
    await d.unpause(c.id).catch((err: unknown) => { if (kindOf(err) !== 'Conflict') throw err; });
  };
  let id: string;
  try {
    id = await d.images.commit({
      parentId: c.imageId, layer: d.layerTar(d.upperPath(c.id)), layerRead: unpause,
      ...(opts.ref ? { ref: opts.ref } : {}),
      config: (parent, diffId) => commitImageConfig({
        parent, parentId: c.imageId, container: c.config, containerId: c.id, override: opts.config ?? null, changes: opts.changes ?? [],
        ...(opts.author ? { author: opts.author } : {}), ...(opts.comment ? { comment: opts.comment } : {}), diffId,
      }),
    });
  } catch (err) {
    // The commit's own error is the one to report; the container is thawed all the same.
    await unpause().catch(() => undefined);
    throw err;
  }
  await unpause();
  d.event('commit', c, { comment: opts.comment ?? '', imageID: id, imageRef: opts.ref ?? '' });
  return id;
}
