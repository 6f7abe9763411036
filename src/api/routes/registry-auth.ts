import type * as api from '../types/index.ts';
import { invalid } from '../../lib/errors.ts';
import type { ApiRequest } from '../router.ts';
import { bodyValidator } from '../body-schema.ts';
import { authConfigSchema } from '../schemas/auth.ts';

/** An AuthConfig as POST /auth's body and the X-Registry-Auth header carry it; compiled on first use. */
export const authConfigBody = bodyValidator<api.AuthConfig>(authConfigSchema());

/** Credentials in the engine's terms, from an AuthConfig. */
export interface Credentials {
  username?: string;
  password?: string;
  identityToken?: string;
  registryToken?: string;
}

/** The AuthConfig's credentials; username/password also come from its `auth` ("user:pass" base64). */
export function credentialsOf(a: api.AuthConfig): Credentials | undefined {
  let { username, password } = a;
  if (!username && a.auth) {
    const plain = Buffer.from(a.auth, 'base64').toString('utf8');
    const colon = plain.indexOf(':');
    if (colon > 0) {
      username = plain.slice(0, colon);
      password = plain.slice(colon + 1);
    }
  }
  const c: Credentials = {
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(a.identitytoken ? { identityToken: a.identitytoken } : {}),
    ...(a.registrytoken ? { registryToken: a.registrytoken } : {}),
  };
  return Object.keys(c).length > 0 ? c : undefined;
}

/**
 * The X-Registry-Auth header: base64url (or standard base64) JSON of an AuthConfig. Absent or
 * empty ("e30=" is "{}") means anonymous; anything undecodable is InvalidParameter.
 */
export function registryAuthOf(req: Pick<ApiRequest, 'headers'>): Credentials | undefined {
  const raw = req.headers['x-registry-auth'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (!value) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
  } catch (err) {
    throw invalid('invalid X-Registry-Auth header: not base64-encoded JSON', err);
  }
  const auth = authConfigBody.check(parsed, 'X-Registry-Auth header');
  return auth ? credentialsOf(auth) : undefined;
}
