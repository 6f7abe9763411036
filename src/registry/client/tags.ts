import { EngineError } from '../../lib/errors.ts';
import type { BlobTarget } from './blobs.ts';
import { readBody, responseError } from './http.ts';

/** Most pages followed for one tag list (a registry looping its Link header must not hang us). */
const MAX_PAGES = 1000;
const PAGE_LIMIT = 8 * 1024 * 1024;

/**
 * The target of a `Link: <url>; rel="next"` header (RFC 8288; several links may share one
 * header), resolved against `base`. Undefined when there is no next page.
 */
export function nextLink(values: string | readonly string[] | undefined, base: URL): URL | undefined {
  const list = values === undefined ? [] : typeof values === 'string' ? [values] : values;
  for (const value of list) {
    for (const m of value.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]+)*)/g)) {
      const params = m[2] ?? '';
      if (/;\s*rel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?\s*(;|$)/i.test(params)) return new URL(m[1]!, base);
    }
  }
  return undefined;
}

/** GET /v2/<name>/tags/list, following Link pages. NotFound (NAME_UNKNOWN) for an unknown repository. */
export async function listTags(t: BlobTarget, signal?: AbortSignal): Promise<string[]> {
  const tags: string[] = [];
  let target: string | URL = `/v2/${t.path}/tags/list`;
  for (let page = 0; page < MAX_PAGES; page++) {
    const res = await t.conn.request({ method: 'GET', target, scopes: t.scopes, signal, headers: { accept: 'application/json' } });
    if (res.status !== 200) throw await responseError(res);
    const body = await readBody(res.body, PAGE_LIMIT, () => new EngineError('Unavailable', `tag list of ${t.path} is too large`));
    let parsed: { tags?: unknown };
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new EngineError('Unavailable', `tag list of ${t.path}: malformed response`, { cause: err });
    }
    if (Array.isArray(parsed.tags)) tags.push(...parsed.tags.filter((x): x is string => typeof x === 'string'));
    const next = nextLink(res.headers['link'], res.url);
    if (!next) return tags;
    target = next;
  }
  throw new EngineError('Unavailable', `tag list of ${t.path}: more than ${MAX_PAGES} pages`);
}
