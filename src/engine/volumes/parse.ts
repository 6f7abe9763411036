import { posix } from 'node:path';
import type { MountSpec } from '../../api/types/index.ts';
import { EngineError, invalid } from '../../lib/errors.ts';
import type { MountRecord } from './record.ts';

/**
 * Docker's daemon-side mount parsing (moby daemon/volume/mounts, linux parser), with its messages:
 * `HostConfig.Binds` strings, `HostConfig.Mounts` objects and `VolumesFrom` entries become
 * MountRecords. Pure except for the `exists` check of a `--mount type=bind` source.
 */

/** What a parsed mount asks of the volume store. */
export interface PlannedMount extends MountRecord {
  /** Options and labels for a volume this mount creates (`--mount volume-opt=`, `volume-label=`). */
  create?: { options: Record<string, string>; labels: Record<string, string> };
}

const RW_MODES = new Set(['rw', 'ro']);
const LABEL_MODES = new Set(['z', 'Z']);
const PROPAGATIONS = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']);
const COPY_MODES = new Set(['nocopy']);
const CONSISTENCY = new Set(['consistent', 'cached', 'delegated']);

/** Go's strings.SplitN: at most n parts, the last holding the rest. */
function splitN(s: string, sep: string, n: number): string[] {
  const parts = s.split(sep);
  return parts.length <= n ? parts : [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)];
}

/** linuxValidMountMode: each option known, at most one of each family. */
export function isValidMountMode(mode: string): boolean {
  if (mode === '') return true;
  const counts = [0, 0, 0, 0, 0];
  for (const o of mode.split(',')) {
    const i = RW_MODES.has(o) ? 0 : LABEL_MODES.has(o) ? 1 : PROPAGATIONS.has(o) ? 2 : COPY_MODES.has(o) ? 3 : CONSISTENCY.has(o) ? 4 : -1;
    if (i < 0) return false;
    counts[i]!++;
  }
  return counts.every((c) => c <= 1);
}

const errMountConfig = (type: string, msg: string): EngineError => invalid(`invalid mount config for type ${JSON.stringify(type)}: ${msg}`);

function checkTarget(type: string, target: string): void {
  if (posix.normalize(target.replace(/\\/g, '/')) === '/') throw errMountConfig(type, `invalid specification: destination can't be '/'`);
  if (!posix.isAbsolute(target.replace(/\\/g, '/'))) throw errMountConfig(type, `invalid mount path: '${target}' mount path must be absolute`);
}

/** filepath.IsLocal: relative, not empty, never climbing out with `..`. */
function isLocalPath(p: string): boolean {
  if (p === '' || posix.isAbsolute(p)) return false;
  const n = posix.normalize(p);
  return n !== '..' && !n.startsWith('../');
}

/**
 * One `HostConfig.Binds` entry (`-v`): `dst`, `name:dst[:mode]` or `/host:dst[:mode]`.
 * @throws InvalidParameter with Docker's `invalid volume specification: '<raw>'` forms
 */
export function parseBind(raw: string): PlannedMount {
  const arr = splitN(raw, ':', 4);
  const spec = `invalid volume specification: '${raw}'`;
  if (arr[0] === '') throw invalid(spec);
  let source = '';
  let target: string;
  let mode = '';
  if (arr.length === 1) target = arr[0]!;
  else if (arr.length === 2) {
    // `/foo:rw` is a destination with a mode, which a volume cannot have.
    if (isValidMountMode(arr[1]!)) throw invalid(spec);
    [source, target] = [arr[0]!, arr[1]!];
  } else if (arr.length === 3) [source, target, mode] = [arr[0]!, arr[1]!, arr[2]!];
  else throw invalid(spec);
  if (!isValidMountMode(mode)) throw invalid(`invalid mode: ${mode}`);
  const type = posix.isAbsolute(source) ? 'bind' : 'volume';
  const opts = mode.split(',');
  try {
    checkTarget(type, target);
  } catch (err) {
    throw invalid(`${spec}: ${(err as Error).message}`, err);
  }
  const propagation = opts.find((o) => PROPAGATIONS.has(o)) ?? '';
  const destination = posix.normalize(target);
  const rw = !opts.includes('ro');
  if (type === 'bind') {
    return { type, source: posix.normalize(source), destination, mode, rw, propagation: propagation || 'rprivate', createSource: true };
  }
  // A named local volume without a mode shows "z" (dockerd's setBindModeIfNull).
  return {
    type, ...(source ? { name: source } : {}), source: '', destination, driver: 'local', mode: source && mode === '' ? 'z' : mode, rw,
    propagation, copyData: !opts.includes('nocopy'),
  };
}

/**
 * One `HostConfig.Mounts` entry (`--mount`). `exists` tells whether a bind source is on the host.
 * @throws InvalidParameter `invalid mount config for type "<t>": ...`
 */
