import { basename } from 'node:path';
import { parseReference } from '../../../lib/reference.ts';
import { FlagError } from '../../args/spec.ts';

/**
 * Flag parsing for `berth build`: the values docker's CLI validates before it sends anything
 * (tags, build args, labels, hosts), and the buildx-style options the legacy API lacks
 * (`--output`, `--secret`, `--progress`). Every error is a FlagError (exit 125, as cobra's).
 */

/** `-t`: each value must parse as a reference (docker's validateTag). */
export function validateTags(tags: readonly string[]): string[] {
  for (const t of tags) {
    try { parseReference(t); } catch (err) {
      throw new FlagError(`invalid argument ${JSON.stringify(t)} for "-t, --tag" flag: ${(err as Error).message}`);
    }
  }
  return [...tags];
}

/**
 * `--build-arg`: `KEY=VALUE` as given; `KEY` alone takes KEY's value from the caller's environment
 * and stays a null (unset) value when there is none (docker's ValidateEnv + ConvertKVStringsToMapWithNil).
 */
export function parseBuildArgs(values: readonly string[], env: NodeJS.ProcessEnv = process.env): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    const key = eq === -1 ? v : v.slice(0, eq);
    if (key === '') throw new FlagError(`invalid argument ${JSON.stringify(v)} for "--build-arg" flag: invalid environment variable: ${v}`);
    if (eq !== -1) out[key] = v.slice(eq + 1);
    else out[key] = Object.hasOwn(env, key) && env[key] !== undefined ? env[key]! : null;
  }
  return out;
}

/** `--label`: `KEY=VALUE`, `KEY` alone is an empty value (docker's ConvertKVStringsToMap). */
export function parseLabels(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    const key = eq === -1 ? v : v.slice(0, eq);
    if (key.trim() === '') throw new FlagError(`invalid argument ${JSON.stringify(v)} for "--label" flag: invalid label '${v}': empty name`);
    out[key] = eq === -1 ? '' : v.slice(eq + 1);
  }
  return out;
}

/** `--add-host host:ip` (also `host=ip`, as docker 25+ accepts); the wire form is `host:ip`. */
export function parseExtraHosts(values: readonly string[]): string[] {
  return values.map((v) => {
    const m = /^([^:=\s]+)[:=](.+)$/.exec(v);
    if (!m) throw new FlagError(`invalid argument ${JSON.stringify(v)} for "--add-host" flag: bad format for add-host: ${JSON.stringify(v)}`);
    const ip = m[2]!.replace(/^\[(.*)\]$/, '$1');
    if (ip !== 'host-gateway' && !isIp(ip)) throw new FlagError(`invalid argument ${JSON.stringify(v)} for "--add-host" flag: invalid IP address in add-host: ${JSON.stringify(ip)}`);
    return `${m[1]}:${ip}`;
  });
}

const isIp = (s: string): boolean => /^(\d{1,3})(\.\d{1,3}){3}$/.test(s) && s.split('.').every((o) => Number(o) <= 255) || (s.includes(':') && /^[0-9a-fA-F:.]+$/.test(s));

/** Where the result goes besides (or instead of) the image store. */
export type OutputSpec =
  | { type: 'image' }
  | { type: 'local'; dest: string }
  /** dest `-` is stdout. */
  | { type: 'tar'; dest: string };

/** Splits a buildx-style CSV option (`type=local,dest=out`), honouring double quotes. */
export function splitCsv(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const c of value) {
    if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) { out.push(cur); cur = ''; } else cur += c;
  }
  out.push(cur);
  return out.map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * `-o/--output` as buildx reads it: `type=local,dest=DIR`, `type=tar,dest=FILE`, `type=image`; a
 * value without `=` is a local directory (`-o out`), and `-` is a tar on stdout.
 * `stdoutIsTTY`: a tar may not go to a terminal (buildx refuses too).
 */
