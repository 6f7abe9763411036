import type { CommandSpec } from '../args/parse.ts';
import type { CliContext, Flags } from '../context.ts';
import * as run from './container/run.ts';
import * as life from './container/lifecycle.ts';
import * as ps from './container/ps.ts';
import * as inspect from './container/inspect.ts';
import * as logs from './container/logs.ts';
import * as exec from './container/exec.ts';
import * as top from './container/top.ts';
import * as port from './container/port.ts';
import * as stats from './container/stats.ts';
import * as update from './container/update.ts';
import * as cp from './container/cp.ts';
import * as diff from './container/diff.ts';
import * as exportCmd from './container/export.ts';
import * as commit from './container/commit.ts';
import * as net from './network/network.ts';
import * as vol from './volume/volume.ts';
import * as img from './image/images.ts';
import * as reg from './image/registry.ts';
import * as buildCmd from './image/build.ts';
import * as builderPrune from './image/builder-prune.ts';
import * as sys from './system/system.ts';
import * as events from './system/events.ts';
import * as df from './system/df.ts';
import * as prune from './system/prune.ts';
import * as registry from './registry/registry.ts';

export interface CommandEntry {
  spec: CommandSpec;
  run: (ctx: CliContext, flags: Flags, args: string[]) => Promise<void>;
  /** Exit status for daemon errors: 125 for run/create as docker, 1 otherwise. */
  failStatus?: number;
}

const entries: CommandEntry[] = [
  { spec: run.runSpec, run: run.run, failStatus: 125 },
  { spec: run.createSpec, run: run.create, failStatus: 125 },
  { spec: life.startSpec, run: life.start },
  { spec: life.stopSpec, run: life.stop },
  { spec: life.restartSpec, run: life.restart },
  { spec: life.killSpec, run: life.kill },
  { spec: life.rmSpec, run: life.rm },
  { spec: life.pauseSpec, run: life.pause },
  { spec: life.unpauseSpec, run: life.unpause },
  { spec: life.waitSpec, run: life.wait },
  { spec: life.renameSpec, run: life.rename },
  { spec: life.attachSpec, run: life.attach },
  { spec: ps.psSpec, run: ps.ps },
  { spec: inspect.inspectSpec, run: (c, f, a) => inspect.inspect(c, f, a) },
  { spec: { ...inspect.inspectSpec, name: 'container inspect', flags: inspect.inspectSpec.flags.filter((x) => x.name !== 'type') }, run: (c, f, a) => inspect.inspect(c, f, a, 'container') },
  { spec: { ...inspect.inspectSpec, name: 'image inspect', flags: inspect.inspectSpec.flags.filter((x) => x.name !== 'type' && x.name !== 'size') }, run: (c, f, a) => inspect.inspect(c, f, a, 'image') },
  { spec: logs.logsSpec, run: logs.logs },
  { spec: exec.execSpec, run: exec.exec },
  { spec: top.topSpec, run: top.top },
  { spec: port.portSpec, run: port.port },
  { spec: stats.statsSpec, run: stats.stats },
  { spec: update.updateSpec, run: update.update },
  { spec: cp.cpSpec, run: cp.cp },
  { spec: diff.diffSpec, run: diff.diff },
  { spec: exportCmd.exportSpec, run: exportCmd.exportContainer },
  { spec: commit.commitSpec, run: commit.commit },
  { spec: net.networkCreateSpec, run: net.networkCreate },
  { spec: net.networkLsSpec, run: net.networkLs },
  { spec: net.networkInspectSpec, run: net.networkInspect },
  { spec: net.networkRmSpec, run: net.networkRm },
  { spec: net.networkPruneSpec, run: net.networkPrune },
  { spec: net.networkConnectSpec, run: net.networkConnect },
  { spec: net.networkDisconnectSpec, run: net.networkDisconnect },
  { spec: vol.volumeCreateSpec, run: vol.volumeCreate },
  { spec: vol.volumeLsSpec, run: vol.volumeLs },
  { spec: vol.volumeInspectSpec, run: vol.volumeInspect },
  { spec: vol.volumeRmSpec, run: vol.volumeRm },
  { spec: vol.volumePruneSpec, run: vol.volumePrune },
  { spec: img.imagesSpec, run: img.images },
  { spec: img.rmiSpec, run: img.rmi },
  { spec: img.tagSpec, run: img.tag },
  { spec: img.saveSpec, run: img.save },
  { spec: img.loadSpec, run: img.load },
  { spec: img.importSpec, run: img.importImage },
  { spec: img.historySpec, run: img.history },
  { spec: img.imagePruneSpec, run: img.imagePrune },
  { spec: reg.pullSpec, run: reg.pull },
  { spec: reg.pushSpec, run: reg.push },
  { spec: reg.loginSpec, run: reg.login },
  { spec: reg.logoutSpec, run: reg.logout },
  { spec: reg.searchSpec, run: reg.search },
  { spec: buildCmd.buildSpec, run: buildCmd.build },
  { spec: builderPrune.builderPruneSpec, run: builderPrune.builderPrune },
  { spec: sys.versionSpec, run: sys.version },
  { spec: sys.infoSpec, run: sys.info },
  { spec: events.eventsSpec, run: events.events },
  { spec: df.dfSpec, run: df.df },
  { spec: prune.systemPruneSpec, run: prune.systemPrune },
  { spec: prune.gcSpec, run: prune.gc },
  { spec: prune.containerPruneSpec, run: prune.containerPrune },
  { spec: registry.serveSpec, run: registry.serve },
  { spec: registry.gcSpec, run: registry.gc },
];

/** Every command path (and alias path) to its entry. */
export const COMMANDS: ReadonlyMap<string, CommandEntry> = new Map(
  entries.flatMap((e) => [[e.spec.name, e] as const, ...(e.spec.aliases ?? []).map((a) => [a, e] as const)]),
);
