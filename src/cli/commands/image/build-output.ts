import { createWriteStream, mkdirSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { EngineClient } from '../../../client/client.ts';
import { extractLocal } from '../container/cp-local.ts';
import type { OutputSpec } from './build-options.ts';

/**
 * `--output` on the client, since the legacy build API returns only an image: a container is
 * created from the built image (never started), its filesystem exported (GET /containers/{id}/export)
 * and extracted into a directory (the same careful extraction as `cp`) or written as a tar, and the
 * container removed. The caller removes an untagged result image afterwards.
 */
export async function exportImageFilesystem(
  client: EngineClient,
  imageId: string,
  output: Exclude<OutputSpec, { type: 'image' }>,
  o: { stdout: NodeJS.WritableStream; onBytes?: (n: number) => void },
): Promise<void> {
  // The command is never run; it only has to be non-empty for an image with no CMD (FROM scratch).
  const created = await client.json<{ Id: string }>('POST', '/containers/create', {
    body: { Image: imageId, Cmd: ['/berth-build-output'], Labels: { 'berth.build.output': 'true' }, HostConfig: { NetworkMode: 'none' } },
  });
  try {
    const res = await client.raw('GET', `/containers/${created.Id}/export`);
    let body: Readable = res;
    if (o.onBytes) {
      const counter = new PassThrough();
      counter.on('data', (c: Buffer) => o.onBytes!(c.length));
      res.pipe(counter);
      body = counter;
    }
    if (output.type === 'local') {
      mkdirSync(output.dest, { recursive: true });
      await extractLocal(body, output.dest);
    } else if (output.dest === '-') {
      await pipeline(body, o.stdout);
    } else {
      const tmp = `${output.dest}.tmp-${process.pid}`;
      try {
        await pipeline(body, createWriteStream(tmp));
        await rename(tmp, output.dest);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    }
  } finally {
    await client.call('DELETE', `/containers/${created.Id}`, { query: { force: true, v: true } }).catch(() => undefined);
  }
}
