import type { Db } from '../../store/db.ts';
import type { ContainerConfig, HealthState, HostConfig } from '../../api/types/index.ts';
import { EngineError } from '../../lib/errors.ts';
import { ZERO_TIME } from '../../lib/timestamp.ts';

export type ContainerStatus = 'creating' | 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

/** The mutable run state of a container, stored as JSON in containers.state. */
export interface ContainerState {
  status: ContainerStatus;
  pid: number;
  conmonPid: number;
  exitCode: number;
  error: string;
  oomKilled: boolean;
  startedAt: string;
  finishedAt: string;
  /** Set by `stop`/`kill` so restart policies and exit handling know it was asked for. */
  stoppedByUser?: boolean;
  /** State.Health: present once a container with a health check has started (health.ts). */
  health?: HealthState;
}

export interface ContainerRecord {
  id: string;
  name: string;
  imageId: string;
  imageRef: string;
  createdAt: string;
  config: ContainerConfig;
  hostConfig: HostConfig;
  runtime: string;
  restartCount: number;
  state: ContainerState;
}

export const initialState = (): ContainerState => ({
  status: 'creating', pid: 0, conmonPid: 0, exitCode: 0, error: '', oomKilled: false, startedAt: ZERO_TIME, finishedAt: ZERO_TIME,
});

interface Row {
  id: string; name: string; image_id: string; image_ref: string; created_at: string;
  config: string; host_config: string; state: string; runtime: string; restart_count: number;
}

const fromRow = (r: Row): ContainerRecord => ({
  id: r.id, name: r.name, imageId: r.image_id, imageRef: r.image_ref, createdAt: r.created_at,
  config: JSON.parse(r.config) as ContainerConfig, hostConfig: JSON.parse(r.host_config) as HostConfig,
  runtime: r.runtime, restartCount: r.restart_count, state: JSON.parse(r.state) as ContainerState,
});

/** Container rows in SQLite. Lookups by ID, unique ID prefix or name (with or without "/"). */
export class ContainerRepo {
  constructor(private readonly db: Db) {}

  insert(c: ContainerRecord): void {
    try {
      this.db.prepare(`INSERT INTO containers (id, name, image_id, image_ref, created_at, config, host_config, state, runtime, restart_count)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(c.id, c.name, c.imageId, c.imageRef, c.createdAt,
        JSON.stringify(c.config), JSON.stringify(c.hostConfig), JSON.stringify(c.state), c.runtime, c.restartCount);
    } catch (err) {
      if (String(err).includes('UNIQUE constraint failed: containers.name')) {
        const other = this.byName(c.name);
        throw new EngineError('Conflict', `Conflict. The container name "/${c.name}" is already in use by container "${other?.id ?? ''}". You have to remove (or rename) that container to be able to reuse that name.`, { cause: err });
      }
      throw err;
    }
  }

  saveState(id: string, state: ContainerState, restartCount?: number): void {
    if (restartCount === undefined) this.db.prepare('UPDATE containers SET state = ? WHERE id = ?').run(JSON.stringify(state), id);
    else this.db.prepare('UPDATE containers SET state = ?, restart_count = ? WHERE id = ?').run(JSON.stringify(state), restartCount, id);
  }

  /**
   * Marks that the user stopped the container (restart policies leave it alone), touching only
   * that field: a caller's copy of the state may already be stale (the exit may have been recorded).
   */
  markStoppedByUser(id: string): void {
    this.db.prepare("UPDATE containers SET state = json_set(state, '$.stoppedByUser', json('true')) WHERE id = ?").run(id);
  }

  /** Records State.Health alone (probes run alongside other state changes). */
  saveHealth(id: string, health: HealthState): void {
    this.db.prepare("UPDATE containers SET state = json_set(state, '$.health', json(?)) WHERE id = ?").run(JSON.stringify(health), id);
  }

  saveHostConfig(id: string, hc: HostConfig): void {
    this.db.prepare('UPDATE containers SET host_config = ? WHERE id = ?').run(JSON.stringify(hc), id);
  }

  rename(id: string, name: string): void {
    try {
      this.db.prepare('UPDATE containers SET name = ? WHERE id = ?').run(name, id);
    } catch (err) {
      if (String(err).includes('UNIQUE')) {
        const other = this.byName(name);
        throw new EngineError('Conflict', `Conflict. The container name "/${name}" is already in use by container "${other?.id ?? ''}". You have to remove (or rename) that container to be able to reuse that name.`, { cause: err });
      }
      throw err;
    }
  }

  delete(id: string): void { this.db.prepare('DELETE FROM containers WHERE id = ?').run(id); }

  get(id: string): ContainerRecord | undefined {
    const r = this.db.prepare('SELECT * FROM containers WHERE id = ?').get(id) as Row | undefined;
    return r && fromRow(r);
  }

  byName(name: string): ContainerRecord | undefined {
    const r = this.db.prepare('SELECT * FROM containers WHERE name = ?').get(name.replace(/^\//, '')) as Row | undefined;
    return r && fromRow(r);
  }

  all(): ContainerRecord[] {
    return (this.db.prepare('SELECT * FROM containers ORDER BY created_at DESC, rowid DESC').all() as Row[]).map(fromRow);
  }

  nameTaken(name: string): boolean {
    return this.db.prepare('SELECT 1 FROM containers WHERE name = ?').get(name) !== undefined;
  }

  usingImage(imageId: string): string[] {
    return (this.db.prepare('SELECT id FROM containers WHERE image_id = ?').all(imageId) as { id: string }[]).map((r) => r.id);
  }

  /**
   * Docker's lookup order: full ID, exact name, then unique ID prefix. A prefix matching several
   * containers is ambiguous (InvalidParameter), none is NotFound with Docker's wording.
   */
  resolve(ref: string): ContainerRecord {
    if (ref === '') throw new EngineError('NotFound', 'No such container: ');
    const byId = this.get(ref);
    if (byId) return byId;
    const byName = this.byName(ref);
    if (byName) return byName;
    if (/^[0-9a-f]+$/.test(ref)) {
      const rows = this.db.prepare("SELECT * FROM containers WHERE id LIKE ? || '%' LIMIT 2").all(ref) as Row[];
      if (rows.length === 1) return fromRow(rows[0]!);
      if (rows.length > 1) throw new EngineError('InvalidParameter', `multiple IDs found with provided prefix: ${ref}`);
    }
    throw new EngineError('NotFound', `No such container: ${ref}`);
  }
}
