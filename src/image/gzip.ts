import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

/** pigz's path when installed: it compresses on every core, where zlib uses one. */
function findPigz(): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    const p = join(dir, 'pigz');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch { /* next */ }
  }
  return undefined;
}

let pigzPath: string | null | undefined;

/**
 * A gzip stream of `input` for pushing a layer: pigz when the host has it, zlib otherwise. Level 1
 * (fastest): a push is bounded by compression, and the registry takes any gzip. No name or time
 * in the header (`-n`), so the same layer compresses to the same bytes each time.
 */
export function gzipLayer(input: Readable, level = 1): Readable {
  if (pigzPath === undefined) pigzPath = findPigz() ?? null;
  if (pigzPath === null) {
    const gz = createGzip({ level });
    pipeline(input, gz).catch(() => undefined);
    return gz;
  }
  const child = spawn(pigzPath, [`-${level}`, '-n', '-c'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  pipeline(input, child.stdin).catch((err: unknown) => { out.destroy(err as Error); child.kill(); });
  child.stdout.pipe(out, { end: false });
  child.on('error', (err) => out.destroy(err));
  child.on('close', (code) => {
    if (code === 0) out.end();
    else out.destroy(new Error(`pigz exited with ${code}: ${stderr.trim()}`));
  });
  out.on('close', () => { if (child.exitCode === null) child.kill(); });
  return out;
}
