import type { ContainerConfig, ContainerCreateBody, HealthConfig, HostConfig } from '../../api/types/index.ts';
import { EngineError } from '../../lib/errors.ts';
import { DEFAULT_SHM_SIZE } from '../../runtime/spec/build-spec.ts';

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Merges env lists; later entries replace earlier ones with the same key (Docker's rule). */
export function mergeEnv(...lists: (readonly string[] | null | undefined)[]): string[] {
  const out = new Map<string, string>();
  for (const list of lists) for (const e of list ?? []) {
    const eq = e.indexOf('=');
    out.set(eq < 0 ? e : e.slice(0, eq), e);
  }
  return [...out.values()];
}

/**
 * The container's Config as Docker stores it: the image config with the request's fields on top.
 * A request Entrypoint without a Cmd drops the image's Cmd (Docker does the same). Throws
 * InvalidParameter when nothing is left to run.
 */
export function mergeConfig(body: ContainerCreateBody, image: ContainerConfig | undefined, id: string, imageRef: string): ContainerConfig {
  const img = image ?? {};
  // Docker's merge (daemon/commit.go): only a non-empty request Entrypoint drops the image Cmd; an
  // explicit empty one (`"Entrypoint": []`) clears the image entrypoint but keeps its Cmd.
  const entrypointGiven = (body.Entrypoint?.length ?? 0) > 0;
  const cmdGiven = (body.Cmd?.length ?? 0) > 0;
  let entrypoint = entrypointGiven ? body.Entrypoint! : body.Entrypoint == null ? (img.Entrypoint ?? null) : null;
  // `--entrypoint ""` arrives as [""]: no entrypoint, and (being non-empty) no image Cmd either.
  if (entrypoint && entrypoint.length === 1 && entrypoint[0] === '') entrypoint = null;
  const cmd = cmdGiven ? body.Cmd! : entrypointGiven ? null : (img.Cmd ?? null);
  if ((!entrypoint || entrypoint.length === 0) && (!cmd || cmd.length === 0)) {
    // Docker's wording (daemon: "No command specified"); the CLI prints it as is.
    throw new EngineError('InvalidParameter', 'No command specified');
  }
  const env = mergeEnv(img.Env, body.Env);
  const exposed = { ...(img.ExposedPorts ?? {}), ...(body.ExposedPorts ?? {}) };
  const volumes = { ...(img.Volumes ?? {}), ...(body.Volumes ?? {}) };
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift(DEFAULT_PATH);
  return {
    Hostname: body.Hostname || id.slice(0, 12),
    Domainname: body.Domainname ?? '',
    User: body.User || img.User || '',
    AttachStdin: body.AttachStdin ?? false,
    AttachStdout: body.AttachStdout ?? false,
    AttachStderr: body.AttachStderr ?? false,
    // As docker's inspect shows them: ExposedPorts left out when empty (omitempty), Volumes null.
    ...(Object.keys(exposed).length ? { ExposedPorts: exposed } : {}),
    Tty: body.Tty ?? false,
    OpenStdin: body.OpenStdin ?? false,
    StdinOnce: body.StdinOnce ?? false,
    Env: env,
    Cmd: cmd,
    ...(body.Healthcheck ?? img.Healthcheck ? { Healthcheck: mergeHealthcheck(body.Healthcheck, img.Healthcheck) } : {}),
    Image: imageRef,
    Volumes: Object.keys(volumes).length ? volumes : null,
    WorkingDir: body.WorkingDir || img.WorkingDir || '',
    Entrypoint: entrypoint,
    OnBuild: img.OnBuild ?? null,
    Labels: { ...(img.Labels ?? {}), ...(body.Labels ?? {}) },
    // Deprecated (API 1.44) but still sent by docker-py and older CLIs; networking moves it to the main endpoint.
    ...(body.MacAddress ? { MacAddress: body.MacAddress } : {}),
    ...(body.StopSignal || img.StopSignal ? { StopSignal: body.StopSignal || img.StopSignal } : {}),
    ...(body.StopTimeout !== undefined ? { StopTimeout: body.StopTimeout } : {}),
    // Kept as the request gave them (dockerd keeps the request's Config and merges only the above).
    ...(body.Shell?.length ? { Shell: body.Shell } : {}),
    ...(body.ArgsEscaped ? { ArgsEscaped: true } : {}),
  };
}

/**
 * HostConfig defaults Docker fills in on create, so inspect shows the same shape. A container
 * without a log driver gets the daemon's (`log-driver`), and its `log-opts` unless it set them.
 */
export function normalizeHostConfig(hc: HostConfig | undefined, defaultRuntime: string, defaultLog: { Type: string; Config: Record<string, string> } = { Type: 'json-file', Config: {} }): HostConfig {
  const h: HostConfig = { ...(hc ?? {}) };
  // Docker stores the default network mode under its real name.
  h.NetworkMode = !h.NetworkMode || h.NetworkMode === 'default' ? 'bridge' : h.NetworkMode;
  const logType = h.LogConfig?.Type || defaultLog.Type;
  h.LogConfig = { Type: logType, Config: { ...(logType === defaultLog.Type ? defaultLog.Config : {}), ...(h.LogConfig?.Config ?? {}) } };
  // dockerd names the empty policy "no" before checking it, so a retry count without a name is refused.
  h.RestartPolicy = { Name: h.RestartPolicy?.Name || 'no', MaximumRetryCount: h.RestartPolicy?.MaximumRetryCount ?? 0 };
  h.Runtime = h.Runtime || defaultRuntime;
  // A negative size stays, for validation to refuse it.
  h.ShmSize = h.ShmSize || DEFAULT_SHM_SIZE;
  h.IpcMode = h.IpcMode || 'private';
  h.CgroupnsMode = h.CgroupnsMode || 'private';
  h.PortBindings = h.PortBindings ?? {};
  h.Binds = h.Binds ?? null;
  h.Privileged = h.Privileged ?? false;
  h.ReadonlyRootfs = h.ReadonlyRootfs ?? false;
  h.AutoRemove = h.AutoRemove ?? false;
  return h;
}

/** Docker's command column and Path/Args: entrypoint then cmd. */
export function processArgs(cfg: ContainerConfig): string[] {
  return [...(cfg.Entrypoint ?? []), ...(cfg.Cmd ?? [])];
}

/** dockerd's merge: each unset (empty or zero) field of the request's health check comes from the image's. */
function mergeHealthcheck(user: HealthConfig | undefined, img: HealthConfig | undefined): HealthConfig | undefined {
  if (!user || !img) return user ?? img;
  return {
    ...user, Test: user.Test?.length ? user.Test : img.Test ?? [],
    Interval: user.Interval || img.Interval || 0, Timeout: user.Timeout || img.Timeout || 0,
    StartPeriod: user.StartPeriod || img.StartPeriod || 0, StartInterval: user.StartInterval || img.StartInterval || 0,
    Retries: user.Retries || img.Retries || 0,
  };
}
