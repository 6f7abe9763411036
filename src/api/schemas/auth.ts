import { type Schema, str, struct } from '../body-schema.ts';

/** POST /auth and the X-Registry-Auth header (registry.AuthConfig, API 1.47). */
export const authConfigSchema = (): Schema => struct({
  username: str(),
  password: str(),
  auth: str(),
  email: str(),
  serveraddress: str(),
  identitytoken: str(),
  registrytoken: str(),
});
