import type * as api from '../../api/types/index.ts';
import type { Filters } from '../../lib/filters.ts';
import type { Attached } from '../networks/container-networks.ts';
import type { NetworkRecord } from '../networks/record.ts';

/** Networks (bridge, host, none and user bridges) and containers' endpoints on them. */
export interface NetworkEngine {
  list(filters: Filters): NetworkDetails[];
  /** NotFound when absent. */
  /** NotFound when absent, or when `scope` is not "local". */
  inspect(ref: string, opts?: { scope?: string }): NetworkDetails;
  create(req: api.NetworkCreateRequest): Promise<{ id: string; warning: string }>;
  /** Forbidden for builtin networks, Conflict while endpoints are on it. */
  remove(ref: string): Promise<void>;
  /** Unused user networks matching the filters; returns their names. */
  prune(filters: Filters): Promise<string[]>;
  connect(networkRef: string, containerRef: string, cfg: api.EndpointSettings): Promise<void>;
  disconnect(networkRef: string, containerRef: string): Promise<void>;
}

/** A network and the running containers attached to it. */
export interface NetworkDetails {
  record: NetworkRecord;
  members: { id: string; name: string; attached: Attached }[];
}
