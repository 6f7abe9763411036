import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type * as api from '../../api/types/index.ts';
import { DEFAULT_DOMAIN, registryDomainOf } from '../../lib/reference.ts';

/**
 * Registry credentials in the docker CLI's config file ($DOCKER_CONFIG/config.json, else
 * ~/.docker/config.json), in its format, so `berth login` and `docker login` share them:
 * `auths[server].auth` is base64 "user:password" (or `identitytoken`), unless a credential helper
 * (`credsStore`, or `credHelpers[server]`) keeps the secret, run as docker-credential-<name>.
 */
interface ConfigFile {
  auths?: Record<string, { auth?: string; identitytoken?: string; email?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [key: string]: unknown;
}

/** The key Docker Hub's credentials live under. */
export const HUB_SERVER = 'https://index.docker.io/v1/';

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env['DOCKER_CONFIG'] || join(homedir(), '.docker'), 'config.json');
}

/** "docker.io", "", Hub URLs → HUB_SERVER; anything else → its host[:port]. */
export function serverKey(server: string): string {
  const domain = registryDomainOf(server);
  return domain === DEFAULT_DOMAIN ? HUB_SERVER : domain;
}

function readConfig(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return {};
  }
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as ConfigFile;
  } catch (err) {
    throw new Error(`loading config file ${path}: ${(err as Error).message}`);
  }
}

/** Written to a temp file and renamed, mode 0600 (it holds secrets). */
function writeConfig(path: string, cfg: ConfigFile): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(cfg, null, '\t')}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/** The entry of `auths` for a server, matched with or without scheme and path. */
function entryKey(cfg: ConfigFile, key: string): string | undefined {
  return Object.keys(cfg.auths ?? {}).find((k) => serverKey(k) === key);
}

function helperFor(cfg: ConfigFile, key: string): string | undefined {
  const own = Object.entries(cfg.credHelpers ?? {}).find(([k]) => serverKey(k) === key)?.[1];
  return own ?? cfg.credsStore;
}

/** Runs docker-credential-<name> <action> with `input` on stdin; stdout, or an Error with its message. */
function runHelper(name: string, action: 'get' | 'store' | 'erase', input: string): string {
  const r = spawnSync(`docker-credential-${name}`, [action], { input, encoding: 'utf8' });
  if (r.error) throw new Error(`error getting credentials - err: exec: "docker-credential-${name}": executable file not found in $PATH, out: \`\``);
  if (r.status !== 0) throw new Error(`error ${action === 'get' ? 'getting' : action === 'store' ? 'storing' : 'erasing'} credentials - err: exit status ${r.status}, out: \`${(r.stdout || r.stderr).trim()}\``);
  return r.stdout;
}

/** The stored credentials for a server (a registry domain or login address); undefined when none. */
export function loadAuth(server: string, path = configPath()): api.AuthConfig | undefined {
  const cfg = readConfig(path);
  const key = serverKey(server);
  const helper = helperFor(cfg, key);
  if (helper) {
    let out: string;
    try {
      out = runHelper(helper, 'get', key);
    } catch {
      return undefined;
    }
    const c = JSON.parse(out) as { Username?: string; Secret?: string };
    if (!c.Secret) return undefined;
    return c.Username === '<token>' ? { identitytoken: c.Secret, serveraddress: key } : { username: c.Username ?? '', password: c.Secret, serveraddress: key };
  }
  const k = entryKey(cfg, key);
  const e = k ? cfg.auths![k] : undefined;
  if (!e) return undefined;
  if (e.identitytoken) return { identitytoken: e.identitytoken, serveraddress: key };
  if (!e.auth) return undefined;
  const plain = Buffer.from(e.auth, 'base64').toString('utf8');
  const colon = plain.indexOf(':');
  if (colon < 0) return undefined;
  return { username: plain.slice(0, colon), password: plain.slice(colon + 1), serveraddress: key };
}

/** Stores credentials (a helper's when configured); an identity token replaces the password. */
export function storeAuth(server: string, c: { username: string; password: string; identityToken?: string }, path = configPath()): void {
  const cfg = readConfig(path);
  const key = serverKey(server);
  const helper = helperFor(cfg, key);
  cfg.auths ??= {};
  const old = entryKey(cfg, key);
  if (old && old !== key) delete cfg.auths[old];
  if (helper) {
    const secret = c.identityToken ?? c.password;
    runHelper(helper, 'store', JSON.stringify({ ServerURL: key, Username: c.identityToken ? '<token>' : c.username, Secret: secret }));
    cfg.auths[key] = {};
  } else {
    cfg.auths[key] = c.identityToken
      ? { auth: Buffer.from(`${c.username}:`).toString('base64'), identitytoken: c.identityToken }
      : { auth: Buffer.from(`${c.username}:${c.password}`).toString('base64') };
  }
  writeConfig(path, cfg);
}

/** Removes stored credentials; false when there were none. */
export function eraseAuth(server: string, path = configPath()): boolean {
  const cfg = readConfig(path);
  const key = serverKey(server);
  const k = entryKey(cfg, key);
  const helper = helperFor(cfg, key);
  if (!k && !helper) return false;
  if (helper) {
    try { runHelper(helper, 'erase', key); } catch { /* nothing stored there */ }
  }
  if (k) delete cfg.auths![k];
  writeConfig(path, cfg);
  return k !== undefined;
}

/** The X-Registry-Auth header value for a server: base64url JSON, as the docker CLI sends it. */
export function registryAuthHeader(server: string, path = configPath()): Record<string, string> {
  const a = loadAuth(server, path);
  return a ? { 'X-Registry-Auth': Buffer.from(JSON.stringify(a)).toString('base64url') } : {};
}
