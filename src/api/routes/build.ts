import type { BuildEngine, BuildOptions, BuildOutput } from '../../engine/index.ts';
import { EngineError } from '../../lib/errors.ts';
import { parseFilters } from '../../lib/filters.ts';
import { parseReference } from '../../lib/reference.ts';
import { ok, queryBool, streamed, type ApiRequest, type Reply, type Route } from '../router.ts';
import { type BodyValidator, bodyValidator } from '../body-schema.ts';
import { buildArgsSchema, buildLabelsSchema, buildOutputsSchema, stringListSchema } from '../schemas/build.ts';
import { publicMessageOf } from '../public-message.ts';
import { toApiBuildCachePrune } from './build-views.ts';
import { toJsonMessage } from './progress-views.ts';

/** What POST /build and POST /build/prune need from the build engine. */
export type BuildBackend = BuildEngine;

// The JSON-valued parameters, each checked with Go's types (api/schemas/build.ts); compiled on first use.
const buildArgsParam = bodyValidator<Record<string, string | null>>(buildArgsSchema());
const labelsParam = bodyValidator<Record<string, string>>(buildLabelsSchema());
const stringListParam = bodyValidator<string[]>(stringListSchema());
const outputsParam = bodyValidator<Array<{ Type?: string }>>(buildOutputsSchema());

function jsonParam<T>(q: URLSearchParams, key: string, validator: BodyValidator<T>, dflt: T): T {
  const v = q.get(key);
  if (v === null || v === '') return dflt;
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch (err) {
    throw new EngineError('InvalidParameter', `invalid ${key} value: ${v}`, { cause: err });
  }
  return validator.check(parsed, key) ?? dflt;
}

/** POST /build's query as BuildOptions (contract.ts). InvalidParameter for bad tags or JSON. */
export function parseBuildQuery(q: URLSearchParams): BuildOptions {
  const tags = q.getAll('t').filter((t) => t !== '');
  for (const t of tags) {
    const ref = parseReference(t);
    if (ref.digest !== undefined) throw new EngineError('InvalidParameter', `invalid reference format: ${t}`);
  }
  const platform = q.get('platform') ?? '';
  if (platform && !/^linux(\/(amd64|x86_64|arm64|aarch64))?/.test(platform)) throw new EngineError('InvalidParameter', `"${platform}": unknown operating system or architecture: invalid argument`);
  const outputs = jsonParam(q, 'outputs', outputsParam, []);
  const outType = (outputs[0]?.Type ?? 'image').toLowerCase();
  if (!['image', 'local', 'tar', 'docker', 'moby'].includes(outType)) throw new EngineError('InvalidParameter', `unsupported output type ${outType}`);
  const output: BuildOutput = outType === 'local' || outType === 'tar' ? { type: outType } : { type: 'image' };
  const extraHosts = q.getAll('extrahosts').flatMap((h) => h.split(',')).map((h) => h.trim()).filter(Boolean);
  const target = q.get('target');
  return {
    tags,
    dockerfile: q.get('dockerfile') || 'Dockerfile',
    buildArgs: jsonParam(q, 'buildargs', buildArgsParam, {}),
    labels: jsonParam(q, 'labels', labelsParam, {}),
    ...(target ? { target } : {}),
    noCache: queryBool(q, 'nocache'),
    pull: queryBool(q, 'pull'),
    cacheFrom: jsonParam(q, 'cachefrom', stringListParam, []),
    networkMode: q.get('networkmode') || 'default',
    extraHosts,
    rm: queryBool(q, 'rm', true),
    forceRm: queryBool(q, 'forcerm'),
    quiet: queryBool(q, 'q'),
    ...(platform ? { platform } : {}),
    output,
    stepEvents: queryBool(q, 'berthprogress'),
    secretIds: jsonParam(q, 'berthsecrets', stringListParam, []),
  };
}

/** Streams the build; a failure after the first message ends the stream with errorDetail (code for RUN). */
async function build(b: BuildBackend, req: ApiRequest): Promise<Reply> {
  const opts = parseBuildQuery(req.query);
  const res = req.res;
  const head = () => { if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json' }); };
  try {
    for await (const m of b.build(req.raw, opts, req.signal)) {
      head();
      res.write(`${JSON.stringify(toJsonMessage(m, 'aux'))}\n`);
    }
  } catch (err) {
    if (!res.headersSent && !(err as { code?: unknown }).code) throw err;
    head();
    const message = publicMessageOf(req, err);
    const code = (err as { code?: unknown }).code;
    const detail = typeof code === 'number' ? { code, message } : { message };
    res.write(`${JSON.stringify({ errorDetail: detail, error: message })}\n`);
  }
  head();
  res.end();
  return streamed;
}

export const buildRoutes = (b: BuildBackend): Route[] => [
  { method: 'POST', path: '/build', handler: (req) => build(b, req) },
  { method: 'POST', path: '/build/prune', handler: async (req) => ok(toApiBuildCachePrune(await b.prune({ all: queryBool(req.query, 'all'), filters: parseFilters(req.query.get('filters')) }))) },
];
