import type * as api from '../../../api/types/index.ts';
import type { CommandSpec } from '../../args/parse.ts';
import { GoTemplate } from '../../format/go-template.ts';
import { type CliContext, type Flags, str } from '../../context.ts';
import { bytesSize } from '../../../lib/units.ts';

const CLIENT_VERSION = '0.1.0';

export const versionSpec: CommandSpec = { name: 'version', usage: '[OPTIONS]', description: 'Show the Berth version information',
  flags: [{ name: 'format', short: 'f', kind: 'string', description: 'Format output using a custom template' }], maxArgs: 0 };

export async function version(ctx: CliContext, f: Flags): Promise<void> {
  const client = { Version: CLIENT_VERSION, ApiVersion: '1.47', GoVersion: `node${process.versions.node}`, Os: 'linux', Arch: process.arch === 'x64' ? 'amd64' : process.arch };
  let server: api.VersionResponse | undefined;
  let err: unknown;
  try { server = await ctx.client.json<api.VersionResponse>('GET', '/version'); } catch (e) { err = e; }
  const format = str(f, 'format');
  if (format) {
    ctx.out(`${GoTemplate.parse(format).execute({ Client: client, Server: server ?? null })}\n`);
  } else {
    ctx.out(`Client:\n Version:           ${client.Version}\n API version:       ${client.ApiVersion}\n Node version:      ${process.versions.node}\n OS/Arch:           linux/${client.Arch}\n`);
    if (server) ctx.out(`\nServer: ${server.Platform.Name}\n Engine:\n  Version:          ${server.Version}\n  API version:      ${server.ApiVersion} (minimum version ${server.MinAPIVersion})\n  OS/Arch:          ${server.Os}/${server.Arch}\n  Kernel Version:   ${server.KernelVersion}\n`);
  }
  if (err) throw err;
}

export const infoSpec: CommandSpec = { name: 'info', usage: '[OPTIONS]', description: 'Display system-wide information', aliases: ['system info'],
  flags: [{ name: 'format', short: 'f', kind: 'string', description: 'Format output using a custom template' }], maxArgs: 0 };

export async function info(ctx: CliContext, f: Flags): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- /info has no wire type in api/types yet
  const i = await ctx.client.json<Record<string, any>>('GET', '/info');
  const format = str(f, 'format');
  if (format) { ctx.stdout.write(`${GoTemplate.parse(format).execute(i)}\n`); return; }
  const lines = [
    'Server:',
    ` Containers: ${i['Containers']}`, `  Running: ${i['ContainersRunning']}`, `  Paused: ${i['ContainersPaused']}`, `  Stopped: ${i['ContainersStopped']}`,
    ` Images: ${i['Images']}`, ` Server Version: ${i['ServerVersion']}`, ` Storage Driver: ${i['Driver']}`,
    ...(i['DriverStatus'] as [string, string][]).map(([k, v]) => `  ${k}: ${v}`),
    ` Logging Driver: ${i['LoggingDriver']}`, ` Cgroup Driver: ${i['CgroupDriver']}`, ` Cgroup Version: ${i['CgroupVersion']}`,
    ` Plugins:`, `  Volume: ${(i['Plugins'].Volume as string[]).join(' ')}`, `  Network: ${(i['Plugins'].Network as string[]).join(' ')}`, `  Log: ${(i['Plugins'].Log as string[]).join(' ')}`,
    ` Swarm: inactive`, ` Runtimes: ${Object.keys(i['Runtimes']).join(' ')}`, ` Default Runtime: ${i['DefaultRuntime']}`,
    ` Init Binary: ${i['InitBinary']}`, ` Security Options:`, ...(i['SecurityOptions'] as string[]).map((s) => `  ${s.replace(/^name=/, '').replace(/,profile=/, '\n   Profile: ')}`),
    ` Kernel Version: ${i['KernelVersion']}`, ` Operating System: ${i['OperatingSystem']}`, ` OSType: ${i['OSType']}`, ` Architecture: ${i['Architecture']}`,
    ` CPUs: ${i['NCPU']}`, ` Total Memory: ${bytesSize(i['MemTotal'])}`, ` Name: ${i['Name']}`, ` ID: ${i['ID']}`, ` Berth Root Dir: ${i['DockerRootDir']}`,
    ` Debug Mode: ${i['Debug']}`, ` Experimental: false`, ...registryLines(i['RegistryConfig']), ` Live Restore Enabled: ${i['LiveRestoreEnabled']}`,
  ];
  ctx.stdout.write(lines.join('\n') + '\n');
  for (const w of (i['Warnings'] as string[] | null) ?? []) ctx.stderr.write(`${w}\n`);
}

/** docker info's Insecure Registries (host entries, then CIDRs) and Registry Mirrors sections. */
export function registryLines(rc: { IndexConfigs?: Record<string, { Name: string; Secure: boolean }>; InsecureRegistryCIDRs?: string[]; Mirrors?: string[] } | null | undefined): string[] {
  if (!rc) return [];
  const out: string[] = [];
  const hosts = Object.values(rc.IndexConfigs ?? {}).filter((x) => !x.Secure).map((x) => `  ${x.Name}`);
  const cidrs = (rc.InsecureRegistryCIDRs ?? []).map((c) => `  ${c}`);
  if (cidrs.length || Object.keys(rc.IndexConfigs ?? {}).length) out.push(' Insecure Registries:', ...hosts, ...cidrs);
  if (rc.Mirrors?.length) out.push(' Registry Mirrors:', ...rc.Mirrors.map((m) => `  ${m}`));
  return out;
}
