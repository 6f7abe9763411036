import type * as api from '../types/index.ts';
import { invalid } from '../../lib/errors.ts';
import { parseFilters } from '../../lib/filters.ts';
import type { NetworkDetails, NetworkEngine } from '../../engine/index.ts';
import { type Route, created, ok, param } from '../router.ts';
import { bodyValidator, readBody } from '../body-schema.ts';
import { networkConnectSchema, networkCreateSchema, networkDisconnectSchema } from '../schemas/network.ts';
import { toNetworkResource } from './network-views.ts';

/** /networks: list, inspect, create, remove, prune, connect and disconnect. */
export function networkRoutes(networks: NetworkEngine): Route[] {
  const view = (n: NetworkDetails, withContainers: boolean): api.NetworkResource =>
    toNetworkResource(n.record, n.members.map((m) => ({ id: m.id, name: m.name, a: m.attached })), withContainers);
  const createBody = bodyValidator<api.NetworkCreateRequest>(networkCreateSchema());
  const connectBody = bodyValidator<api.NetworkConnectRequest>(networkConnectSchema());
  const disconnectBody = bodyValidator<api.NetworkDisconnectRequest>(networkDisconnectSchema());
  return [
    { method: 'GET', path: '/networks', handler: (req) => {
      const filters = parseFilters(req.query.get('filters'));
      return ok(networks.list(filters).map((n) => view(n, false)));
    } },
    { method: 'GET', path: '/networks/:id', handler: (req) => {
      const scope = req.query.get('scope');
      return ok(view(networks.inspect(param(req, 'id'), scope ? { scope } : {}), true));
    } },
    { method: 'POST', path: '/networks/create', handler: async (req) => {
      const body = await readBody(req, createBody);
      if (!body) throw invalid('invalid network config: expected a JSON object');
      const r = await networks.create(body);
      return created({ Id: r.id, Warning: r.warning } satisfies api.NetworkCreateResponse);
    } },
    { method: 'DELETE', path: '/networks/:id', handler: async (req) => {
      await networks.remove(param(req, 'id'));
      return { kind: 'empty', status: 204 };
    } },
    { method: 'POST', path: '/networks/prune', handler: async (req) => {
      const names = await networks.prune(parseFilters(req.query.get('filters')));
      return ok({ NetworksDeleted: names.length ? names : null } satisfies api.NetworkPruneResponse);
    } },
    { method: 'POST', path: '/networks/:id/connect', handler: async (req) => {
      const body = await readBody(req, connectBody);
      if (!body?.Container) throw invalid('no container specified');
      await networks.connect(param(req, 'id'), body.Container, body.EndpointConfig ?? {});
      return { kind: 'empty', status: 200 };
    } },
    { method: 'POST', path: '/networks/:id/disconnect', handler: async (req) => {
      const body = await readBody(req, disconnectBody);
      if (!body?.Container) throw invalid('no container specified');
      await networks.disconnect(param(req, 'id'), body.Container);
      return { kind: 'empty', status: 200 };
    } },
  ];
}
