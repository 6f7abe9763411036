/**
 * `berth registry serve` and `berth registry gc`: the built-in registry runs in this process,
 * not in berthd. Its code is imported only when one of these commands runs, so the other
 * commands do not pay for loading it.
 */
import type { CommandSpec } from '../../args/parse.ts';
import { type CliContext, type Flags, bool, str } from '../../context.ts';

const DEFAULT_ROOT = '/var/lib/berth-registry';

export const serveSpec: CommandSpec = {
  name: 'registry serve', usage: '[OPTIONS]', description: 'Run an OCI distribution registry in the foreground',
  flags: [
    { name: 'addr', kind: 'string', default: '127.0.0.1:5000', description: 'Address to listen on (host:port)' },
    { name: 'root', kind: 'string', default: DEFAULT_ROOT, description: 'Directory the registry stores its data in' },
    { name: 'htpasswd', kind: 'string', description: 'Require basic auth against this htpasswd file (bcrypt entries, htpasswd -B)' },
    { name: 'realm', kind: 'string', default: 'Registry Realm', description: 'Realm named in the basic auth challenge' },
    { name: 'tls-cert', kind: 'string', description: 'Serve HTTPS with this PEM certificate (needs --tls-key)' },
    { name: 'tls-key', kind: 'string', description: 'PEM private key for --tls-cert' },
    { name: 'delete-enabled', kind: 'bool', description: 'Allow deleting manifests and blobs' },
    { name: 'quiet', short: 'q', kind: 'bool', description: 'Do not log each request' },
  ],
  maxArgs: 0,
};

export const gcSpec: CommandSpec = {
  name: 'registry gc', usage: '[OPTIONS]', description: 'Remove registry blobs no manifest references',
  flags: [
    { name: 'root', kind: 'string', default: DEFAULT_ROOT, description: 'Directory the registry stores its data in' },
    { name: 'dry-run', kind: 'bool', description: 'Only print what would be removed' },
  ],
  maxArgs: 0,
};

/** Serves until SIGTERM or SIGINT, then stops accepting, lets requests in flight finish and returns. */
export async function serve(ctx: CliContext, flags: Flags): Promise<void> {
  const { startRegistry } = await import('../../../registry/server/index.ts');
  const log = (line: string): void => { ctx.stderr.write(`${new Date().toISOString()} ${line}\n`); };
  const tlsCert = str(flags, 'tls-cert');
  const tlsKey = str(flags, 'tls-key');
  const htpasswdFile = str(flags, 'htpasswd');
  const { server, url } = await startRegistry({
    addr: str(flags, 'addr') ?? '127.0.0.1:5000', root: str(flags, 'root') ?? DEFAULT_ROOT, realm: str(flags, 'realm') ?? 'Registry Realm',
    deleteEnabled: bool(flags, 'delete-enabled'),
    ...(htpasswdFile !== undefined ? { htpasswdFile } : {}), ...(tlsCert !== undefined ? { tlsCert } : {}), ...(tlsKey !== undefined ? { tlsKey } : {}),
    ...(bool(flags, 'quiet') ? {} : { log }),
  });
  ctx.stderr.write(`registry listening on ${url}\n`);
  // The handlers stay: a second signal while requests finish must not kill the process with
  // the default action (a supervisor often repeats SIGTERM).
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.on('SIGTERM', () => resolve('SIGTERM'));
    process.on('SIGINT', () => resolve('SIGINT'));
  });
  ctx.stderr.write(`registry: ${signal}: finishing requests in flight\n`);
  await server.close();
}

/** Mark and sweep over --root; prints each removed blob and the total. */
export async function gc(ctx: CliContext, flags: Flags): Promise<void> {
  const { collectGarbage } = await import('../../../registry/server/index.ts');
  const dryRun = bool(flags, 'dry-run');
  const r = await collectGarbage({ root: str(flags, 'root') ?? DEFAULT_ROOT, dryRun, log: (l) => ctx.stdout.write(`${l}\n`) });
  ctx.stdout.write(`${r.removed.length} blob(s) ${dryRun ? 'would be removed' : 'removed'}, ${r.freedBytes} bytes ${dryRun ? 'reclaimable' : 'freed'}, ${r.kept} kept\n`);
}
