/**
 * The catalogue of berth's commands: every command path (with its aliases) and how to load the
 * command. Commands load lazily (a dynamic import per module), so a quick command compiles only
 * its own code and the Node built-ins it needs (DESIGN: the CLI starts as fast as Node allows).
 * The paths here repeat each spec's name and aliases; a unit test keeps the two in step.
 */
import type { CommandSpec } from '../args/spec.ts';
import type { CliContext, Flags } from '../context.ts';

export interface CommandEntry {
  spec: CommandSpec;
  run: (ctx: CliContext, flags: Flags, args: string[]) => Promise<void>;
  /** Exit status for daemon errors: 125 for run/create as docker, 1 otherwise. */
  failStatus?: number;
  /** Needs no daemon (completion, registry serve): the daemon address is not checked. */
  daemonless?: boolean;
}

/** One command before it is loaded: the paths that name it and its loader. */
export interface CatalogEntry {
  /** The spec's name first, then its aliases (`['ps', 'container ls', 'container list', 'container ps']`). */
  paths: readonly string[];
  load: () => Promise<CommandEntry>;
}

type Run = CommandEntry['run'];
const e = (spec: CommandSpec, run: Run, failStatus?: number): CommandEntry => (failStatus ? { spec, run, failStatus } : { spec, run });
const daemonless = (spec: CommandSpec, run: Run): CommandEntry => ({ spec, run, daemonless: true });

// esbuild turns each import() into a chunk of its own; modules shared by several commands
// (formatters, the client's helpers) land in shared chunks.
const run = () => import('./container/run.ts');
const life = () => import('./container/lifecycle.ts');
const inspect = () => import('./container/inspect.ts');
const net = () => import('./network/network.ts');
const vol = () => import('./volume/volume.ts');
const img = () => import('./image/images.ts');
const reg = () => import('./image/registry.ts');
const prune = () => import('./system/prune.ts');
const sys = () => import('./system/system.ts');
const registry = () => import('./registry/registry.ts');

