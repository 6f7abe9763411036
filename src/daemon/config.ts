import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { EngineError } from '../lib/errors.ts';
import type { EngineConfig } from '../engine/index.ts';
import { validateDaemonConfig } from './validate-config.ts';

/** berthd's configuration, flags over daemon.json over defaults (loaded once, validated, frozen): the engine's part and what only the daemon uses. */
export interface DaemonConfig extends EngineConfig {
  hosts: string[];
  configFile: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  pidFile: string;
}

// Keys as Docker's daemon.json spells them. Keys berth does not know are refused, as dockerd does.
const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    'data-root': { type: 'string' }, 'exec-root': { type: 'string' }, hosts: { type: 'array', items: { type: 'string' } },
    'log-level': { enum: ['debug', 'info', 'warn', 'error', 'fatal'] }, debug: { type: 'boolean' },
    'default-runtime': { type: 'string' },
    runtimes: { type: 'object', additionalProperties: { type: 'object', properties: { path: { type: 'string' }, runtimeArgs: { type: 'array' } }, required: ['path'] } },
    'log-driver': { type: 'string' }, 'log-opts': { type: 'object', additionalProperties: { type: 'string' } },
    'registry-mirrors': { type: 'array', items: { type: 'string' } }, 'insecure-registries': { type: 'array', items: { type: 'string' } },
    'max-concurrent-downloads': { type: 'integer', minimum: 1 }, 'max-concurrent-uploads': { type: 'integer', minimum: 1 },
    'live-restore': { type: 'boolean' }, bip: { type: 'string' }, ipv6: { type: 'boolean' }, 'fixed-cidr-v6': { type: 'string' },
    'default-address-pools': { type: 'array', items: { type: 'object', properties: { base: { type: 'string' }, size: { type: 'integer', minimum: 1, maximum: 128 } }, required: ['base', 'size'], additionalProperties: false } },
    dns: { type: 'array', items: { type: 'string' } }, 'dns-search': { type: 'array' }, 'dns-opts': { type: 'array' },
    iptables: { type: 'boolean' }, 'userland-proxy': { type: 'boolean' }, pidfile: { type: 'string' },
    'storage-driver': { enum: ['overlay2'] }, experimental: { type: 'boolean' }, init: { type: 'boolean' },
  },
} as const;

interface Flags {
  hosts: string[]; dataRoot?: string; execRoot?: string; configFile?: string; logLevel?: string; debug?: boolean;
  defaultRuntime?: string; runtimes: Record<string, string>; pidFile?: string; help?: boolean; version?: boolean;
  bip?: string; ipv6?: boolean; fixedCidrV6?: string; addressPools: { base: string; size: number }[]; hostResolvConf?: string;
  insecureRegistries: string[]; registryMirrors: string[]; maxConcurrentDownloads?: number; maxConcurrentUploads?: number;
}

export const USAGE = `Usage:  berthd [OPTIONS]

A Docker-compatible container engine daemon

Options:
      --config-file string      Daemon configuration file (default "/etc/berth/daemon.json")
      --data-root string        Root directory of persistent state (default "/var/lib/berth")
  -D, --debug                   Enable debug mode
      --bip string              Default bridge's gateway address with prefix (e.g. 172.17.0.1/16)
      --fixed-cidr-v6 string    IPv6 subnet of the default bridge (with --ipv6)
      --ipv6                    Enable IPv6 on the default bridge
      --default-address-pool base=CIDR,size=N
                                Pool user networks and the default bridge take subnets from (repeatable)
      --default-runtime string  Default OCI runtime for containers (default "crun")
      --exec-root string        Root directory for execution state files (default "/run/berth")
  -H, --host list               Daemon socket(s) to connect to (default unix:///run/berth.sock)
      --host-resolv-conf string Resolvers the embedded DNS forwards to (default "/etc/resolv.conf")
      --insecure-registry list  Registry (host[:port] or CIDR) reached over plain HTTP when HTTPS fails (repeatable)
      --max-concurrent-downloads int
                                Layers a pull downloads at once (default 3)
      --max-concurrent-uploads int
                                Layers a push uploads at once (default 5)
      --registry-mirror list    Mirror tried before Docker Hub (repeatable)
  -l, --log-level string        Set the logging level ("debug"|"info"|"warn"|"error"|"fatal") (default "info")
  -p, --pidfile string          Path to use for daemon PID file (default "/run/berthd.pid")
      --runtime name=path       Register an additional OCI runtime (repeatable; alias --add-runtime)
  -v, --version                 Print version information and quit
`;