export function parseMountSpec(m: MountSpec, exists: (path: string) => boolean): PlannedMount {
  const type = String(m.Type ?? '') as 'bind' | 'volume' | 'tmpfs';
  const extra = (field: string) => errMountConfig(type, `field ${field} must not be specified`);
  if (type !== 'bind' && m.BindOptions) throw extra('BindOptions');
  if (type !== 'volume' && m.VolumeOptions) throw extra('VolumeOptions');
  if (type !== 'tmpfs' && m.TmpfsOptions) throw extra('TmpfsOptions');
  if (!m.Target) throw errMountConfig(type, 'field Target must not be empty');
  if (!['bind', 'volume', 'tmpfs'].includes(type)) {
    // Validated before the target path in dockerd too, so the type is what the user hears about.
    if (['npipe', 'cluster', 'image'].includes(type)) throw new EngineError('NotImplemented', `mount type ${type} is not supported by berth`);
    throw errMountConfig(type, 'mount type unknown');
  }
  checkTarget(type, m.Target);
  const destination = posix.normalize(m.Target);
  const rw = !m.ReadOnly;
  if (type === 'bind') {
    if (!m.Source) throw errMountConfig(type, 'field Source must not be empty');
    const prop = m.BindOptions?.Propagation ?? '';
    if (prop && !PROPAGATIONS.has(prop)) throw errMountConfig(type, `invalid propagation mode: ${prop}`);
    if (!posix.isAbsolute(m.Source)) throw errMountConfig(type, `invalid mount path: '${m.Source}' mount path must be absolute`);
    const create = !!m.BindOptions?.CreateMountpoint;
    if (!create && !exists(m.Source)) throw errMountConfig(type, `bind source path does not exist: ${m.Source}`);
    return {
      type, source: posix.normalize(m.Source), destination, mode: '', rw, propagation: prop || 'rprivate', createSource: create,
      ...(m.BindOptions?.NonRecursive ? { nonRecursive: true } : {}),
    };
  }
  if (type === 'volume') {
    const vo = m.VolumeOptions;
    const subpath = vo?.Subpath ?? '';
    if (subpath) {
      if (!m.Source) throw errMountConfig(type, 'must not set Subpath when using anonymous volumes');
      if (!isLocalPath(subpath)) throw errMountConfig(type, 'subpath must be a relative path within the volume');
    }
    return {
      type, ...(m.Source ? { name: m.Source } : {}), source: '', destination, driver: vo?.DriverConfig?.Name || 'local', mode: 'z', rw,
      propagation: '', copyData: !vo?.NoCopy, ...(subpath ? { subpath: posix.normalize(subpath) } : {}),
      create: { options: { ...(vo?.DriverConfig?.Options ?? {}) }, labels: { ...(vo?.Labels ?? {}) } },
    };
  }
  if (m.Source) throw errMountConfig(type, 'field Source must not be specified');
  const t = m.TmpfsOptions ?? {};
  if (t.SizeBytes !== undefined && t.SizeBytes < 0) throw errMountConfig(type, `invalid tmpfs size: ${t.SizeBytes}`);
  return {
    type, source: '', destination, mode: '', rw, propagation: '',
    tmpfs: { ...(t.SizeBytes ? { sizeBytes: t.SizeBytes } : {}), ...(t.Mode ? { mode: t.Mode } : {}) },
  };
}

/**
 * One `VolumesFrom` entry: `container[:ro|rw]` (no propagation or copy modes).
 * @throws InvalidParameter
 */
export function parseVolumesFrom(spec: string): { container: string; readonly: boolean } {
  if (spec === '') throw invalid('volumes-from specification cannot be an empty string');
  const i = spec.indexOf(':');
  const container = i < 0 ? spec : spec.slice(0, i);
  const mode = i < 0 ? '' : spec.slice(i + 1);
  if (mode === '') return { container, readonly: false };
  const opts = mode.split(',');
  if (!isValidMountMode(mode) || opts.some((o) => PROPAGATIONS.has(o) || COPY_MODES.has(o))) throw invalid(`invalid mode: ${mode}`);
  return { container, readonly: opts.includes('ro') };
}

/** Docker's restricted name pattern, for volume names. */
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/**
 * The local driver's name rule; the message is dockerd's (prefixed with `create <name>: ` by the caller).
 * @returns the reason a name is refused, or undefined
 */
/** The longest volume name: NAME_MAX of the filesystems the data root lives on. */
export const VOLUME_NAME_MAX = 255;

export function volumeNameProblem(name: string): string | undefined {
  if (name.length === 1) return 'volume name is too short, names should be at least two alphanumeric characters';
  // The name is a directory name: past NAME_MAX the filesystem would refuse it with a host path.
  if (name.length > VOLUME_NAME_MAX) return `volume name is too long, names should be at most ${VOLUME_NAME_MAX} characters`;
  if (!VOLUME_NAME.test(name)) {
    return `${JSON.stringify(name)} includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`;
  }
  return undefined;
}

/** What a local volume with options mounts: a tmpfs, or a bind of a host directory. */
export interface LocalMountOptions { type: string; device: string; o: string }

/**
 * The local driver's `-o` options: type, device, o (size needs quota support berth lacks).
 * Mount types other than tmpfs and bind (`type=none,o=bind`) are refused: berth mounts no devices
 * or network filesystems yet.
 * @returns undefined for a plain directory volume
 * @throws InvalidParameter with dockerd's messages
 */
export function parseLocalOptions(opts: Readonly<Record<string, string>>): LocalMountOptions | undefined {
  for (const k of Object.keys(opts)) if (!['type', 'o', 'device', 'size'].includes(k)) throw invalid(`invalid option: "${k}"`);
  if ('size' in opts) throw invalid('quota size requested but no quota support');
  const mandatory: [string, string[]][] = [['device', ['type']], ['type', ['device']], ['o', ['device', 'type']]];
  for (const [opt, req] of mandatory) {
    if (!(opt in opts)) continue;
    for (const r of req) if (!(r in opts)) throw invalid(`missing required option: "${r}"`);
  }
  if (!('type' in opts)) return undefined;
  const o = { type: opts['type']!, device: opts['device']!, o: opts['o'] ?? '' };
  const isBind = o.o.split(',').some((x) => x === 'bind' || x === 'rbind');
  if (o.type !== 'tmpfs' && !isBind) throw new EngineError('NotImplemented', `local volume type ${JSON.stringify(o.type)} is not supported by berth (tmpfs, or o=bind of a host directory)`);
  if (isBind && !posix.isAbsolute(o.device)) throw invalid(`invalid option: device ${JSON.stringify(o.device)} must be an absolute path for a bind`);
  return o;
}
