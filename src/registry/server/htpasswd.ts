/**
 * Basic auth against an htpasswd file of bcrypt entries (`htpasswd -Bbn user pass` writes
 * `user:$2y$...`), as Distribution's htpasswd access controller accepts them.
 */
import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';

/**
 * Users to bcrypt hashes from an htpasswd file's text. Blank lines and `#` comments are
 * skipped. Only bcrypt ($2a$, $2b$, $2y$) entries are accepted, as Distribution does.
 * @throws Error naming the line for anything else.
 */
export function parseHtpasswd(text: string): Map<string, string> {
  const users = new Map<string, string>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`htpasswd line ${i + 1}: expected user:hash`);
    const hash = line.slice(colon + 1);
    if (!/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash)) throw new Error(`htpasswd line ${i + 1}: only bcrypt entries are supported (htpasswd -B)`);
    users.set(line.slice(0, colon), hash);
  });
  return users;
}

/** The user and password of an `Authorization: Basic ...` header, or undefined. */
export function parseBasicAuth(header: string | undefined): { user: string; password: string } | undefined {
  const m = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? undefined : { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/**
 * Checks credentials. A bcrypt comparison costs milliseconds by design, so a successful check
 * is remembered (as a hash of header and entry, never the password) for `cacheMs`: a pull's
 * hundred requests pay for one comparison.
 */
export class HtpasswdAuth {
  readonly #users: Map<string, string>;
  readonly #ok = new Map<string, number>();
  constructor(users: Map<string, string>, private readonly cacheMs = 60_000) { this.#users = users; }

  /** The user the header authenticates, or undefined. */
  async check(header: string | undefined): Promise<string | undefined> {
    const creds = parseBasicAuth(header);
    if (!creds) return undefined;
    const hash = this.#users.get(creds.user);
    if (hash === undefined) return undefined;
    const key = createHash('sha256').update(`${header}\0${hash}`).digest('hex');
    const until = this.#ok.get(key);
    const now = Date.now();
    if (until !== undefined && until > now) return creds.user;
    if (!(await bcrypt.compare(creds.password, hash))) return undefined;
    if (this.#ok.size > 10_000) this.#ok.clear();
    this.#ok.set(key, now + this.cacheMs);
    return creds.user;
  }
}
