import type * as api from '../types/index.ts';
import type { Progress } from '../../lib/progress.ts';

/**
 * How a stream's results are written. dockerd writes pull and push through its progress output,
 * which gives every record a progressDetail (`{"progressDetail":{},"aux":{"Tag":…}}`), and a
 * build's image ID through its aux formatter, which does not (`{"aux":{"ID":…}}`).
 */
export type ResultStyle = 'progress' | 'aux';

/**
 * One progress event as dockerd's JSON message. Keys come in the order of Go's JSONMessage
 * fields (stream, status, progressDetail, id, aux), so the lines match dockerd's byte for byte:
 * `{"status":"Pulling from library/busybox","id":"latest"}`,
 * `{"status":"Downloading","progressDetail":{"current":1,"total":2},"id":"0123456789ab"}`,
 * `{"stream":"Loaded image: busybox:latest\n"}`.
 */
export function toJsonMessage(p: Progress, results: ResultStyle = 'progress'): api.JsonMessage {
  switch (p.kind) {
    case 'message':
      return p.id === undefined ? { status: p.message } : { status: p.message, id: p.id };
    case 'layer':
      return { status: p.status, progressDetail: countsOf(p), id: p.id };
    case 'output':
      return { stream: p.text };
    case 'result':
      if (results === 'progress') return { progressDetail: {}, ...(p.id !== undefined ? { id: p.id } : {}), aux: p.aux };
      return p.id === undefined ? { aux: p.aux } : { id: p.id, aux: p.aux };
  }
}

function countsOf(p: { current?: number; total?: number }): { current?: number; total?: number } {
  return { ...(p.current !== undefined ? { current: p.current } : {}), ...(p.total !== undefined ? { total: p.total } : {}) };
}
