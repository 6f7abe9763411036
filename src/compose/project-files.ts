/**
 * Where a project's files come from, as Compose v2 finds them: the compose file looked up in the
 * working directory and then its parents, and `.env` files in dotenv syntax.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { interpolate, InterpolationError, type Lookup } from './interpolate.ts';

/** The names Compose v2 looks for, in its order of preference. */
export const COMPOSE_FILE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'] as const;

/**
 * The compose file of the nearest directory, from `cwd` up to the root, that has one; undefined
 * when none has. Where a directory has several, the first name of COMPOSE_FILE_NAMES wins
 * (Compose v2 warns about the others; `warn` hears that).
 */
export function findComposeFile(cwd: string, warn: (message: string) => void = () => undefined): string | undefined {
  for (let dir = cwd; ; dir = dirname(dir)) {
    const found = COMPOSE_FILE_NAMES.map((n) => join(dir, n)).filter((p) => existsSync(p));
    if (found.length > 1) warn(`Found multiple config files with supported names: ${found.join(', ')}\nUsing ${found[0]}`);
    if (found.length) return found[0];
    if (dirname(dir) === dir) return undefined;
  }
}

/** An env file line Compose cannot read; names the file and the line. */
export class EnvFileError extends Error {}

/**
 * Parses a dotenv file as Compose v2 does: `KEY=VALUE` lines, an optional `export `, `#` comments
 * (a `#` after whitespace ends an unquoted value), single quotes literal, double quotes with
 * `\n`, `\t`, `\\` and `\"` escapes; unquoted and double-quoted values interpolate variables seen
 * earlier in the file or given by `lookup`. A line with only a name takes it from `lookup`.
 * @throws EnvFileError
 */
export function parseEnvFile(text: string, file: string, lookup: Lookup = () => undefined): Record<string, string> {
  const vars: Record<string, string> = {};
  const seen: Lookup = (n) => (Object.hasOwn(vars, n) ? vars[n] : lookup(n));
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim().replace(/^export\s+/, '');
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const key = (eq < 0 ? line : line.slice(0, eq)).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key)) throw new EnvFileError(`${file}:${index + 1}: unexpected character in variable name ${JSON.stringify(key)}`);
    if (eq < 0) { const v = lookup(key); if (v !== undefined) vars[key] = v; return; }
    try {
      vars[key] = envValue(line.slice(eq + 1).trim(), seen);
    } catch (err) {
      throw new EnvFileError(`${file}:${index + 1}: ${(err as Error).message}`, { cause: err });
    }
  });
  return vars;
}

function envValue(v: string, lookup: Lookup): string {
  if (v.startsWith("'")) {
    const end = v.indexOf("'", 1);
    if (end < 0) throw new InterpolationError('unterminated quoted value');
    return v.slice(1, end);
  }
  if (v.startsWith('"')) {
    let out = '';
    for (let i = 1; i < v.length; i++) {
      if (v[i] === '"') return interpolate(out, lookup);
      if (v[i] === '\\' && i + 1 < v.length) {
        const c = v[++i]!;
        out += c === 'n' ? '\n' : c === 't' ? '\t' : c === 'r' ? '\r' : c;
      } else out += v[i];
    }
    throw new InterpolationError('unterminated quoted value');
  }
  const comment = v.search(/\s#/);
  return interpolate((comment < 0 ? v : v.slice(0, comment)).trim(), lookup);
}

/** Reads `path` as an env file; an absent file gives no variables (the project `.env` is optional). */
export function readEnvFile(path: string, lookup?: Lookup): Record<string, string> {
  if (!existsSync(path)) return {};
  return parseEnvFile(readFileSync(path, 'utf8'), path, lookup);
}
