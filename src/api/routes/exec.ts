import type * as api from '../types/index.ts';
import { EngineError } from '../../lib/errors.ts';
import type { ContainerService } from '../../engine/containers/service.ts';
import type { ExecService } from '../../engine/containers/exec.ts';
import { type ApiRequest, type Route, created, ok, param, queryInt, readHijackJson, streamed } from '../router.ts';
import { type BodyValidator, bodyValidator, readBody } from '../body-schema.ts';
import { execCreateSchema, execStartSchema } from '../schemas/exec.ts';
import { hijackConnection } from '../server.ts';
import { DetachScanner, frame, parseDetachKeys, STDERR, STDOUT } from '../streams.ts';

export function execRoutes(d: { containers: ContainerService; execs: ExecService }): Route[] {
  const createBody = bodyValidator<api.ExecCreateBody>(execCreateSchema());
  const startBody = bodyValidator<api.ExecStartBody>(execStartSchema());
  return [
    { method: 'POST', path: '/containers/:id/exec', handler: async (req) => {
      const body = await readBody(req, createBody);
      if (!body) throw new EngineError('InvalidParameter', 'No exec command specified');
      return created({ Id: d.execs.create(param(req, 'id'), body) });
    } },
    { method: 'GET', path: '/exec/:id/json', handler: (req) => ok(d.execs.inspect(param(req, 'id'))) },
    { method: 'POST', path: '/exec/:id/resize', handler: (req) => {
      d.execs.resize(param(req, 'id'), queryInt(req.query, 'h', 0)!, queryInt(req.query, 'w', 0)!);
      return ok(null);
    } },
    { method: 'POST', path: '/exec/:id/start', handler: (req) => startExec(d.execs, startBody, req) },
  ];
}

async function startExec(execs: ExecService, startBody: BodyValidator<api.ExecStartBody>, req: ApiRequest) {
  const id = param(req, 'id');
  const body = startBody.check(await readHijackJson<unknown>(req, null)) ?? {};
  const info = execs.inspect(id);
  const tty = body.Tty ?? info.ProcessConfig.tty;
  const streams = await execs.start(id, { detach: !!body.Detach, tty, consoleSize: body.ConsoleSize ?? null });
  if (body.Detach) {
    streams.stdout.resume();
    streams.stderr?.resume();
    return ok(null);
  }
  const multiplexed = !tty;
  const socket = hijackConnection(req, multiplexed ? 'application/vnd.docker.multiplexed-stream' : 'application/vnd.docker.raw-stream');
  const out = (stream: number) => (b: Buffer) => { if (!socket.destroyed) socket.write(multiplexed ? frame(stream, b) : b); };
  streams.stdout.on('data', info.OpenStdout ? out(STDOUT) : () => undefined);
  streams.stderr?.on('data', info.OpenStderr || tty ? out(STDERR) : () => undefined);
  if (streams.stdin) {
    const stdin = streams.stdin;
    // Detach keys apply to a terminal only (as in attach): piped stdin passes byte for byte.
    if (info.ProcessConfig.tty) socket.pipe(new DetachScanner(parseDetachKeys(info.DetachKeys || 'ctrl-p,ctrl-q'), () => socket.end())).pipe(stdin);
    else socket.pipe(stdin);
    stdin.on('error', () => undefined);
  } else socket.resume();
  socket.on('error', () => undefined);
  const ended = Promise.all([
    new Promise((r) => streams.stdout.once('end', r)),
    streams.stderr ? new Promise((r) => streams.stderr!.once('end', r)) : Promise.resolve(),
  ]);
  void streams.done.then(async () => { await Promise.race([ended, new Promise((r) => setTimeout(r, 200))]); socket.end(); }, () => socket.end());
  return streamed;
}
