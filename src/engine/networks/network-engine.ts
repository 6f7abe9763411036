import type * as api from '../../api/types/index.ts';
import { EngineError } from '../../lib/errors.ts';
import type { Filters } from '../../lib/filters.ts';
import type { NetworkDetails, NetworkEngine } from '../contracts/networks.ts';
import type { NetworkRecord } from './record.ts';
import type { NetworkService } from './service.ts';

/** What NetworkEngineImpl needs of containers: names, liveness and endpoint changes. */
export interface NetworkEngineContainers {
  get(id: string): { id: string; name: string } | undefined;
  isRunning(id: string): boolean;
  connectNetwork(containerRef: string, networkRef: string, cfg: api.EndpointSettings): Promise<void>;
  disconnectNetwork(containerRef: string, networkRef: string): Promise<void>;
}

/** NetworkEngine (contracts/networks.ts) over the network service and the containers' endpoints. */
export class NetworkEngineImpl implements NetworkEngine {
  readonly #networks: NetworkService;
  readonly #containers: NetworkEngineContainers;

  constructor(deps: { networks: NetworkService; containers: NetworkEngineContainers }) {
    this.#networks = deps.networks;
    this.#containers = deps.containers;
  }

  list(filters: Filters): NetworkDetails[] { return this.#networks.list(filters).map((n) => this.#details(n)); }

  inspect(ref: string, opts: { scope?: string } = {}): NetworkDetails {
    const n = this.#networks.resolve(ref);
    if (opts.scope && opts.scope !== 'local') throw new EngineError('NotFound', `network ${ref} not found`);
    return this.#details(n);
  }

  create(req: api.NetworkCreateRequest): Promise<{ id: string; warning: string }> { return this.#networks.create(req); }
  remove(ref: string): Promise<void> { return this.#networks.remove(ref); }
  prune(filters: Filters): Promise<string[]> { return this.#networks.prune(filters); }

  connect(networkRef: string, containerRef: string, cfg: api.EndpointSettings): Promise<void> {
    return this.#containers.connectNetwork(containerRef, networkRef, cfg);
  }

  disconnect(networkRef: string, containerRef: string): Promise<void> {
    return this.#containers.disconnectNetwork(containerRef, networkRef);
  }

  /** Docker lists running containers only: a stopped one has no endpoint. */
  #details(n: NetworkRecord): NetworkDetails {
    const members = this.#networks.repo.endpointsOn(n.id).flatMap((ep) => {
      const c = this.#containers.get(ep.containerId);
      return c && this.#containers.isRunning(c.id) ? [{ id: c.id, name: c.name, attached: { net: n, ep } }] : [];
    });
    return { record: n, members };
  }
}
