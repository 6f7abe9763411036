import { EngineError } from '../../lib/errors.ts';
import { type Route, ok } from '../router.ts';

/**
 * Swarm and plugin endpoints answered as a dockerd that is in no swarm and has no plugins would
 * answer them (daemon/cluster/cluster.go errNoManager, daemon/pkg/plugin/errors.go). Clients
 * match on these: docker-py's leave_swarm tolerates "not part of a swarm", and `docker node ls`,
 * `docker service ls` and `docker plugin ls` print what they print against such a dockerd.
 * TODO(#11): replaced when cluster mode (src/cluster/) and plugins exist.
 */

/** dockerd's errNoManager when the node has never joined a swarm (503). */
export const NOT_A_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
/** dockerd's errNoSwarm, returned by leave when there is nothing to leave (503). */
export const NOT_IN_SWARM = 'This node is not part of a swarm';

const METHODS = ['GET', 'POST', 'PUT', 'DELETE'] as const;
const unavailable = (message: string) => (): never => { throw new EngineError('Unavailable', message); };

/** Every method on `prefix` and everything under it. */
function everyMethod(prefix: string, message: string): Route[] {
  return METHODS.flatMap((method) => [
    { method, path: prefix, handler: unavailable(message) },
    { method, path: `${prefix}/*rest`, handler: unavailable(message) },
  ]);
}

export function swarmRoutes(): Route[] {
  return [
    { method: 'POST', path: '/swarm/leave', handler: unavailable(NOT_IN_SWARM) },
    // dockerd would create or join a cluster here; berth has no cluster mode yet.
    { method: 'POST', path: '/swarm/init', handler: unavailable('swarm mode is not supported by this daemon (berth)') },
    { method: 'POST', path: '/swarm/join', handler: unavailable('swarm mode is not supported by this daemon (berth)') },
    ...['/swarm', '/services', '/nodes', '/tasks', '/secrets', '/configs'].flatMap((p) => everyMethod(p, NOT_A_MANAGER)),
  ];
}

/** dockerd's errNotFound for a plugin name or ID (`%q`, so Go quoting). */
const noSuchPlugin = (name: string) => new EngineError('NotFound', `plugin "${name.replace(/["\\]/g, '\\$&')}" not found`);
const notSupported = (): never => { throw new EngineError('NotImplemented', 'plugins are not supported by this daemon (berth)'); };

export function pluginRoutes(): Route[] {
  const missing = (req: { params: Record<string, string> }): never => { throw noSuchPlugin(req.params['name'] ?? ''); };
  return [
    { method: 'GET', path: '/plugins', handler: () => ok([]) },
    // Both need a registry and a plugin runtime.
    { method: 'GET', path: '/plugins/privileges', handler: notSupported },
    { method: 'POST', path: '/plugins/pull', handler: notSupported },
    { method: 'POST', path: '/plugins/create', handler: notSupported },
    { method: 'GET', path: '/plugins/*name/json', handler: missing },
    { method: 'DELETE', path: '/plugins/*name', handler: missing },
    ...['enable', 'disable', 'push', 'upgrade', 'set'].map((verb) => ({ method: 'POST', path: `/plugins/*name/${verb}`, handler: missing })),
  ];
}
