/**
 * `-v` and `--mount` as docker CLI 28 turns them into a create body (cli/command/container/opts.go,
 * internal/volumespec, opts/mount.go): `-v` with a source goes to HostConfig.Binds as typed (a
 * relative `./dir` made absolute), `-v /path` alone to Config.Volumes, `--mount` to HostConfig.Mounts.
 */
import { resolve } from 'node:path';
import type * as api from '../../../api/types/index.ts';
import { parseBytes, parseGoBool } from '../../../lib/units.ts';

/** volumespec.Parse, reduced to what the CLI uses: source, target and whether it is a bind. Throws Error. */
export function parseVolumeSpec(spec: string): { source: string; target: string; bind: boolean } {
  if (spec.length === 0) throw new Error('invalid empty volume spec');
  if (spec.length <= 2) return { source: '', target: spec, bind: false };
  let source = '';
  let target = '';
  let buf = '';
  const flush = (end: boolean): void => {
    if (buf.length === 0) throw new Error(`invalid spec: ${spec}: empty section between colons`);
    if (source === '' && end) target = buf;
    else if (source === '') source = buf;
    else if (target === '') target = buf;
    else if (!end) throw new Error(`invalid spec: ${spec}: too many colons`);
    // A third section is the mode: the daemon checks it.
  };
  for (const ch of spec) {
    // A Windows drive letter ("c:") is part of the path.
    if (ch === ':' && buf.length === 1 && /\p{L}/u.test(buf)) { buf += ch; continue; }
    if (ch === ':') { flush(false); buf = ''; } else buf += ch;
  }
  flush(true);
  const bind = source !== '' && (/^[./~]/.test(source) || source.startsWith('\\\\') || /^\p{L}:/u.test(source));
  return { source, target, bind };
}

/**
 * The `-v` values: binds (with a source) and anonymous volumes (a container path alone).
 * @throws Error with docker's message (reported as a parse error, status 125)
 */
export function splitVolumeFlags(values: readonly string[]): { binds: string[]; volumes: Record<string, Record<string, never>> } {
  const binds: string[] = [];
  const volumes: Record<string, Record<string, never>> = {};
  for (const v of values) {
    const p = parseVolumeSpec(v);
    if (!p.source) { volumes[v] = {}; continue; }
    if (p.bind) {
      const i = v.indexOf(':');
      let host = v.slice(0, i);
      if (!host.startsWith('/') && host.startsWith('.')) host = resolve(host);
      binds.push(`${host}:${v.slice(i + 1)}`);
    } else binds.push(v);
  }
  return { binds, volumes };
}

/** encoding/csv's reading of one line: commas split, double quotes group ("" is a quote). */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let start = true;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (ch === '"') quoted = false; else cur += ch;
    } else if (ch === '"' && start) { quoted = true; start = false; } else if (ch === ',') { out.push(cur); cur = ''; start = true; } else { cur += ch; start = false; }
  }
  if (quoted) throw new Error(`parse error on line 1, column ${line.length + 1}: extraneous or missing " in quoted-field`);
  out.push(cur);
  return out;
}

const parseBool = (key: string, v: string): boolean => {
  const b = parseGoBool(v);
  if (b === undefined) throw new Error(`invalid value for ${key}: ${v}`);
  return b;
};

/**
 * One `--mount` value (MountOpt.Set of docker CLI 28).
 * @throws Error with docker's message (reported as `invalid argument "..." for "--mount" flag: ...`)
 */
export function parseMountFlag(value: string): api.MountSpec {
  const fields = csvFields(value);
  const m: api.MountSpec = { Type: 'volume', Target: '' };
  const volumeOptions = () => {
    m.VolumeOptions ??= { Labels: {} };
    m.VolumeOptions.DriverConfig ??= {};
    return m.VolumeOptions;
  };
  const bindOptions = () => (m.BindOptions ??= {});
  const tmpfsOptions = () => (m.TmpfsOptions ??= {});
  const setOnMap = (target: Record<string, string>, v: string) => {
    const i = v.indexOf('=');
    const k = i < 0 ? v : v.slice(0, i);
    if (k !== '') target[k] = i < 0 ? '' : v.slice(i + 1);
  };
  for (const field of fields) {
    const i = field.indexOf('=');
    const key = (i < 0 ? field : field.slice(0, i)).toLowerCase();
    const val = i < 0 ? '' : field.slice(i + 1);
    if (i < 0) {
      if (key === 'readonly' || key === 'ro') { m.ReadOnly = true; continue; }
      if (key === 'volume-nocopy') { volumeOptions().NoCopy = true; continue; }
      if (key === 'bind-nonrecursive') { bindOptions().NonRecursive = true; continue; }
      throw new Error(`invalid field '${field}' must be a key=value pair`);
    }
    switch (key) {
      case 'type': m.Type = val.toLowerCase() as api.MountSpec['Type']; break;
      case 'source': case 'src': m.Source = !val.startsWith('/') && val.startsWith('.') ? resolve(val) : val; break;
      case 'target': case 'dst': case 'destination': m.Target = val; break;
      case 'readonly': case 'ro': m.ReadOnly = parseBool(key, val); break;
      case 'consistency': m.Consistency = val.toLowerCase(); break;
      case 'bind-propagation': bindOptions().Propagation = val.toLowerCase(); break;
      case 'bind-nonrecursive': bindOptions().NonRecursive = parseBool(key, val); break;
      case 'bind-recursive':
        if (val === 'disabled') bindOptions().NonRecursive = true;
        else if (val !== 'enabled') {
          if (val === 'writable' || val === 'readonly') throw new Error(`option 'bind-recursive=${val}' is not supported by berth`);
          throw new Error(`invalid value for ${key}: ${val} (must be "enabled", "disabled", "writable", or "readonly")`);
        }
        break;
      case 'bind-create-src': bindOptions().CreateMountpoint = parseBool(key, val); break;
      case 'volume-subpath': volumeOptions().Subpath = val; break;
      case 'volume-nocopy':
        try { volumeOptions().NoCopy = parseBool(key, val); } catch { throw new Error(`invalid value for volume-nocopy: ${val}`); }
        break;
      case 'volume-label': setOnMap(volumeOptions().Labels ??= {}, val); break;
      case 'volume-driver': volumeOptions().DriverConfig!.Name = val; break;
      case 'volume-opt': setOnMap(volumeOptions().DriverConfig!.Options ??= {}, val); break;
      case 'tmpfs-size':
        try { tmpfsOptions().SizeBytes = parseBytes(val); } catch { throw new Error(`invalid value for ${key}: ${val}`); }
        break;
      case 'tmpfs-mode': {
        if (!/^[0-7]+$/.test(val) || parseInt(val, 8) > 0xffffffff) throw new Error(`invalid value for ${key}: ${val}`);
        tmpfsOptions().Mode = parseInt(val, 8);
        break;
      }
      default: throw new Error(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (!m.Type) throw new Error('type is required');
  if (!m.Target) throw new Error('target is required');
  if (m.VolumeOptions && m.Type !== 'volume') throw new Error(`cannot mix 'volume-*' options with mount type '${m.Type}'`);
  if (m.BindOptions && m.Type !== 'bind') throw new Error(`cannot mix 'bind-*' options with mount type '${m.Type}'`);
  if (m.TmpfsOptions && m.Type !== 'tmpfs') throw new Error(`cannot mix 'tmpfs-*' options with mount type '${m.Type}'`);
  return m;
}
