import type * as api from '../types/index.ts';
import { EngineError, messageOf } from '../../lib/errors.ts';
import type { ExecEngine, ExecStreams } from '../../engine/index.ts';
import { toApiExecInspect } from './exec-views.ts';
import { type ApiRequest, type Reply, type Route, created, ok, param, queryInt, readHijackJson, streamed } from '../router.ts';
import { type BodyValidator, bodyValidator, readBody } from '../body-schema.ts';
import { execCreateSchema, execStartSchema } from '../schemas/exec.ts';
import { cmpVersion, hijackConnection } from '../server.ts';
import { DetachScanner, frame, parseDetachKeys, STDERR, STDOUT } from '../streams.ts';

/** /containers/{id}/exec and /exec/{id}: create, inspect, resize and start. */
export function execRoutes(execs: ExecEngine): Route[] {
  const createBody = bodyValidator<api.ExecCreateBody>(execCreateSchema());
  const startBody = bodyValidator<api.ExecStartBody>(execStartSchema());
  return [
    { method: 'POST', path: '/containers/:id/exec', handler: async (req) => {
      const body = await readBody(req, createBody);
      if (!body) throw new EngineError('InvalidParameter', 'No exec command specified');
      return created({ Id: execs.create(param(req, 'id'), body) });
    } },
    { method: 'GET', path: '/exec/:id/json', handler: (req) => ok(toApiExecInspect(execs.inspect(param(req, 'id')))) },
    { method: 'POST', path: '/exec/:id/resize', handler: (req) => {
      execs.resize(param(req, 'id'), queryInt(req.query, 'h', 0)!, queryInt(req.query, 'w', 0)!);
      return ok(null);
    } },
    { method: 'POST', path: '/exec/:id/start', handler: (req) => startExec(execs, startBody, req) },
  ];
}

/**
 * POST /exec/{id}/start, as dockerd answers it. The request's Tty picks the stream's form (raw, or
 * stdout/stderr frames), not the terminal: that was chosen at create (docker-py starts a tty exec
 * with Tty false and reads frames). A detached start answers 200 with no body once the process
 * runs. Anything that keeps an attached exec from starting is reported inside the stream, as
 * dockerd writes it, and the exec's exit code (126) tells the client.
 */
async function startExec(execs: ExecEngine, startBody: BodyValidator<api.ExecStartBody>, req: ApiRequest): Promise<Reply> {
  const id = param(req, 'id');
  const body = startBody.check(await readHijackJson<unknown>(req, null)) ?? {};
  const info = execs.inspect(id);
  const rawStream = !!body.Tty;
  // ConsoleSize is honoured from API 1.42 and with a tty only (dockerd).
  const consoleSize = rawStream && cmpVersion(req.version, '1.42') >= 0 ? body.ConsoleSize ?? null : null;
  if (body.Detach) {
    const streams = await execs.start(id, { detach: true, consoleSize });
    streams.stdout.resume();
    streams.stderr?.resume();
    return { kind: 'empty', status: 200 };
  }
  // Upgraded before the process starts, as dockerd does: a client that reads the 101's head through
  // a buffered reader (docker-py via http.client) would swallow output sent right behind it.
  const multiplexed = !rawStream && cmpVersion(req.version, '1.42') >= 0;
  const socket = hijackConnection(req, multiplexed ? 'application/vnd.docker.multiplexed-stream' : 'application/vnd.docker.raw-stream');
  const out = (stream: number) => (b: Buffer) => { if (!socket.destroyed) socket.write(rawStream ? b : frame(stream, b)); };
  socket.on('error', () => undefined);
  let streams: ExecStreams;
  try {
    streams = await execs.start(id, { detach: false, consoleSize });
  } catch (err) {
    // dockerd writes whatever kept the exec from starting into the stream; its exit code tells.
    out(STDOUT)(Buffer.from(`${messageOf(err)}\r\n`));
    socket.end();
    return streamed;
  }
  const terminal = info.tty;
  // A terminal has one output; it goes to whichever stream was asked for.
  streams.stdout.on('data', info.attachStdout || (terminal && info.attachStderr) ? out(STDOUT) : () => undefined);
  streams.stderr?.on('data', info.attachStderr ? out(STDERR) : () => undefined);
  if (streams.stdin) {
    const stdin = streams.stdin;
    // Detach keys apply to a terminal only (as in attach): piped stdin passes byte for byte.
    if (terminal) socket.pipe(new DetachScanner(parseDetachKeys(info.detachKeys || 'ctrl-p,ctrl-q'), () => socket.end())).pipe(stdin);
    else socket.pipe(stdin);
    stdin.on('error', () => undefined);
  } else socket.resume();
  const s = streams;
  const ended = Promise.all([
    new Promise((r) => s.stdout.once('end', r)),
    s.stderr ? new Promise((r) => s.stderr!.once('end', r)) : Promise.resolve(),
  ]);
  void s.done.then(async () => { await Promise.race([ended, new Promise((r) => setTimeout(r, 200))]); socket.end(); }, () => socket.end());
  return streamed;
}
