import type { BuildEngine } from './builds.ts';
import type { ContainerEngine } from './containers.ts';
import type { EventsEngine } from './events.ts';
import type { ExecEngine } from './execs.ts';
import type { ImageEngine } from './images.ts';
import type { NetworkEngine } from './networks.ts';
import type { SystemEngine } from './system.ts';
import type { VolumeEngine } from './volumes.ts';

/**
 * The engine as a library: what berthd's API, a daemonless CLI and the cluster agent drive.
 * Made by createEngine (recovered and ready); `close` lets go of its state (containers keep
 * running: they belong to conmon).
 */
export interface Engine {
  containers: ContainerEngine;
  execs: ExecEngine;
  images: ImageEngine;
  volumes: VolumeEngine;
  networks: NetworkEngine;
  builds: BuildEngine;
  system: SystemEngine;
  events: EventsEngine;
  close(): Promise<void>;
}

/** The engine's slice of berthd's configuration (daemon/config.ts DaemonConfig satisfies it). */
export interface EngineConfig {
  dataRoot: string;
  execRoot: string;
  defaultRuntime: string;
  /** Runtime name → path of its binary (crun, runc). */
  runtimes: Record<string, string>;
  logDriver: string;
  logOpts: Record<string, string>;
  /** Prefix of host objects (the cgroup parent, nft tables), derived from the exec root. */
  objectPrefix: string;
  /** Start of every network interface name the engine makes (≤ 6 characters: veth names must fit 15). */
  ifPrefix: string;
  /** --bip: the default bridge's gateway with prefix. */
  bip?: string;
  /** --ipv6 with --fixed-cidr-v6: the default bridge is dual-stack, with this IPv6 subnet. */
  ipv6?: boolean;
  fixedCidrV6?: string;
  defaultAddressPools?: { base: string; size: number }[];
  /** The resolv.conf whose nameservers the embedded DNS forwards to (followed on change). */
  hostResolvConf: string;
  registryMirrors: string[];
  insecureRegistries: string[];
  /** Layers a pull downloads at once (Docker's default 3). */
  maxConcurrentDownloads: number;
  /** Layers a push uploads at once (Docker's default 5). */
  maxConcurrentUploads: number;
  /** Host binaries (defaults: /usr/bin/conmon, /usr/bin/tini-static). */
  conmonPath?: string;
  tiniPath?: string;
}

/** The engine's log: pino's shape, which berthd's logger has. */
export interface EngineLog {
  debug(o: object, m?: string): void;
  info(o: object, m?: string): void;
  warn(o: object | string, m?: string): void;
  error(o: object, m?: string): void;
}
