import type * as api from '../types/index.ts';
import { EngineError, invalid } from '../../lib/errors.ts';
import { parseFilters } from '../../lib/filters.ts';
import type { ContainerService } from '../../engine/containers/service.ts';
import type { NetworkService } from '../../engine/networks/service.ts';
import type { NetworkRecord } from '../../engine/networks/record.ts';
import { type Route, created, ok, param, queryBool } from '../router.ts';
import { bodyValidator, readBody } from '../body-schema.ts';
import { networkConnectSchema, networkCreateSchema, networkDisconnectSchema } from '../schemas/network.ts';
import { toNetworkResource } from './network-views.ts';

export interface NetworkRouteDeps {
  networks: NetworkService;
  containers: ContainerService;
}

/** /networks: list, inspect, create, remove, prune, connect and disconnect. */
export function networkRoutes(d: NetworkRouteDeps): Route[] {
  const view = (n: NetworkRecord, withContainers: boolean): api.NetworkResource => {
    const members = d.networks.repo.endpointsOn(n.id).flatMap((ep) => {
      const c = d.containers.repo.get(ep.containerId);
      // Docker lists running containers only: a stopped one has no endpoint.
      return c && d.containers.isRunning(c.id) ? [{ id: c.id, name: c.name, a: { net: n, ep } }] : [];
    });
    return toNetworkResource(n, members, withContainers);
  };
  const createBody = bodyValidator<api.NetworkCreateRequest>(networkCreateSchema());
  const connectBody = bodyValidator<api.NetworkConnectRequest>(networkConnectSchema());
  const disconnectBody = bodyValidator<api.NetworkDisconnectRequest>(networkDisconnectSchema());
  return [
    { method: 'GET', path: '/networks', handler: (req) => {
      const filters = parseFilters(req.query.get('filters'));
      return ok(d.networks.list(filters).map((n) => view(n, false)));
    } },
    { method: 'GET', path: '/networks/:id', handler: (req) => {
      const scope = req.query.get('scope');
      const n = d.networks.resolve(param(req, 'id'));
      if (scope && scope !== 'local') throw new EngineError('NotFound', `network ${param(req, 'id')} not found`);
      void queryBool(req.query, 'verbose');
      return ok(view(n, true));
    } },
    { method: 'POST', path: '/networks/create', handler: async (req) => {
      const body = await readBody(req, createBody);
      if (!body) throw invalid('invalid network config: expected a JSON object');
      const r = await d.networks.create(body);
      return created({ Id: r.id, Warning: r.warning } satisfies api.NetworkCreateResponse);
    } },
    { method: 'DELETE', path: '/networks/:id', handler: async (req) => {
      await d.networks.remove(param(req, 'id'));
      return { kind: 'empty', status: 204 };
    } },
    { method: 'POST', path: '/networks/prune', handler: async (req) => {
      const names = await d.networks.prune(parseFilters(req.query.get('filters')));
      return ok({ NetworksDeleted: names.length ? names : null } satisfies api.NetworkPruneResponse);
    } },
    { method: 'POST', path: '/networks/:id/connect', handler: async (req) => {
      const body = await readBody(req, connectBody);
      if (!body?.Container) throw invalid('no container specified');
      await d.containers.connectNetwork(body.Container, param(req, 'id'), body.EndpointConfig ?? {});
      return { kind: 'empty', status: 200 };
    } },
    { method: 'POST', path: '/networks/:id/disconnect', handler: async (req) => {
      const body = await readBody(req, disconnectBody);
      if (!body?.Container) throw invalid('no container specified');
      await d.containers.disconnectNetwork(body.Container, param(req, 'id'));
      return { kind: 'empty', status: 200 };
    } },
  ];
}
