import { mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError, messageOf } from '../lib/errors.ts';
import { NativeHelper, defaultHelperPath } from '../lib/native-helper.ts';
import { BERTH_VERSION, createEngine } from '../engine/index.ts';
import { createApiServer } from '../api/create-api.ts';
import { loadDaemonConfig, parseDaemonFlags, USAGE } from './config.ts';
import { createLogger } from './logger.ts';

/**
 * berthd: reads its configuration, holds the data root, creates the engine (which recovers before
 * it returns) and serves the Engine API over it until a signal stops it.
 */
async function main(argv: string[]): Promise<void> {
  const flags = parseDaemonFlags(argv);
  if (flags.help) { process.stdout.write(USAGE); return; }
  if (flags.version) { process.stdout.write(`Berth version ${BERTH_VERSION}\n`); return; }
  const cfg = loadDaemonConfig(flags);
  const log = createLogger(cfg.logLevel);
  for (const dir of [cfg.dataRoot, cfg.execRoot]) mkdirSync(dir, { recursive: true, mode: 0o711 });

  // Two daemons on one data root would corrupt each other's state: the lock dies with us.
  const lock = await new NativeHelper({ path: defaultHelperPath() }).lock(join(cfg.dataRoot, 'berthd.lock')).catch((err) => {
    throw new EngineError('Conflict', `data root ${cfg.dataRoot} is in use by another berthd (${messageOf(err)})`, { cause: err });
  });
  // Written early, as dockerd does: a pid file that cannot be written stops us before the host is touched.
  writeFileSync(cfg.pidFile, `${process.pid}\n`);

  const engine = await createEngine(cfg, { log });
  const server = createApiServer(engine, {
    log, hiddenPaths: [{ path: cfg.dataRoot, as: '<data-root>' }, { path: cfg.execRoot, as: '<exec-root>' }],
  });
  for (const h of cfg.hosts) {
    // Only unix:// hosts pass validateDaemonConfig.
    const path = h.slice('unix://'.length);
    mkdirSync(join(path, '..'), { recursive: true });
    // root:berth 0660, as docker's root:docker: members of the group may use the engine.
    await server.listenUnix(path, 0o660, groupId('berth'));
  }
  log.info({ version: BERTH_VERSION, hosts: cfg.hosts, dataRoot: cfg.dataRoot, execRoot: cfg.execRoot }, 'berthd started');

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    // Containers keep running: they belong to conmon. We only stop serving and let go of state.
    log.info({ signal }, 'berthd shutting down; containers keep running');
    await server.close().catch(() => undefined);
    await engine.close();
    rmSync(cfg.pidFile, { force: true });
    await lock.release();
    process.exit(0);
  };
  // A bug in one request must not take the API (and every attached client) down with it.
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** The gid of a group from /etc/group, if it exists. */
function groupId(name: string): number | undefined {
  try {
    const line = readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
    return line ? Number(line.split(':')[2]) : undefined;
  } catch { return undefined; }
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`berthd: ${messageOf(err)}\n`);
  process.exit(1);
});
