import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { AttachSession } from '../../lib/native-helper.ts';

/** What attaching needs from the native helper. */
export interface AttachConnector {
  attach(socketPath: string, opts?: { signal?: AbortSignal; stdin?: boolean }): Promise<AttachSession>;
}

/**
 * An attach stream handed to the API layer. The container side may connect later: `docker run`
 * attaches to a created container before starting it, so the connection to conmon's attach socket
 * is made at start, after conmon is up and before the process runs, and no output is lost.
 */
export interface AttachStreams {
  stdout: Readable;
  stderr: Readable;
  /** Null unless stdin was requested and the container keeps stdin open. */
  stdin: Writable | null;
  /** Settles when the output ends (the container exited, or we detached). */
  done: Promise<void>;
  /** Leaves the container running and ends this attach. */
  detach(): void;
}

/** Builds the client half now and wires it to a conmon session once `connect` is called. */
export class PendingAttach implements AttachStreams {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly stdin: PassThrough | null;
  readonly done: Promise<void>;
  #finish!: () => void;
  #session: AttachSession | undefined;
  #detached = false;

  constructor(wantStdin: boolean) {
    this.stdin = wantStdin ? new PassThrough() : null;
    this.done = new Promise((r) => { this.#finish = r; });
  }

  get detached(): boolean { return this.#detached; }

  /** Connects to conmon; resolves once the helper is connected. */
  async connect(connector: AttachConnector, socketPath: string | null): Promise<void> {
    if (socketPath === null) { this.#end(); return; }
    if (this.#detached) return;
    const s = await connector.attach(socketPath, { stdin: this.stdin !== null });
    this.#session = s;
    s.stdout.pipe(this.stdout, { end: false });
    s.stderr.pipe(this.stderr, { end: false });
    if (this.stdin) this.stdin.pipe(s.stdin);
    // The helper's exit can come before the last of its output has been read: end only once both
    // pipes are drained, or a fast container's output is lost.
    void Promise.allSettled([s.done, streamEnded(s.stdout), streamEnded(s.stderr)]).then(() => this.#end());
    if (this.#detached) s.kill();
  }

  #ending = false;

  #end(): void {
    if (this.#ending) return;
    this.#ending = true;
    this.stdout.end();
    this.stderr.end();
    // `done` settles after the consumer has seen every byte (the streams' 'end').
    void Promise.all([streamEnded(this.stdout), streamEnded(this.stderr)]).then(() => this.#finish());
  }

  detach(): void {
    if (this.#detached) return;
    this.#detached = true;
    if (this.#session) this.#session.kill();
    else this.#end();
  }
}

/** Resolves when a readable has delivered its last byte ('end') or was destroyed ('close'). */
function streamEnded(s: Readable): Promise<void> {
  if (s.readableEnded || s.destroyed) return Promise.resolve();
  return new Promise((resolve) => { s.once('end', () => resolve()); s.once('close', () => resolve()); });
}
