import { type Schema, any, array, bool, int, map, str, stringMap, strings, strslice, struct } from '../body-schema.ts';
import { endpointSettings } from './network.ts';

// Container bodies as dockerd's Go structs decode them (API 1.47: api/types/container, mount,
// strslice, blkiodev, units). Validation of values (ranges dockerd words itself, such as
// "Minimum memory limit allowed is 6MB") stays in the engine; these are the types only.

const emptyStructMap = (): Schema => map(struct({})); // map[string]struct{}: ExposedPorts, Volumes
const throttleDevices = (): Schema => array(struct({ Path: str(), Rate: int('uint64') }));

/** container.HealthConfig: durations are int64 nanoseconds. */
const healthConfig = (): Schema => struct({
  Test: strings(), Interval: int('int64'), Timeout: int('int64'), StartPeriod: int('int64'), StartInterval: int('int64'), Retries: int('int'),
});

/** container.Config fields: what runs. Also the body of POST /commit. */
const configFields = (): Record<string, Schema> => ({
  Hostname: str(),
  Domainname: str(),
  User: str(),
  AttachStdin: bool(),
  AttachStdout: bool(),
  AttachStderr: bool(),
  ExposedPorts: emptyStructMap(),
  Tty: bool(),
  OpenStdin: bool(),
  StdinOnce: bool(),
  Env: strings(),
  Cmd: strslice(),
  Healthcheck: healthConfig(),
  ArgsEscaped: bool(),
  Image: str(),
  Volumes: emptyStructMap(),
  WorkingDir: str(),
  Entrypoint: strslice(),
  NetworkDisabled: bool(),
  MacAddress: str(),
  OnBuild: strings(),
  Labels: stringMap(),
  StopSignal: str(),
  StopTimeout: int('int'),
  Shell: strslice(),
});

/** container.Resources: the part of HostConfig that POST /containers/{id}/update changes too. */
const resourceFields = (): Record<string, Schema> => ({
  CpuShares: int('int64'),
  Memory: int('int64'),
  NanoCpus: int('int64'),
  CgroupParent: str(),
  BlkioWeight: int('uint16'),
  BlkioWeightDevice: array(struct({ Path: str(), Weight: int('uint16') })),
  BlkioDeviceReadBps: throttleDevices(),
  BlkioDeviceWriteBps: throttleDevices(),
  BlkioDeviceReadIOps: throttleDevices(),
  BlkioDeviceWriteIOps: throttleDevices(),
  CpuPeriod: int('int64'),
  CpuQuota: int('int64'),
  CpuRealtimePeriod: int('int64'),
  CpuRealtimeRuntime: int('int64'),
  CpusetCpus: str(),
  CpusetMems: str(),
  Devices: array(struct({ PathOnHost: str(), PathInContainer: str(), CgroupPermissions: str() })),
  DeviceCgroupRules: strings(),
  DeviceRequests: array(struct({ Driver: str(), Count: int('int'), DeviceIDs: strings(), Capabilities: array(strings()), Options: stringMap() })),
  KernelMemory: int('int64'),
  KernelMemoryTCP: int('int64'),
  MemoryReservation: int('int64'),
  MemorySwap: int('int64'),
  MemorySwappiness: int('int64'),
  OomKillDisable: bool(),
  PidsLimit: int('int64'),
  Ulimits: array(struct({ Name: str(), Hard: int('int64'), Soft: int('int64') })),
  CpuCount: int('int64'),
  CpuPercent: int('int64'),
  IOMaximumIOps: int('uint64'),
  IOMaximumBandwidth: int('uint64'),
});

const restartPolicy = (): Schema => struct({ Name: str(), MaximumRetryCount: int('int') });

/** mount.Mount: one HostConfig.Mounts entry. */
const mountSpec = (): Schema => struct({
  Type: str(),
  Source: str(),
  Target: str(),
  ReadOnly: bool(),
  Consistency: str(),
  BindOptions: struct({ Propagation: str(), NonRecursive: bool(), CreateMountpoint: bool(), ReadOnlyNonRecursive: bool(), ReadOnlyForceRecursive: bool() }),
  VolumeOptions: struct({ NoCopy: bool(), Labels: stringMap(), Subpath: str(), DriverConfig: struct({ Name: str(), Options: stringMap() }) }),
  TmpfsOptions: struct({ SizeBytes: int('int64'), Mode: int('uint32'), Options: array(strings()) }),
  ImageOptions: struct({ Subpath: str() }),
  ClusterOptions: any(),
});

/** container.HostConfig. */
const hostConfig = (): Schema => struct({
  ...resourceFields(),
  Binds: strings(),
  ContainerIDFile: str(),
  LogConfig: struct({ Type: str(), Config: stringMap() }),
  NetworkMode: str(),
  PortBindings: map(array(struct({ HostIp: str(), HostPort: str() }))),
  RestartPolicy: restartPolicy(),
  AutoRemove: bool(),
  VolumeDriver: str(),
  VolumesFrom: strings(),
  ConsoleSize: array(int('uint')),
  Annotations: stringMap(),
  CapAdd: strslice(),
  CapDrop: strslice(),
  CgroupnsMode: str(),
  Dns: strings(),
  DnsOptions: strings(),
  DnsSearch: strings(),
  ExtraHosts: strings(),
  GroupAdd: strings(),
  IpcMode: str(),
  Cgroup: str(),
  Links: strings(),
  OomScoreAdj: int('int'),
  PidMode: str(),
  Privileged: bool(),
  PublishAllPorts: bool(),
  ReadonlyRootfs: bool(),
  SecurityOpt: strings(),
  StorageOpt: stringMap(),
  Tmpfs: stringMap(),
  UTSMode: str(),
  UsernsMode: str(),
  ShmSize: int('int64'),
  Sysctls: stringMap(),
  Runtime: str(),
  Isolation: str(),
  MaskedPaths: strings(),
  ReadonlyPaths: strings(),
  Init: bool(),
  Mounts: array(mountSpec()),
});

/** POST /containers/create: Config with HostConfig and NetworkingConfig beside its fields. */
export const containerCreateSchema = (): Schema => struct({
  ...configFields(),
  HostConfig: hostConfig(),
  NetworkingConfig: struct({ EndpointsConfig: map(endpointSettings()) }),
});

/** POST /containers/{id}/update: the resources and the restart policy. */
export const containerUpdateSchema = (): Schema => struct({ ...resourceFields(), RestartPolicy: restartPolicy() });

/** POST /commit: the Config to apply to the new image. */
export const commitConfigSchema = (): Schema => struct(configFields());
