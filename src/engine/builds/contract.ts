/**
 * The build API contract between POST /build (src/api/routes/build.ts), the build engine
 * (src/engine/builds) and the CLI (`berth build`, src/cli). Keep it stable: the CLI codes against it.
 *
 * Request: `POST /build?<query>` with the build context as the body: a tar archive, plain or
 * gzip/bzip2/xz compressed (detected from the magic bytes, like dockerd). `Content-Type:
 * application/x-tar`. The query parameters are Docker's legacy-builder ones (API v1.47), parsed
 * into {@link BuildOptions} by {@link parseBuildQuery}-style code in the route.
 *
 * Response: `200` with `Content-Type: application/json` and a stream of JSON messages, one per
 * line (`api.JsonMessage`), exactly as dockerd's legacy builder writes them so `DOCKER_BUILDKIT=0
 * docker build` and docker-compose print the familiar log. The engine yields the build's
 * `Progress` (lib/progress.ts: `output` for stream lines, `result` for aux records); the route
 * renders each as one message (api/routes/progress-views.ts, aux style):
 *
 *   {"stream":"Step 1/3 : FROM busybox"}
 *   {"stream":"\n"}
 *   {"stream":" ---\u003e 3f57d9401f8d\n"}
 *   {"stream":"Step 2/3 : RUN echo hi"}
 *   {"stream":"\n"}
 *   {"stream":" ---\u003e Running in 5c1e2a7b9f0d\n"}
 *   {"stream":"hi\n"}                                   (the RUN's stdout, as it comes)
 *   {"stream":"\u001b[91moops\n\u001b[0m"}               (its stderr, each chunk in bright red)
 *   {"stream":" ---\u003e Removed intermediate container 5c1e2a7b9f0d\n"}  (see below)
 *   {"stream":" ---\u003e 9a8b7c6d5e4f\n"}
 *   {"stream":"Step 3/3 : CMD [\"sh\"]"}
 *   {"stream":"\n"}
 *   {"stream":" ---\u003e Using cache\n"}                (a cache hit)
 *   {"stream":" ---\u003e 0a1b2c3d4e5f\n"}
 *   {"aux":{"ID":"sha256:0a1b…"}}
 *   {"stream":"Successfully built 0a1b2c3d4e5f\n"}
 *   {"stream":"Successfully tagged web:latest\n"}
 *
 * The legacy builder prints "Removing intermediate container <id12>\n" (and, since 23.0,
 * " ---> Removed intermediate container <id12>\n"); berth prints the latter, as dockerd 24+ does.
 * Metadata-only steps (ENV, CMD, LABEL…) print only ` ---> <id>`: dockerd creates and removes
 * a container for each of them (so it also prints "Running in"/"Removed"), berth makes none.
 * A failing step is preceded by `Dockerfile:<line>` and the lines around it (BuildKit's layout).
 * Multi-stage builds number steps across all built stages (dockerd numbers the whole file;
 * berth numbers the steps of the stages it builds, skipped stages are not printed).
 *
 * Failure: the stream ends with an error message (HTTP status stays 200 once streaming began):
 *
 *   {"errorDetail":{"code":3,"message":"The command '/bin/sh -c exit 3' returned a non-zero code: 3"},
 *    "error":"The command '/bin/sh -c exit 3' returned a non-zero code: 3"}
 *
 * Errors found before anything was streamed (bad query, unreadable context, a Dockerfile that does
 * not parse) are ordinary HTTP errors with `{"message": "…"}` (400/404/500), as dockerd does.
 * Dockerfile errors carry the line: `dockerfile parse error on line 3: unknown instruction: FORM`;
 * step errors name the step: `COPY failed: file not found in build context or excluded by
 * .dockerignore: stat nope.txt: file does not exist`.
 *
 * `q=1`: only the aux ID message and, at the end, `{"stream":"sha256:…\n"}` (docker -q prints it).
 * `outputs`: see {@link BuildOutput}.
 *
 * ## berth step events (for `berth build --progress plain|tty`)
 *
 * Interleaved with the messages above, the daemon sends structured events the docker CLI ignores
 * (it prints only `stream`, `status`, `error` and the aux `ID`; an `id`+`aux` message with no status
 * renders nothing in docker's jsonmessage code because the aux callback only looks for `ID`):
 *
 *   {"id":"berth.step","aux":{"vertex":"1:2","stage":"build","step":2,"total":7,
 *     "name":"[build 2/4] RUN make","status":"started","ts":1732326000123}}
 *   {"id":"berth.step","aux":{"vertex":"1:2","status":"log","stream":"stdout","data":"cc -o app\n"}}
 *   {"id":"berth.step","aux":{"vertex":"1:2","status":"done","elapsedMs":1840,"ts":…}}
 *   {"id":"berth.step","aux":{"vertex":"0:3","status":"cached","elapsedMs":0,…}}
 *   {"id":"berth.step","aux":{"vertex":"1:3","status":"error","elapsedMs":12,"error":"…"}}
 *
 * Step events are sent only when the request asks for them with `berthprogress=1` (so plain docker
 * clients get byte-for-byte dockerd output). When they are on, RUN output is sent ONLY as `log`
 * events (not duplicated as `stream`), because parallel stages interleave and the CLI needs to know
 * which vertex a line belongs to; the `Step N/M` / `--->` stream lines are still sent.
 *
 * ## Secrets (`berth build --secret id=x,src=path`)
 *
 * The legacy API has no session, so the CLI ships secrets inside the context tar under the reserved
 * directory {@link SECRETS_DIR} (`.berth-build-secrets/<id>`, mode 0400), and lists the ids in
 * the `berthsecrets` query param (JSON array of ids). The builder removes that directory from the
 * context before anything can COPY it, keeps each secret in memory/tmpfs-backed temp file, and
 * bind-mounts it read-only only into a RUN that asks for it with `--mount=type=secret,id=x`
 * (default target `/run/secrets/x`). Secrets never enter a layer, the cache key or history.
 * A `RUN --mount=type=secret,id=x,required=true` with no such secret fails the build.
 * The same reserved directory is stripped even when `berthsecrets` is absent (defence in depth).
 */