function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new EngineError('InvalidParameter', `invalid value "${v}" for ${flag}: must be a positive integer`);
  return n;
}

export function parseDaemonFlags(argv: readonly string[]): Flags {
  const f: Flags = { hosts: [], runtimes: {}, addressPools: [], insecureRegistries: [], registryMirrors: [] };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i]!;
    let value: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) { value = a.slice(eq + 1); a = a.slice(0, eq); }
    const take = () => {
      if (value !== undefined) return value;
      const v = argv[++i];
      if (v === undefined) throw new EngineError('InvalidParameter', `flag needs an argument: ${a}`);
      return v;
    };
    switch (a) {
      case '-H': case '--host': f.hosts.push(take()); break;
      case '--data-root': f.dataRoot = take(); break;
      case '--exec-root': f.execRoot = take(); break;
      case '--config-file': f.configFile = take(); break;
      case '-l': case '--log-level': f.logLevel = take(); break;
      case '-D': case '--debug': f.debug = true; break;
      case '--default-runtime': f.defaultRuntime = take(); break;
      case '--runtime': case '--add-runtime': {
        const v = take();
        const eq = v.indexOf('=');
        const [name, path] = eq < 0 ? [v, ''] : [v.slice(0, eq), v.slice(eq + 1)];
        if (!name || !path) throw new EngineError('InvalidParameter', `invalid runtime "${v}": expected name=path`);
        f.runtimes[name] = path;
        break;
      }
      case '-p': case '--pidfile': f.pidFile = take(); break;
      case '--bip': f.bip = take(); break;
      case '--ipv6': f.ipv6 = true; break;
      case '--fixed-cidr-v6': f.fixedCidrV6 = take(); break;
      case '--host-resolv-conf': f.hostResolvConf = take(); break;
      case '--insecure-registry': f.insecureRegistries.push(take()); break;
      case '--registry-mirror': f.registryMirrors.push(take()); break;
      case '--max-concurrent-downloads': f.maxConcurrentDownloads = positiveInt(a, take()); break;
      case '--max-concurrent-uploads': f.maxConcurrentUploads = positiveInt(a, take()); break;
      case '--default-address-pool': {
        const v = take();
        const kv = Object.fromEntries(v.split(',').map((p) => p.split('=') as [string, string]));
        const size = Number(kv['size']);
        if (!kv['base'] || !Number.isInteger(size)) throw new EngineError('InvalidParameter', `invalid default address pool "${v}": expected base=CIDR,size=N`);
        f.addressPools.push({ base: kv['base'], size });
        break;
      }
      case '-h': case '--help': f.help = true; break;
      case '-v': case '--version': f.version = true; break;
      default: throw new EngineError('InvalidParameter', `unknown flag: ${a}`);
    }
  }
  return f;
}

