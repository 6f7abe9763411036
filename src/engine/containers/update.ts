import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerUpdateBody, HostConfig, Resources, RestartPolicy } from '../../api/types/index.ts';
import { EngineError, messageOf } from '../../lib/errors.ts';
import { clearPidsLimit, type CgroupLayout } from '../../runtime/cgroups/index.ts';
import { toOciUpdateResources } from '../../runtime/spec/index.ts';
import { cgroupPathOf } from './resource-devices.ts';
import type { ContainerService } from './service.ts';
import { hostResources, validateResources, type HostResources } from './validate-resources.ts';
import { checkRestartPolicy } from './validate-host.ts';
import { withRuntimeCause } from '../../runtime/runtime-errors.ts';

/** What `update` needs besides the container service. */
export interface UpdateDeps {
  containers: ContainerService;
  /** The daemon's cgroup parent ("/berth-x"), for containers without --cgroup-parent. */
  cgroupParent: string;
  cgroupLayout: CgroupLayout;
  host?: HostResources;
}

const conflict = (id: string, msg: string) => new EngineError('Conflict', `Cannot update container ${id}: ${msg}`);

/** dockerd's ValidateRestartPolicy, with its wording (validate-host.ts). Pure. Throws InvalidParameter. */
export function validateRestartPolicy(p: RestartPolicy): void {
  checkRestartPolicy(p);
}

/**
 * The HostConfig after an update, as dockerd's UpdateContainer merges it: only the non-zero fields
 * of the request replace stored ones. NanoCpus and CpuPeriod/CpuQuota cannot be mixed across
 * updates, and a memory limit above the stored swap limit needs a new swap limit. Pure.
 * Throws Conflict (`Cannot update container ID: Conflicting options: ...`).
 */
export function mergeUpdate(id: string, current: HostConfig, req: ContainerUpdateBody): HostConfig {
  const cur = current;
  const fail = (msg: string): never => { throw conflict(id, msg); };
  if ((req.NanoCpus ?? 0) > 0 && (cur.CpuPeriod ?? 0) > 0) fail('Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set');
  if ((req.NanoCpus ?? 0) > 0 && (cur.CpuQuota ?? 0) > 0) fail('Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set');
  if ((req.CpuPeriod ?? 0) > 0 && (cur.NanoCpus ?? 0) > 0) fail('Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set');
  if ((req.CpuQuota ?? 0) > 0 && (cur.NanoCpus ?? 0) > 0) fail('Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set');
  const next: HostConfig = { ...cur };
  const numeric = ['BlkioWeight', 'CpuShares', 'NanoCpus', 'CpuPeriod', 'CpuQuota', 'MemorySwap', 'MemoryReservation',
    'KernelMemory', 'CpuRealtimePeriod', 'CpuRealtimeRuntime'] as const;
  if (req.Memory) {
    if (req.Memory > (cur.MemorySwap ?? 0) && !req.MemorySwap) {
      fail('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
    }
    next.Memory = req.Memory;
  }
  for (const k of numeric) if (req[k]) next[k] = req[k];
  if (req.CpusetCpus) next.CpusetCpus = req.CpusetCpus;
  if (req.CpusetMems) next.CpusetMems = req.CpusetMems;
  if (req.PidsLimit !== undefined && req.PidsLimit !== null) next.PidsLimit = req.PidsLimit;
  if (req.RestartPolicy?.Name) {
    if (cur.AutoRemove && req.RestartPolicy.Name !== 'no') fail('Restart policy cannot be updated because AutoRemove is enabled for the container');
    next.RestartPolicy = { Name: req.RestartPolicy.Name, MaximumRetryCount: req.RestartPolicy.MaximumRetryCount ?? 0 };
  }
  return next;
}

/**
 * POST /containers/{id}/update: validates the request as a create would be (dockerd's messages),
 * merges it into the stored HostConfig and, for a running or paused container, applies the new
 * limits through the OCI runtime (`update --resources`). A stopped container only has them
 * stored; its next start uses them. If the runtime refuses, the stored HostConfig is put back.
 * Returns dockerd's warnings. Throws NotFound, InvalidParameter, Conflict, or Internal
 * (`Cannot update container ID: ...`) when the runtime fails.
 */
export async function updateContainer(d: UpdateDeps, ref: string, body: ContainerUpdateBody): Promise<string[]> {
  const svc = d.containers;
  const { RestartPolicy: restart, ...resources } = body ?? {};
  const req: Resources = { ...resources };
  // dockerd checks the request before it looks the container up.
  const warnings = validateResources(req, d.host ?? hostResources(), { update: true });
  if (restart) validateRestartPolicy(restart);
  const c0 = svc.resolve(ref);
  await svc.runLocked(c0.id, async () => {
    const c = svc.repo.get(c0.id);
    if (!c) throw new EngineError('NotFound', `No such container: ${ref}`);
    if (c.state.status === 'removing' || c.state.status === 'dead') {
      throw conflict(c.id, 'container is marked for removal and cannot be "update"');
    }
    const next = mergeUpdate(c.id, c.hostConfig, { ...req, ...(restart ? { RestartPolicy: restart } : {}) });
    svc.repo.saveHostConfig(c.id, next);
    // dockerd: a stopped or restarting container keeps the new values for its next start.
    if (!svc.isRunning(c.id) || c.state.status === 'restarting') return;
    try {
      await applyToRunning(d, c.id, c.runtime, next, req);
    } catch (err) {
      svc.repo.saveHostConfig(c.id, c.hostConfig);
      throw new EngineError('Internal', `Cannot update container ${c.id}: ${messageOf(err)}`, { cause: err });
    }
  });
  svc.deps.events.publish('container', 'update', c0.id, { ...(c0.config.Labels ?? {}), image: c0.imageRef, name: c0.name });
  return warnings;
}

async function applyToRunning(d: UpdateDeps, id: string, runtimeName: string, hc: HostConfig, req: Resources): Promise<void> {
  const runtime = d.containers.runtimeFor(runtimeName);
  const unlimitedPids = req.PidsLimit !== undefined && req.PidsLimit !== null && req.PidsLimit <= 0;
  const doc = toOciUpdateResources(req);
  if (unlimitedPids) delete doc.pids;
  if (Object.keys(doc).length) {
    const file = join(d.containers.paths(id).bundleDir, `update-${process.pid}-${Date.now()}.json`);
    await writeFile(file, JSON.stringify(doc));
    try {
      await runtime.update(id, file).catch((err: unknown) => { throw withRuntimeCause(err, `Cannot update container ${id}`); });
    } finally {
      await rm(file, { force: true });
    }
  }
  if (unlimitedPids) await clearPidsLimit(cgroupPathOf(hc, id, d.cgroupParent), d.cgroupLayout);
}
