import type { ImageConfig } from '../image/index.ts';

/**
 * `--cache-from` for the legacy builder: an image built elsewhere (pulled, loaded) answers a step
 * when its history begins with the parent's history and continues with this step's created_by,
 * and its layers begin with the parent's. Returns the layer the step would add (its diffID; null
 * for an empty_layer step), or undefined when no image matches.
 */
export function cacheFromMatch(parent: ImageConfig, createdBy: string, images: readonly ImageConfig[]): { diffId: string | null } | undefined {
  const ph = parent.history ?? [];
  const pl = parent.rootfs.diff_ids;
  for (const img of images) {
    const h = img.history ?? [];
    const l = img.rootfs.diff_ids;
    if (h.length <= ph.length || l.length < pl.length) continue;
    if (!ph.every((e, i) => (e.created_by ?? '') === (h[i]!.created_by ?? '') && !!e.empty_layer === !!h[i]!.empty_layer)) continue;
    if (!pl.every((d, i) => d === l[i])) continue;
    const next = h[ph.length]!;
    if ((next.created_by ?? '') !== createdBy) continue;
    if (next.empty_layer) return { diffId: null };
    const diffId = l[pl.length];
    if (diffId !== undefined) return { diffId };
  }
  return undefined;
}

/**
 * True when `image` lies on the chain of one of `images`: its history and layers begin theirs
 * (the image itself or an ancestor of it). With `--cache-from`, the legacy builder answers a step
 * from the local cache only with such an image (moby's ImageCache: a local hit must be a parent of
 * a cache-from source).
 */
export function isOnChainOf(image: ImageConfig, images: readonly ImageConfig[]): boolean {
  const ih = image.history ?? [];
  const il = image.rootfs.diff_ids;
  return images.some((img) => {
    const h = img.history ?? [];
    const l = img.rootfs.diff_ids;
    return ih.length <= h.length && il.length <= l.length
      && ih.every((e, i) => (e.created_by ?? '') === (h[i]!.created_by ?? '') && !!e.empty_layer === !!h[i]!.empty_layer)
      && il.every((d, i) => d === l[i]);
  });
}
