import type { Duplex } from 'node:stream';
import type { AttachStreams, ContainerEngine } from '../../engine/index.ts';
import { type ApiRequest, type Reply, param, queryBool, streamed } from '../router.ts';
import { cmpVersion, hijackConnection } from '../server.ts';
import { DetachScanner, frame, parseDetachKeys, STDERR, STDOUT } from '../streams.ts';

const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/**
 * POST /containers/{id}/attach, as dockerd answers it: `logs=1` replays the container's log first,
 * `stream=1` then relays the live streams (both default to false). A created or stopped container
 * may be attached to: the stream begins at its next start (`docker start -a`, compose's attach then
 * start). Refusing stopped containers is the `attach` command's business, not the API's.
 * Throws NotFound, Conflict (paused, restarting, being removed) and InvalidParameter (detach keys).
 */
export async function attachRoute(svc: ContainerEngine, req: ApiRequest): Promise<Reply> {
  const q = req.query;
  const keys = parseDetachKeys(q.get('detachKeys') || DEFAULT_DETACH_KEYS);
  const wantStdout = queryBool(q, 'stdout');
  const wantStderr = queryBool(q, 'stderr');
  const a = await svc.attach(param(req, 'id'), {
    stdin: queryBool(q, 'stdin'), stdout: wantStdout, stderr: wantStderr, stream: queryBool(q, 'stream'), logs: queryBool(q, 'logs'),
  });
  const { tty, session } = a;
  const multiplexed = !tty && cmpVersion(req.version, '1.42') >= 0;
  const socket = hijackConnection(req, multiplexed ? 'application/vnd.docker.multiplexed-stream' : 'application/vnd.docker.raw-stream');
  socket.on('error', () => session?.detach());
  for await (const e of a.replay) {
    if (socket.destroyed) break;
    if (!socket.write(tty ? e.data : frame(e.stream === 'stdout' ? STDOUT : STDERR, e.data))) await new Promise((r) => socket.once('drain', r));
  }
  if (!session) socket.end();
  else pumpAttach(socket, session, { tty, wantStdout, wantStderr, keys });
  return streamed;
}

/** Relays an attach session over a hijacked socket until the container's output ends or the client leaves. */
export function pumpAttach(socket: Duplex, session: AttachStreams, o: { tty: boolean; wantStdout: boolean; wantStderr: boolean; keys: Buffer }): void {
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
