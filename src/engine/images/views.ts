import { familiarString, type ImageReference } from '../../lib/reference.ts';
import type { ImageConfig } from '../../image/index.ts';
import type { Image, ImageHistoryItem } from '../contracts/images.ts';
import type { ImageRow } from './records.ts';

/** An image row with its parsed config and references: what the domain objects are made from. */
export interface ImageView {
  row: ImageRow;
  config: ImageConfig;
  tags: ImageReference[];
  digests: ImageReference[];
}

/** Seconds since the epoch of an RFC 3339 time; 0 when absent or malformed. */
export const unixSeconds = (t: string | undefined): number => {
  const ms = t ? Date.parse(t) : NaN;
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
};

export const labelsOf = (v: ImageView): Record<string, string> => ({ ...(v.config.config?.Labels ?? {}) });

/** The Image of a view; diffPath gives a layer's directory by chain ID. */
export function toImage(v: ImageView, diffPath: (chainId: string) => string): Image {
  return {
    id: v.row.id,
    repoTags: v.tags.map(familiarString),
    repoDigests: v.digests.map(familiarString),
    config: v.config,
    size: v.row.size,
    layerDirs: v.row.layers.map(diffPath),
    storedAt: v.row.createdAt,
  };
}

/**
 * An image's history, newest first. History entries that are not empty_layer take the layer
 * sizes in order; the newest entry carries the image ID and tags. A config without history
 * gets one entry per layer.
 */
export function historyOf(v: ImageView, layerSizes: readonly number[]): ImageHistoryItem[] {
  type Entry = NonNullable<ImageConfig['history']>[number];
  const hist: Entry[] = v.config.history && v.config.history.length > 0
    ? v.config.history
    : v.config.rootfs.diff_ids.map((): Entry => ({ created: v.config.created ?? '', created_by: '' }));
  let layer = 0;
  const items = hist.map((h): ImageHistoryItem => ({
    created: h.created ?? '',
    createdBy: h.created_by ?? '',
    tags: [],
    size: h.empty_layer ? 0 : (layerSizes[layer++] ?? 0),
    comment: h.comment ?? '',
  })).reverse();
  if (items[0]) {
    items[0].id = v.row.id;
    items[0].tags = v.tags.map(familiarString);
  }
  return items;
}
