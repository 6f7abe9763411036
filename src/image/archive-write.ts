import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { digestHex, sha256Digest } from '../lib/digest.ts';
import { familiarString, normalizedString, type ImageReference } from '../lib/reference.ts';
import { ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME, MediaType, imageIdOf, parseImageConfig } from './config.ts';
import type { Descriptor, ImageIndex, ImageManifest } from './oci.ts';

/** One image to save. */
export interface SaveImage {
  /** The config blob's exact bytes; their digest is the image ID. */
  configBytes: Buffer;
  /** Tags to record (RepoTags, index.json names); empty saves the image untagged. */
  tags: ImageReference[];
}

/** Opens an uncompressed layer tar by diffID, with its length. */
export type OpenLayer = (diffId: string) => Promise<{ stream: Readable; size: number }>;

/** Fixed entry time: saving the same images twice gives the same bytes. */
const EPOCH = new Date(0);

/**
 * Writes a docker-archive in Docker 25+'s shape to `out`: an OCI image layout (oci-layout,
 * index.json, blobs/sha256/: configs, OCI manifests and uncompressed layer tars whose digest is
 * the diffID) plus the legacy manifest.json (Config, RepoTags, Layers pointing into blobs/) and
 * repositories, for several images in one archive; shared layers are written once. `out` is
 * ended when the archive is complete. Errors of openLayer (NotFound for a missing blob) abort it.
 */
export async function writeImageArchive(images: readonly SaveImage[], openLayer: OpenLayer, out: Writable): Promise<void> {
  const pack = tar.pack();
  const piping = pipeline(pack as unknown as Readable, out);
  const written = new Set<string>();
  const entry = (name: string, body: Buffer) =>
    new Promise<void>((resolve, reject) =>
      pack.entry({ name, size: body.length, mode: 0o644, mtime: EPOCH }, body, (err) => (err ? reject(err) : resolve())));
  const blob = async (bytes: Buffer): Promise<string> => {
    const d = sha256Digest(bytes);
    if (!written.has(d)) {
      written.add(d);
      await entry(`blobs/sha256/${digestHex(d)}`, bytes);
    }
    return d;
  };
  try {
    for (const dir of ['blobs/', 'blobs/sha256/']) {
      await new Promise<void>((resolve, reject) =>
        pack.entry({ name: dir, type: 'directory', mode: 0o755, mtime: EPOCH }, Buffer.alloc(0), (err) => (err ? reject(err) : resolve())));
    }
    const manifestJson: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
    const indexManifests: Descriptor[] = [];
    const repositories: Record<string, Record<string, string>> = {};
    for (const img of images) {
      const config = parseImageConfig(img.configBytes);
      const configDigest = await blob(img.configBytes);
      const layers: Descriptor[] = [];
      for (const diffId of config.rootfs.diff_ids) {
        const { stream, size } = await openLayer(diffId);
        if (!written.has(diffId)) {
          written.add(diffId);
          const sink = pack.entry({ name: `blobs/sha256/${digestHex(diffId)}`, size, mode: 0o644, mtime: EPOCH });
          await pipeline(stream, sink as unknown as Writable);
        } else {
          stream.destroy();
        }
        layers.push({ mediaType: MediaType.ociLayer, digest: diffId, size });
      }
      const doc: ImageManifest = {
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: { mediaType: MediaType.ociConfig, digest: configDigest, size: img.configBytes.length },
        layers,
      };
      const manifest = Buffer.from(JSON.stringify(doc));
      const manifestDigest = await blob(manifest);
      const descriptor: Descriptor = { mediaType: MediaType.ociManifest, digest: manifestDigest, size: manifest.length };
      if (img.tags.length === 0) indexManifests.push(descriptor);
      for (const t of img.tags) {
        indexManifests.push({ ...descriptor, annotations: { [ANNOTATION_IMAGE_NAME]: normalizedString(t), [ANNOTATION_REF_NAME]: t.tag ?? 'latest' } });
        const repo = familiarString({ domain: t.domain, path: t.path });
        const top = config.rootfs.diff_ids[config.rootfs.diff_ids.length - 1];
        if (top && t.tag) (repositories[repo] ??= {})[t.tag] = digestHex(top);
      }
      manifestJson.push({
        Config: `blobs/sha256/${digestHex(imageIdOf(img.configBytes))}`,
        RepoTags: img.tags.length > 0 ? img.tags.map(familiarString) : null,
        Layers: config.rootfs.diff_ids.map((d) => `blobs/sha256/${digestHex(d)}`),
      });
    }
    const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: indexManifests };
    await entry('index.json', Buffer.from(JSON.stringify(index)));
    await entry('manifest.json', Buffer.from(JSON.stringify(manifestJson)));
    await entry('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
    if (Object.keys(repositories).length > 0) await entry('repositories', Buffer.from(JSON.stringify(repositories)));
    pack.finalize();
  } catch (err) {
    pack.destroy(err as Error);
    await piping.catch(() => undefined);
    throw err;
  }
  await piping;
}