export const CATALOG: readonly CatalogEntry[] = [
  { paths: ['run', 'container run'], load: async () => { const m = await run(); return e(m.runSpec, m.run, 125); } },
  { paths: ['create', 'container create'], load: async () => { const m = await run(); return e(m.createSpec, m.create, 125); } },
  { paths: ['start', 'container start'], load: async () => { const m = await life(); return e(m.startSpec, m.start); } },
  { paths: ['stop', 'container stop'], load: async () => { const m = await life(); return e(m.stopSpec, m.stop); } },
  { paths: ['restart', 'container restart'], load: async () => { const m = await life(); return e(m.restartSpec, m.restart); } },
  { paths: ['kill', 'container kill'], load: async () => { const m = await life(); return e(m.killSpec, m.kill); } },
  { paths: ['rm', 'container rm', 'container remove'], load: async () => { const m = await life(); return e(m.rmSpec, m.rm); } },
  { paths: ['pause', 'container pause'], load: async () => { const m = await life(); return e(m.pauseSpec, m.pause); } },
  { paths: ['unpause', 'container unpause'], load: async () => { const m = await life(); return e(m.unpauseSpec, m.unpause); } },
  { paths: ['wait', 'container wait'], load: async () => { const m = await life(); return e(m.waitSpec, m.wait); } },
  { paths: ['rename', 'container rename'], load: async () => { const m = await life(); return e(m.renameSpec, m.rename); } },
  { paths: ['attach', 'container attach'], load: async () => { const m = await life(); return e(m.attachSpec, m.attach); } },
  { paths: ['ps', 'container ls', 'container list', 'container ps'], load: async () => { const m = await import('./container/ps.ts'); return e(m.psSpec, m.ps); } },
  { paths: ['inspect'], load: async () => { const m = await inspect(); return e(m.inspectSpec, (c, f, a) => m.inspect(c, f, a)); } },
  { paths: ['container inspect'], load: async () => { const m = await inspect(); return e(m.containerInspectSpec, (c, f, a) => m.inspect(c, f, a, 'container')); } },
  { paths: ['image inspect'], load: async () => { const m = await inspect(); return e(m.imageInspectSpec, (c, f, a) => m.inspect(c, f, a, 'image')); } },
  { paths: ['logs', 'container logs'], load: async () => { const m = await import('./container/logs.ts'); return e(m.logsSpec, m.logs); } },
  { paths: ['exec', 'container exec'], load: async () => { const m = await import('./container/exec.ts'); return e(m.execSpec, m.exec); } },
  { paths: ['top', 'container top'], load: async () => { const m = await import('./container/top.ts'); return e(m.topSpec, m.top); } },
  { paths: ['port', 'container port'], load: async () => { const m = await import('./container/port.ts'); return e(m.portSpec, m.port); } },
  { paths: ['stats', 'container stats'], load: async () => { const m = await import('./container/stats.ts'); return e(m.statsSpec, m.stats); } },
  { paths: ['update', 'container update'], load: async () => { const m = await import('./container/update.ts'); return e(m.updateSpec, m.update); } },
  { paths: ['cp', 'container cp'], load: async () => { const m = await import('./container/cp.ts'); return e(m.cpSpec, m.cp); } },
  { paths: ['diff', 'container diff'], load: async () => { const m = await import('./container/diff.ts'); return e(m.diffSpec, m.diff); } },
  { paths: ['export', 'container export'], load: async () => { const m = await import('./container/export.ts'); return e(m.exportSpec, m.exportContainer); } },
  { paths: ['commit', 'container commit'], load: async () => { const m = await import('./container/commit.ts'); return e(m.commitSpec, m.commit); } },
  { paths: ['container prune'], load: async () => { const m = await prune(); return e(m.containerPruneSpec, m.containerPrune); } },
  { paths: ['network create'], load: async () => { const m = await net(); return e(m.networkCreateSpec, m.networkCreate); } },
  { paths: ['network ls', 'network list'], load: async () => { const m = await net(); return e(m.networkLsSpec, m.networkLs); } },
  { paths: ['network inspect'], load: async () => { const m = await net(); return e(m.networkInspectSpec, m.networkInspect); } },
  { paths: ['network rm', 'network remove'], load: async () => { const m = await net(); return e(m.networkRmSpec, m.networkRm); } },
  { paths: ['network prune'], load: async () => { const m = await net(); return e(m.networkPruneSpec, m.networkPrune); } },
  { paths: ['network connect'], load: async () => { const m = await net(); return e(m.networkConnectSpec, m.networkConnect); } },
  { paths: ['network disconnect'], load: async () => { const m = await net(); return e(m.networkDisconnectSpec, m.networkDisconnect); } },
  { paths: ['volume create'], load: async () => { const m = await vol(); return e(m.volumeCreateSpec, m.volumeCreate); } },
  { paths: ['volume ls', 'volume list'], load: async () => { const m = await vol(); return e(m.volumeLsSpec, m.volumeLs); } },
  { paths: ['volume inspect'], load: async () => { const m = await vol(); return e(m.volumeInspectSpec, m.volumeInspect); } },
  { paths: ['volume rm', 'volume remove'], load: async () => { const m = await vol(); return e(m.volumeRmSpec, m.volumeRm); } },
  { paths: ['volume prune'], load: async () => { const m = await vol(); return e(m.volumePruneSpec, m.volumePrune); } },
  { paths: ['images', 'image ls', 'image list'], load: async () => { const m = await img(); return e(m.imagesSpec, m.images); } },
  { paths: ['rmi', 'image rm', 'image remove'], load: async () => { const m = await img(); return e(m.rmiSpec, m.rmi); } },
  { paths: ['tag', 'image tag'], load: async () => { const m = await img(); return e(m.tagSpec, m.tag); } },
  { paths: ['save', 'image save'], load: async () => { const m = await img(); return e(m.saveSpec, m.save); } },
  { paths: ['load', 'image load'], load: async () => { const m = await img(); return e(m.loadSpec, m.load); } },
  { paths: ['import', 'image import'], load: async () => { const m = await img(); return e(m.importSpec, m.importImage); } },
  { paths: ['history', 'image history'], load: async () => { const m = await img(); return e(m.historySpec, m.history); } },
  { paths: ['image prune'], load: async () => { const m = await img(); return e(m.imagePruneSpec, m.imagePrune); } },
  { paths: ['pull', 'image pull'], load: async () => { const m = await reg(); return e(m.pullSpec, m.pull); } },
  { paths: ['push', 'image push'], load: async () => { const m = await reg(); return e(m.pushSpec, m.push); } },
  { paths: ['login'], load: async () => { const m = await reg(); return e(m.loginSpec, m.login); } },
  { paths: ['logout'], load: async () => { const m = await reg(); return e(m.logoutSpec, m.logout); } },
  { paths: ['search'], load: async () => { const m = await reg(); return e(m.searchSpec, m.search); } },
  { paths: ['build', 'image build', 'builder build'], load: async () => { const m = await import('./image/build.ts'); return e(m.buildSpec, m.build); } },
  { paths: ['builder prune'], load: async () => { const m = await import('./image/builder-prune.ts'); return e(m.builderPruneSpec, m.builderPrune); } },
  { paths: ['version'], load: async () => { const m = await sys(); return e(m.versionSpec, m.version); } },
  { paths: ['info', 'system info'], load: async () => { const m = await sys(); return e(m.infoSpec, m.info); } },
  { paths: ['events', 'system events'], load: async () => { const m = await import('./system/events.ts'); return e(m.eventsSpec, m.events); } },
  { paths: ['system df'], load: async () => { const m = await import('./system/df.ts'); return e(m.dfSpec, m.df); } },
  { paths: ['system prune'], load: async () => { const m = await prune(); return e(m.systemPruneSpec, m.systemPrune); } },
  { paths: ['system gc'], load: async () => { const m = await prune(); return e(m.gcSpec, m.gc); } },
  { paths: ['registry serve'], load: async () => { const m = await registry(); return daemonless(m.serveSpec, m.serve); } },
  { paths: ['registry gc'], load: async () => { const m = await registry(); return daemonless(m.gcSpec, m.gc); } },
  { paths: ['completion'], load: async () => { const m = await import('./completion/completion.ts'); return daemonless(m.completionSpec, m.completion); } },
];

/** The management commands (`berth network ...`) and the title their help shows. */
export const GROUPS: Readonly<Record<string, string>> = {
  builder: 'Manage builds', container: 'Manage containers', image: 'Manage images', network: 'Manage networks',
  registry: 'Run and maintain a registry server', system: 'Manage Berth', volume: 'Manage volumes',
};

/** Every command path (and alias path) to its catalogue entry. */
const BY_PATH: ReadonlyMap<string, CatalogEntry> = new Map(CATALOG.flatMap((c) => c.paths.map((p) => [p, c] as const)));

/** The command that `argv` (after the global options) names: the longest path it starts with. */
export function findCommand(argv: readonly string[]): { entry: CatalogEntry; path: string; rest: string[] } | undefined {
  for (const n of [2, 1]) {
    if (argv.length < n) continue;
    const path = argv.slice(0, n).join(' ');
    const entry = BY_PATH.get(path);
    if (entry) return { entry, path, rest: argv.slice(n) };
  }
  return undefined;
}

/** Loads every command (help listings, completion scripts, tests): slow, never on a quick path. */
export function loadAll(): Promise<CommandEntry[]> {
  return Promise.all(CATALOG.map((c) => c.load()));
}
