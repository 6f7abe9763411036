import type { Duplex } from 'node:stream';
import { EngineError, kindOf } from '../../lib/errors.ts';
import type { ContainerService } from '../../engine/containers/service.ts';
import { PendingAttach, type AttachConnector } from '../../engine/containers/attach.ts';
import { readLogs } from '../../engine/containers/logs.ts';
import { type ApiRequest, type Reply, param, queryBool, streamed } from '../router.ts';
import { cmpVersion, hijackConnection } from '../server.ts';
import { DetachScanner, frame, parseDetachKeys, STDERR, STDOUT } from '../streams.ts';

/** What the attach route needs. */
export interface AttachRouteDeps {
  containers: ContainerService;
  attach: AttachConnector;
}

const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/**
 * POST /containers/{id}/attach, as dockerd answers it: `logs=1` replays the container's log first,
 * `stream=1` then relays the live streams (both default to false). A created or stopped container
 * may be attached to: the stream begins at its next start (`docker start -a`, compose's attach then
 * start). Refusing stopped containers is the `attach` command's business, not the API's.
 * Throws NotFound, Conflict (paused, restarting, being removed) and InvalidParameter (detach keys).
 */
export async function attachRoute(d: AttachRouteDeps, req: ApiRequest): Promise<Reply> {
  const svc = d.containers;
  const ref = param(req, 'id');
  const c = svc.resolve(ref);
  const q = req.query;
  const keys = parseDetachKeys(q.get('detachKeys') || DEFAULT_DETACH_KEYS);
  const status = c.state.status;
  if (status === 'removing' || status === 'dead') throw new EngineError('Conflict', `container ${c.id} is marked for removal and cannot be attached to`);
  if (status === 'paused') throw new EngineError('Conflict', `container ${ref} is paused, unpause the container before attach`);
  if (status === 'restarting') throw new EngineError('Conflict', `container ${ref} is restarting, wait until the container is running`);
  const wantStdin = queryBool(q, 'stdin') && !!c.config.OpenStdin;
  const wantStdout = queryBool(q, 'stdout');
  const wantStderr = queryBool(q, 'stderr');
  const tty = !!c.config.Tty;
  // Registered before the client sees the upgrade: it may send `start` at once.
  const session = queryBool(q, 'stream') ? new PendingAttach(wantStdin) : null;
  if (session) svc.whenAttachable(c.id, (socketPath) => connectSession(svc, c.id, session, d.attach, socketPath));
  const multiplexed = !tty && cmpVersion(req.version, '1.42') >= 0;
  const socket = hijackConnection(req, multiplexed ? 'application/vnd.docker.multiplexed-stream' : 'application/vnd.docker.raw-stream');
  socket.on('error', () => session?.detach());
  if (queryBool(q, 'logs') && (wantStdout || wantStderr) && c.hostConfig.LogConfig?.Type !== 'none') {
    for await (const e of readLogs(svc.paths(c.id).logPath, { stdout: wantStdout, stderr: wantStderr })) {
      if (socket.destroyed) break;
      if (!socket.write(tty ? e.data : frame(e.stream === 'stdout' ? STDOUT : STDERR, e.data))) await new Promise((r) => socket.once('drain', r));
    }
  }
  svc.deps.events.publish('container', 'attach', c.id, { ...(c.config.Labels ?? {}), image: c.imageRef, name: c.name });
  if (!session) socket.end();
  else pumpAttach(socket, session, { tty, wantStdout, wantStderr, keys });
  return streamed;
}

/**
 * Connects a session to conmon. A monitor that has already gone (the process exited and its exit
 * is not settled yet) ends the session with that run, as dockerd's attach to a finishing container
 * ends when its streams close; a start that failed (null) ends it at once.
 */
async function connectSession(svc: ContainerService, id: string, session: PendingAttach, connector: AttachConnector, socketPath: string | null): Promise<void> {
  try {
    await session.connect(connector, socketPath);
  } catch (err) {
    if (kindOf(err) === 'NotFound') await svc.exited(id);
    await session.connect(connector, null);
    if (kindOf(err) !== 'NotFound') throw err;
  }
}

/** Relays an attach session over a hijacked socket until the container's output ends or the client leaves. */
export function pumpAttach(socket: Duplex, session: PendingAttach, o: { tty: boolean; wantStdout: boolean; wantStderr: boolean; keys: Buffer }): void {
  const out = (stream: number) => (b: Buffer) => { if (!socket.destroyed) socket.write(o.tty ? b : frame(stream, b)); };
  if (o.wantStdout) session.stdout.on('data', out(STDOUT)); else session.stdout.resume();
  if (o.wantStderr) session.stderr.on('data', out(STDERR)); else session.stderr.resume();
  if (session.stdin) {
    // Only a terminal has detach keys (dockerd: copyEscapable with a TTY, a plain copy without):
    // piped stdin is data, and ctrl-p ctrl-q may well be in it.
    if (o.tty) socket.pipe(new DetachScanner(o.keys, () => { session.detach(); socket.end(); })).pipe(session.stdin);
    else socket.pipe(session.stdin);
  } else {
    socket.resume();
  }
  socket.on('close', () => session.detach());
  socket.on('error', () => session.detach());
  void session.done.then(() => socket.end());
}