/** Reserved directory at the root of the context tar carrying `--secret` files. */
export const SECRETS_DIR = '.berth-build-secrets';

/** The `id` of berth's structured step events on the build stream. */
export const STEP_EVENT_ID = 'berth.step';

/** Where `--output` sends the result instead of (or as well as) an image. */
export type BuildOutput =
  /**
   * `type=local,dest=dir` and `type=tar,dest=file|-`: the daemon streams the final stage's root
   * filesystem back as a tar: after the last message it sends
   * `{"id":"berth.output","aux":{"tar":"<base64 chunk>"}}` messages, ended by
   * `{"id":"berth.output","aux":{"done":true}}`. The CLI extracts (local) or writes (tar) it.
   * No image is tagged when an output other than `image` is asked for (BuildKit's rule), though
   * the image is still built and kept as cache.
   * Status: the daemon parses `outputs` but does not stream the tar yet; berth's CLI implements
   * `--output` on the client side (src/cli/commands/image/build-output.ts), which needs nothing here.
   */
  | { type: 'local' | 'tar' }
  | { type: 'image' };

/** Everything POST /build's query carries, parsed. Engine-side names, camelCase. */
export interface BuildOptions {
  /** `t` (repeatable): references to tag the result with, normalized by the route. */
  tags: string[];
  /** `dockerfile`: path of the Dockerfile inside the context (default `Dockerfile`). */
  dockerfile: string;
  /** `buildargs`: JSON object; a null value means "take it from the daemon env" (ignored: unset). */
  buildArgs: Record<string, string | null>;
  /** `labels`: JSON object, applied to the final image. */
  labels: Record<string, string>;
  /** `target`: the stage to stop at (by name or index); default the last stage. */
  target?: string;
  /** `nocache`. */
  noCache: boolean;
  /** `pull`: always pull FROM images (registry images; local-only ones error as dockerd's do). */
  pull: boolean;
  /**
   * `cachefrom`: JSON array of image references whose layers/history may satisfy cache lookups.
   * When given, the local cache answers only with images on their chains (none for a missing one).
   */
  cacheFrom: string[];
  /** `networkmode`: RUN network (`default`/`bridge`, `host`, `none`, or a network name). */
  networkMode: string;
  /** `extrahosts`: `host:ip` entries added to RUN containers' /etc/hosts (comma separated on the wire). */
  extraHosts: string[];
  /** `rm` (default true) and `forcerm`: berth always removes intermediate containers (both on). */
  rm: boolean;
  forceRm: boolean;
  /** `q`: suppress the verbose stream. */
  quiet: boolean;
  /** `platform`: accepted when it names the host's platform; anything else is InvalidParameter. */
  platform?: string;
  /** `outputs` (berth extension, JSON like BuildKit's `[{"Type":"local"}]`); default `image`. */
  output: BuildOutput;
  /** `berthprogress=1` (berth extension): send berth step events. */
  stepEvents: boolean;
  /** `berthsecrets` (berth extension): ids of secrets shipped under {@link SECRETS_DIR}. */
  secretIds: string[];
  /**
   * Accepted and ignored, as the legacy builder on a single host mostly does: memory, memswap,
   * cpushares, cpusetcpus, cpuperiod, cpuquota, shmsize, squash, remote, session, version,
   * ulimits, cgroupparent, isolation, buildid. Listed here so nobody "adds" them twice.
   */
}

/** The payload of a `berth.step` event: a wire type (api/types), since the CLI renders it. */
export type { StepEvent } from '../../api/types/index.ts';

/** The result of a build the engine hands back to the route. */
export interface BuildResult {
  /** `sha256:…` config digest of the final image. */
  imageId: string;
  /** The references actually tagged. */
  tags: string[];
}
