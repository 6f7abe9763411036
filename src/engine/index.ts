/**
 * The engine's one public surface (DESIGN "The engine seam"). berthd's API, the CLI and the
 * daemons to come import engine code from here only: the resource interfaces, the domain types
 * they use, createEngine, and the few pure helpers the API's views need.
 */
export { createEngine } from './create-engine.ts';
export { validateEngineConfig, type CheckedEngineConfig } from './validate-config.ts';
export type { Engine, EngineConfig, EngineLog } from './contracts/engine.ts';
export type {
  AttachOptions, CommitRequest, ContainerAttachment, ContainerDetails, ContainerExit, ContainerEngine, ContainerListOptions, ContainerLogs,
  ContainerNetworking, ContainerSizes, ContainerStats, ExtractOptions, FileChange, LogsOptions, PathStat, StatsSample, StopOptions, WaitCondition,
} from './contracts/containers.ts';
export type { ExecDetails, ExecEngine } from './contracts/execs.ts';
export type {
  Image, ImageEngine, ImageHistoryItem, ImageListOptions, ImagePruneResult, ImageRemoval, ImageSearchHit, ImportImageOptions,
  PullImageOptions, PushImageOptions, RegistryCredentials, ResolvedImage,
} from './contracts/images.ts';
export type { VolumeEngine } from './contracts/volumes.ts';
export type { NetworkDetails, NetworkEngine } from './contracts/networks.ts';
export type { BuildCachePruneResult, BuildEngine } from './contracts/builds.ts';
export type { ComponentVersion, DiskUsage, DiskUsageType, EngineInfo, EngineVersion, GcResult, SystemEngine } from './contracts/system.ts';
export type { EventsEngine } from './contracts/events.ts';
export type { Progress } from '../lib/progress.ts';

// Domain types the interfaces use.
export type { ContainerRecord, ContainerState } from './containers/record.ts';
export type { ContainerPaths } from './containers/paths.ts';
export type { LogEntry } from './containers/logs.ts';
export type { AttachStreams } from './containers/attach.ts';
export type { ExecStreams } from './containers/exec.ts';
export type { NetworkRecord, EndpointRecord } from './networks/record.ts';
export type { Attached } from './networks/container-networks.ts';
export type { MountRecord, VolumeRecord } from './volumes/record.ts';
export type { CreateVolumeRequest } from './volumes/service.ts';
export type { EngineEvent, EventSubscription } from './events.ts';
export type { Orphan, OrphanKind } from './system/gc.ts';
export type { BuildOptions, BuildOutput, StepEvent } from './builds/contract.ts';

// Pure helpers for the API's views and checks.
export { BERTH_VERSION } from './system/versions.ts';
/** The in-memory EventsEngine the engine uses, for embedders' and the API's tests. */
export { EventBus } from './events.ts';
export { processArgs } from './containers/config-merge.ts';
export { initialState } from './containers/record.ts';
export { dnsNames } from './networks/container-networks.ts';
export { containerPortMap, containerPorts } from './containers/container-engine.ts';
export { checkMountOptionTypes } from './containers/validate-host.ts';
export { parseTimeNs } from './containers/logs.ts';
