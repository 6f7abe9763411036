import type { Filters } from '../../lib/filters.ts';
import type { CreateVolumeRequest } from '../volumes/service.ts';
import type { VolumeRecord } from '../volumes/record.ts';

/** Named and anonymous volumes of the local driver. */
export interface VolumeEngine {
  list(filters: Filters): VolumeRecord[];
  /** NotFound when absent. */
  inspect(name: string): VolumeRecord;
  create(req: CreateVolumeRequest): Promise<VolumeRecord>;
  /** Conflict while a container uses it (unless `force` and the user is gone). */
  remove(name: string, opts: { force?: boolean }): Promise<void>;
  /** Unused volumes matching the filters (anonymous ones only unless `all=true`). */
  prune(filters: Filters): Promise<{ deleted: string[]; reclaimed: number }>;
  /** Where the volume's data is on the host. */
  mountpoint(name: string): string;
}
