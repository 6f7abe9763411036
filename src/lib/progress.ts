/**
 * What a long operation (pull, push, load, import, build) reports while it runs, in the engine's
 * words. The API renders each event as one of Docker's JSON messages (api/routes/progress-views.ts);
 * the daemonless CLI may print it directly. A failure is not an event: the stream's iteration
 * throws it.
 *
 * - `message`: a line about the operation ("Pulling from library/busybox", "Digest: sha256:…"),
 *   about one object when `id` is set (the tag being pulled).
 * - `layer`: the state of one layer (`id`: its short ID) — "Waiting", "Downloading" with bytes
 *   done of `total`, "Pull complete".
 * - `output`: text for the user's terminal, as is ("Loaded image: busybox:latest\n", build output).
 * - `result`: data for the client program rather than the user (a pushed tag's digest, a built
 *   image's ID, berth's build step events under `id`).
 */
export type Progress =
  | { kind: 'message'; message: string; id?: string }
  | { kind: 'layer'; id: string; status: string; current?: number; total?: number }
  | { kind: 'output'; text: string }
  | { kind: 'result'; aux: unknown; id?: string };

/** A message line, about `id` when given. */
export const progressMessage = (message: string, id?: string): Progress =>
  (id === undefined ? { kind: 'message', message } : { kind: 'message', message, id });

/** A layer's state, with its byte counts when known. */
export const layerProgress = (id: string, status: string, counts: { current?: number; total?: number } = {}): Progress =>
  ({ kind: 'layer', id, status, ...counts });

/** Text for the user's terminal. */
export const outputProgress = (text: string): Progress => ({ kind: 'output', text });