export function parseOutputs(values: readonly string[], stdoutIsTTY = false): OutputSpec {
  if (values.length === 0) return { type: 'image' };
  if (values.length > 1) throw new FlagError('multiple outputs are not supported: give one --output');
  const v = values[0]!;
  const fields: Record<string, string> = {};
  if (v === '-') fields['type'] = 'tar';
  else if (!v.includes('=')) { fields['type'] = 'local'; fields['dest'] = v; } else {
    for (const kv of splitCsv(v)) {
      const eq = kv.indexOf('=');
      if (eq === -1) throw new FlagError(`invalid value ${JSON.stringify(kv)} in --output ${JSON.stringify(v)}: expected key=value`);
      fields[kv.slice(0, eq).toLowerCase()] = kv.slice(eq + 1);
    }
  }
  const type = fields['type'];
  const dest = fields['dest'];
  switch (type) {
    case 'image': case 'docker':
      return { type: 'image' };
    case 'local':
      if (!dest || dest === '-') throw new FlagError('dest directory is required for local exporter');
      return { type: 'local', dest };
    case 'tar':
      // No dest: stdout, as buildx does when it is not a terminal.
      if (!dest || dest === '-') {
        if (stdoutIsTTY) throw new FlagError('dest file is required for tar exporter. refusing to write to console');
        return { type: 'tar', dest: '-' };
      }
      return { type: 'tar', dest };
    case undefined:
      throw new FlagError(`type is required for output ${JSON.stringify(v)}`);
    default:
      throw new FlagError(`output type ${JSON.stringify(type)} is not supported by berth (local, tar and image are)`);
  }
}

/** One `--secret`: an id and where its bytes come from. */
export interface SecretSpec {
  id: string;
  /** A file to read, or an environment variable's value. */
  source: { file: string } | { env: string };
}

/**
 * `--secret id=x,src=path` (also `source=`, `type=file|env`, `env=VAR`), as buildx reads it: the
 * id defaults to the file's base name (or the variable's name); `type=env` without `env=` takes
 * the variable named by the id.
 */
export function parseSecrets(values: readonly string[]): SecretSpec[] {
  const seen = new Set<string>();
  return values.map((v) => {
    const f: Record<string, string> = {};
    for (const kv of splitCsv(v)) {
      const eq = kv.indexOf('=');
      if (eq === -1) throw new FlagError(`invalid value ${JSON.stringify(kv)} in --secret ${JSON.stringify(v)}: expected key=value`);
      f[kv.slice(0, eq).toLowerCase()] = kv.slice(eq + 1);
    }
    const type = f['type'] ?? (f['env'] !== undefined && f['src'] === undefined && f['source'] === undefined ? 'env' : 'file');
    const file = f['src'] ?? f['source'];
    let spec: SecretSpec;
    if (type === 'file') {
      if (!file) throw new FlagError(`invalid secret ${JSON.stringify(v)}: src is required`);
      spec = { id: f['id'] ?? basename(file), source: { file } };
    } else if (type === 'env') {
      const name = f['env'] ?? file ?? f['id'];
      if (!name) throw new FlagError(`invalid secret ${JSON.stringify(v)}: env or id is required`);
      spec = { id: f['id'] ?? name, source: { env: name } };
    } else throw new FlagError(`invalid secret ${JSON.stringify(v)}: unsupported type ${JSON.stringify(type)}`);
    if (!/^[A-Za-z0-9_.-]+$/.test(spec.id) || spec.id === '.' || spec.id === '..') throw new FlagError(`invalid secret ${JSON.stringify(v)}: invalid id ${JSON.stringify(spec.id)}`);
    if (seen.has(spec.id)) throw new FlagError(`invalid secret ${JSON.stringify(v)}: duplicate id ${JSON.stringify(spec.id)}`);
    seen.add(spec.id);
    return spec;
  });
}

export type ProgressMode = 'tty' | 'plain' | 'quiet' | 'rawjson';

/** `--progress auto|plain|tty|quiet|rawjson`; auto is tty on a terminal, plain otherwise. */
export function parseProgress(value: string | undefined, isTTY: boolean): ProgressMode {
  switch (value ?? 'auto') {
    case 'auto': case '': return isTTY ? 'tty' : 'plain';
    case 'plain': return 'plain';
    case 'tty': return 'tty';
    case 'quiet': return 'quiet';
    case 'rawjson': return 'rawjson';
    default: throw new FlagError(`invalid progress mode ${JSON.stringify(value)}: use auto, plain, tty, quiet or rawjson`);
  }
}

/** `--platform`: os[/arch[/variant]], validated as containerd's platforms.Parse would. */
export function validatePlatform(p: string): string {
  if (!/^[a-z0-9_-]+(\/[a-z0-9_-]+){0,2}$/i.test(p)) throw new FlagError(`"${p}": unknown operating system or architecture: invalid argument`);
  return p;
}
