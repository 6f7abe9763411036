/** Snapshots: layers unpacked once per chain ID and container root filesystems over them. */
export { OverlaySnapshotter, newLinkName, overlayOptions, mountPoints } from './overlay.ts';
export type { Snapshotter, OverlaySnapshotterDeps } from './overlay.ts';
