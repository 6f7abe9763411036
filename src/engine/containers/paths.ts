import { join } from 'node:path';

/** Where a container's files live. Data survives reboots; exec-root state does not. */
export interface ContainerPaths {
  /** <data-root>/containers/<id>: hostname, hosts, resolv.conf, logs, conmon's persist files. */
  dataDir: string;
  logPath: string;
  hostnamePath: string;
  hostsPath: string;
  resolvConfPath: string;
  /** conmon writes `exit` (and `oom`) here. */
  persistDir: string;
  /** <exec-root>/containers/<id>: the OCI bundle, conmon's attach socket and ctl fifo. */
  bundleDir: string;
  configPath: string;
  attachSocket: string;
  ctlFifo: string;
  pidFile: string;
  conmonPidFile: string;
}

export function containerPaths(dataRoot: string, execRoot: string, id: string): ContainerPaths {
  const dataDir = join(dataRoot, 'containers', id);
  const bundleDir = join(execRoot, 'containers', id);
  return {
    dataDir,
    logPath: join(dataDir, 'container.log'),
    hostnamePath: join(dataDir, 'hostname'),
    hostsPath: join(dataDir, 'hosts'),
    resolvConfPath: join(dataDir, 'resolv.conf'),
    persistDir: join(dataDir, 'persist'),
    bundleDir,
    configPath: join(bundleDir, 'config.json'),
    attachSocket: join(bundleDir, 'attach'),
    ctlFifo: join(bundleDir, 'ctl'),
    pidFile: join(bundleDir, 'pid'),
    conmonPidFile: join(bundleDir, 'conmon.pid'),
  };
}