export function loadDaemonConfig(flags: Flags, readFile: (p: string) => string = (p) => readFileSync(p, 'utf8')): Readonly<DaemonConfig> {
  const configFile = flags.configFile ?? '/etc/berth/daemon.json';
  let file: Record<string, unknown> = {};
  let text: string | undefined;
  try { text = readFile(configFile); } catch (err) {
    if (flags.configFile) throw new EngineError('InvalidParameter', `unable to read config file ${configFile}: ${(err as Error).message}`);
  }
  if (text !== undefined && text.trim() !== '') {
    try { file = JSON.parse(text) as Record<string, unknown>; } catch (err) {
      throw new EngineError('InvalidParameter', `unable to configure the daemon with file ${configFile}: ${(err as Error).message}`);
    }
  }
  if (typeof file !== 'object' || file === null || Array.isArray(file)) {
    throw new EngineError('InvalidParameter', `unable to configure the daemon with file ${configFile}: expected a JSON object`);
  }
  if (Object.keys(file).length > 0) {
    // ajv costs berthd ~8 MB of memory for good: load it only when there is something to check.
    const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
    const ajv = new Ajv({ allErrors: true });
    if (!ajv.validate(SCHEMA, file)) {
      const errors = ajv.errors ?? [];
      const unknown = errors.filter((e) => e.keyword === 'additionalProperties').map((e) => (e.params as { additionalProperty: string }).additionalProperty);
      const msgs = [
        ...(unknown.length ? [`the following directives don't match any configuration option: ${unknown.join(', ')}`] : []),
        ...errors.filter((e) => e.keyword !== 'additionalProperties').map((e) => `${e.instancePath || 'config'} ${e.message}`),
      ];
      throw new EngineError('InvalidParameter', `unable to configure the daemon with file ${configFile}: ${msgs.join(', ')}`);
    }
  }
  const str = (k: string) => (typeof file[k] === 'string' ? (file[k] as string) : undefined);
  const execRoot = flags.execRoot ?? str('exec-root') ?? '/run/berth';
  const fileRuntimes = Object.fromEntries(Object.entries((file['runtimes'] ?? {}) as Record<string, { path: string }>).map(([k, v]) => [k, v.path]));
  const runtimes: Record<string, string> = { crun: '/usr/bin/crun', runc: '/usr/sbin/runc', ...fileRuntimes, ...flags.runtimes };
  const defaultRuntime = flags.defaultRuntime ?? str('default-runtime') ?? 'crun';
  if (!runtimes[defaultRuntime]) throw new EngineError('InvalidParameter', `default runtime ${defaultRuntime} is not a configured runtime`);
  const level = (flags.debug || file['debug'] === true ? 'debug' : flags.logLevel ?? str('log-level') ?? 'info') as DaemonConfig['logLevel'];
  if (!['debug', 'info', 'warn', 'error', 'fatal'].includes(level)) throw new EngineError('InvalidParameter', `unable to parse logging level: ${level}`);
  const logDriver = str('log-driver') ?? 'json-file';
  // The drivers berth writes (all CRI lines through conmon, or nothing); dockerd's words for others.
  if (!['json-file', 'local', 'k8s-file', 'none'].includes(logDriver)) throw new EngineError('InvalidParameter', `logger: no log driver named '${logDriver}' is registered`);
  const cfg: DaemonConfig = {
    hosts: flags.hosts.length ? flags.hosts : (file['hosts'] as string[] | undefined) ?? ['unix:///run/berth.sock'],
    dataRoot: flags.dataRoot ?? str('data-root') ?? '/var/lib/berth',
    execRoot, configFile, logLevel: level, defaultRuntime, runtimes,
    logDriver,
    logOpts: (file['log-opts'] as Record<string, string> | undefined) ?? {},
    objectPrefix: objectPrefixFor(execRoot),
    ifPrefix: interfacePrefixFor(execRoot),
    ...(flags.bip ?? str('bip') ? { bip: flags.bip ?? str('bip')! } : {}),
    ...(flags.ipv6 || file['ipv6'] === true ? { ipv6: true } : {}),
    ...(flags.fixedCidrV6 ?? str('fixed-cidr-v6') ? { fixedCidrV6: flags.fixedCidrV6 ?? str('fixed-cidr-v6')! } : {}),
    ...(flags.addressPools.length || file['default-address-pools']
      ? { defaultAddressPools: flags.addressPools.length ? flags.addressPools : file['default-address-pools'] as { base: string; size: number }[] } : {}),
    hostResolvConf: flags.hostResolvConf ?? '/etc/resolv.conf',
    registryMirrors: [...(file['registry-mirrors'] as string[] | undefined) ?? [], ...flags.registryMirrors],
    insecureRegistries: [...(file['insecure-registries'] as string[] | undefined) ?? [], ...flags.insecureRegistries],
    maxConcurrentDownloads: flags.maxConcurrentDownloads ?? (file['max-concurrent-downloads'] as number | undefined) ?? 3,
    maxConcurrentUploads: flags.maxConcurrentUploads ?? (file['max-concurrent-uploads'] as number | undefined) ?? 5,
    pidFile: flags.pidFile ?? str('pidfile') ?? (execRoot === '/run/berth' ? '/run/berthd.pid' : `${execRoot}/berthd.pid`),
  };
  validateDaemonConfig(cfg);
  return Object.freeze(cfg);
}

/** "berth" for the default exec root; "berth-<8 hex>" for any other, so test daemons never collide. */
export function objectPrefixFor(execRoot: string): string {
  return execRoot === '/run/berth' ? 'berth' : `berth-${createHash('sha256').update(execRoot).digest('hex').slice(0, 8)}`;
}

/** "berth" for the default exec root (bridge berth0); "b" and 5 hex digits otherwise. */
export function interfacePrefixFor(execRoot: string): string {
  return execRoot === '/run/berth' ? 'berth' : `b${createHash('sha256').update(execRoot).digest('hex').slice(0, 5)}`;
}
