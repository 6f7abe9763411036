import { EngineError, invalid } from '../../lib/errors.ts';
import type { SearchResult } from './contract.ts';
import type { Endpoint } from './endpoints.ts';
import { TransportError } from './errors.ts';
import { readBody, responseError, type HttpResponse, type HttpTransport } from './http.ts';

const RESULT_LIMIT = 4 * 1024 * 1024;

/**
 * GET <index>/v1/search?q=<term>&n=<limit> on the first endpoint that answers (HTTPS, then HTTP
 * for an insecure registry). Anonymous: Docker Hub's index needs no credentials for search.
 * InvalidParameter for a limit outside [1, 100] (Docker's wording); NotImplemented when the
 * registry has no search endpoint (404, as Distribution answers).
 */
export async function searchRegistry(http: HttpTransport, domain: string, endpoints: readonly Endpoint[], term: string, limit: number, signal?: AbortSignal): Promise<SearchResult[]> {
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalid(`limit ${limit} is outside the range of [1, 100]`);
  let res: HttpResponse | undefined;
  let last: unknown;
  for (const ep of endpoints) {
    const url = new URL(`${ep.base}/v1/search`);
    url.searchParams.set('q', term);
    url.searchParams.set('n', String(limit));
    try {
      res = await http.send({ method: 'GET', url, signal, headers: { accept: 'application/json' } }, http.dispatcherFor(ep));
      break;
    } catch (err) {
      last = err;
      if (!(err instanceof TransportError)) throw err;
    }
  }
  if (!res) throw last;
  if (res.status === 404 || res.status === 405) {
    await res.body.dump().catch(() => undefined);
    throw new EngineError('NotImplemented', `${domain} does not support search (unexpected status code ${res.status})`);
  }
  if (res.status !== 200) throw await responseError(res, `search ${domain}`);
  const body = await readBody(res.body, RESULT_LIMIT, () => new EngineError('Unavailable', `search ${domain}: response too large`));
  let parsed: { results?: unknown };
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new EngineError('Unavailable', `search ${domain}: malformed response`, { cause: err });
  }
  if (!Array.isArray(parsed.results)) return [];
  return parsed.results.map((r: Record<string, unknown>) => ({
    name: String(r['name'] ?? ''),
    description: String(r['description'] ?? ''),
    star_count: Number(r['star_count'] ?? 0) || 0,
    is_official: r['is_official'] === true,
    is_automated: r['is_automated'] === true,
  }));
}
