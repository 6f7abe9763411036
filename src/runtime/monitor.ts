import type { AttachSession } from '../lib/native-helper.ts';
import type { OciRuntime } from './oci-runtime.ts';

/** Everything a monitor needs to create one container and watch over it. */
export interface MonitorLaunch {
  id: string;
  name: string;
  /** OCI bundle: holds config.json; the monitor puts its `attach` socket and `ctl` fifo here. */
  bundleDir: string;
  /** k8s-file log path, or null for the `none` driver. */
  logPath: string | null;
  /** Hard cap the monitor enforces by truncation; berthd rotates before it is reached. */
  logSizeMax?: number;
  tty: boolean;
  stdin: boolean;
  /** Leave the container's stdin open when an attached client goes (docker's StdinOnce=false). */
  leaveStdinOpen: boolean;
  pidFile: string;
  conmonPidFile: string;
  /** Where the monitor writes `<id>` holding the exit code when the process ends. */
  exitDir: string;
  /** Where it also writes `exit` (and `oom`), which survive a reboot. */
  persistDir: string;
}

/** The PIDs of a launched container: its process and its monitor. */
export interface MonitorResult {
  pid: number;
  conmonPid: number;
}

/** A monitor process and the container it watches. */
export interface MonitorProcess { pid: number; id: string }

/**
 * The per-container monitor (conmon) as the engine drives it: the port for that host edge. A
 * monitor is launched per run, double-forks away from berthd (so containers outlive the daemon),
 * runs `<runtime> create`, holds the container's stdio (log file, attach socket), takes control
 * messages (terminal resize, log reopen) and writes the exit code to the exit directory when the
 * process ends. Implemented by ConmonMonitor (conmon.ts); tests use FakeMonitor (fakes.ts).
 */
export interface Monitor {
  /**
   * Launches the monitor, which creates the container with `runtime`; resolves once the process
   * exists and waits in the runtime's exec fifo for `runtime.start`. Throws RuntimeCreateError
   * (Internal) with the runtime's message when create fails.
   */
  launch(runtime: Pick<OciRuntime, 'path' | 'globalArgs'>, l: MonitorLaunch): Promise<MonitorResult>;
  /** Connects to a running monitor's attach socket (`<bundle>/attach`). NotFound when it has gone. */
  attach(socketPath: string, opts?: { signal?: AbortSignal; stdin?: boolean }): Promise<AttachSession>;
  /** Resizes the container's terminal over the control fifo (`<bundle>/ctl`); dropped if the monitor has gone. */
  resize(ctlFifo: string, rows: number, cols: number): Promise<void>;
  /** Has the monitor reopen its log file (after a rotation); dropped if the monitor has gone. */
  reopenLog(ctlFifo: string): Promise<void>;
  /** The monitors of one daemon (those writing to its `exitDir`) alive now. */
  find(exitDir: string): MonitorProcess[];
  /** Kills a monitor (recovery: one whose container is not running). False if it was already gone. */
  kill(pid: number): boolean;
  /** The monitor's version, from `conmon --version` ('' when it cannot say). */
  version(): Promise<string>;
}
