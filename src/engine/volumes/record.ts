import type { Db } from '../../store/db.ts';

/** A volume as berth stores it (driver 'local' only). */
export interface VolumeRecord {
  name: string;
  driver: string;
  createdAt: string;
  labels: Record<string, string>;
  /** The local driver's options: type, device, o (a tmpfs or a bind of a host directory). */
  options: Record<string, string>;
  /** Made for one container (`-v /path`, an image VOLUME): `rm -v` and a plain prune remove it. */
  anonymous: boolean;
  /** An image's content was copied in once (copy-up); never again. */
  populated: boolean;
}

/**
 * One mount point of a container, fixed at create: what `inspect` shows as `Mounts` and what a
 * start turns into OCI mounts. `source` is the host path for a bind, the volume's mountpoint for a
 * volume, '' for a tmpfs.
 */
export interface MountRecord {
  type: 'volume' | 'bind' | 'tmpfs';
  /** The volume's name (type volume). */
  name?: string;
  source: string;
  destination: string;
  driver?: string;
  /** As the user wrote it (`ro`, `z`, `rw,Z`), Docker's `Mode`. */
  mode: string;
  rw: boolean;
  /** Bind propagation ('rprivate' by default); '' for volumes and tmpfs, as Docker shows it. */
  propagation: string;
  /** Copy the image's content at the destination into a new, empty volume (once). */
  copyData?: boolean;
  /** `--mount volume-subpath=`: a path inside the volume, never outside it. */
  subpath?: string;
  /** `-v /host:/dst` creates a missing host directory; `--mount type=bind` does not. */
  createSource?: boolean;
  nonRecursive?: boolean;
  tmpfs?: { sizeBytes?: number; mode?: number };
}

interface VolumeRow { name: string; driver: string; created_at: string; labels: string; options: string; anonymous: number; populated: number }

const toRecord = (r: VolumeRow): VolumeRecord => ({
  name: r.name, driver: r.driver, createdAt: r.created_at, labels: JSON.parse(r.labels) as Record<string, string>,
  options: JSON.parse(r.options) as Record<string, string>, anonymous: r.anonymous === 1, populated: r.populated === 1,
});

/** SQLite access for volumes and container mount points. Synchronous (better-sqlite3). */
export class VolumeRepo {
  constructor(private readonly db: Db) {}

  insert(v: VolumeRecord): void {
    this.db.prepare(`INSERT INTO volumes (name, driver, created_at, labels, options, anonymous, populated) VALUES (?, ?, ?, ?, ?, ?, ?)`)
      .run(v.name, v.driver, v.createdAt, JSON.stringify(v.labels), JSON.stringify(v.options), v.anonymous ? 1 : 0, v.populated ? 1 : 0);
  }

  get(name: string): VolumeRecord | undefined {
    const r = this.db.prepare(`SELECT * FROM volumes WHERE name = ?`).get(name) as VolumeRow | undefined;
    return r && toRecord(r);
  }

  all(): VolumeRecord[] {
    return (this.db.prepare(`SELECT * FROM volumes ORDER BY name`).all() as VolumeRow[]).map(toRecord);
  }

  delete(name: string): void {
    this.db.prepare(`DELETE FROM volumes WHERE name = ?`).run(name);
  }

  markPopulated(name: string): void {
    this.db.prepare(`UPDATE volumes SET populated = 1 WHERE name = ?`).run(name);
  }

  /** IDs of the containers with a mount point on the volume (running or not): it is in use. */
  usersOf(name: string): string[] {
    return (this.db.prepare(`SELECT DISTINCT container_id FROM container_mounts WHERE volume = ? ORDER BY container_id`).all(name) as { container_id: string }[])
      .map((r) => r.container_id);
  }

  /** Names of every volume some container mounts. */
  inUse(): Set<string> {
    return new Set((this.db.prepare(`SELECT DISTINCT volume FROM container_mounts WHERE volume IS NOT NULL`).all() as { volume: string }[]).map((r) => r.volume));
  }

  /** Replaces a container's mount points (one transaction). */
  setMounts(containerId: string, mounts: readonly MountRecord[]): void {
    this.db.transaction(() => {
      this.db.prepare(`DELETE FROM container_mounts WHERE container_id = ?`).run(containerId);
      const ins = this.db.prepare(`INSERT INTO container_mounts (container_id, destination, volume, spec) VALUES (?, ?, ?, ?)`);
      for (const m of mounts) ins.run(containerId, m.destination, m.type === 'volume' ? m.name ?? null : null, JSON.stringify(m));
    })();
  }

  /** A container's mount points, in the order they were planned. */
  mountsOf(containerId: string): MountRecord[] {
    return (this.db.prepare(`SELECT spec FROM container_mounts WHERE container_id = ? ORDER BY rowid`).all(containerId) as { spec: string }[])
      .map((r) => JSON.parse(r.spec) as MountRecord);
  }

  deleteMounts(containerId: string): void {
    this.db.prepare(`DELETE FROM container_mounts WHERE container_id = ?`).run(containerId);
  }
}
