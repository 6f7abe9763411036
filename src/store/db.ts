import Database from 'better-sqlite3';

/**
 * berthd's metadata database: one SQLite file in WAL mode. Migrations are versioned by
 * `PRAGMA user_version`; each runs once, in a transaction, in order. Never edit a shipped
 * migration: append a new one.
 */
export type Db = Database.Database;

const MIGRATIONS: readonly string[] = [
  // 1: images, layers, containers
  `
  CREATE TABLE images (
    id          TEXT PRIMARY KEY,          -- sha256:<hex of config JSON>
    config      TEXT NOT NULL,             -- the image config JSON exactly as stored in the blob
    manifest    TEXT,                      -- digest of the manifest it came with, if any
    layers      TEXT NOT NULL,             -- JSON array of layer chain IDs, base first
    size        INTEGER NOT NULL,          -- sum of uncompressed layer sizes
    created_at  TEXT NOT NULL,             -- when berth stored it (Metadata.LastTagTime source)
    state       TEXT NOT NULL DEFAULT 'complete' -- 'pending' while an import/load runs; recovery drops it
  );
  CREATE TABLE image_refs (
    ref       TEXT PRIMARY KEY,            -- normalized "registry/repo:tag" or "registry/repo@sha256:..."
    image_id  TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    kind      TEXT NOT NULL DEFAULT 'tag'   -- 'tag' or 'digest'
  );
  CREATE INDEX image_refs_image ON image_refs(image_id);
  CREATE TABLE layers (
    chain_id   TEXT PRIMARY KEY,           -- sha256 chain ID (OCI image spec)
    diff_id    TEXT NOT NULL,              -- sha256 of the uncompressed tar
    parent     TEXT,                       -- chain ID of the layer below, NULL for the base
    blob       TEXT,                       -- digest of the compressed blob in the content store, if kept
    blob_size  INTEGER,
    media_type TEXT,
    size       INTEGER NOT NULL,           -- bytes unpacked
    state      TEXT NOT NULL DEFAULT 'complete'
  );
  CREATE TABLE containers (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,      -- without the leading slash
    image_id    TEXT NOT NULL,
    image_ref   TEXT NOT NULL,             -- what the user asked for (Config.Image)
    created_at  TEXT NOT NULL,
    config      TEXT NOT NULL,             -- api ContainerConfig JSON, merged with the image config
    host_config TEXT NOT NULL,             -- api HostConfig JSON
    state       TEXT NOT NULL,             -- JSON ContainerState record
    runtime     TEXT NOT NULL,
    restart_count INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL);
  `,
  // 2: networks and the containers attached to them
  `
  CREATE TABLE networks (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    driver      TEXT NOT NULL,             -- 'bridge', 'host' or 'null'
    created_at  TEXT NOT NULL,
    bridge      TEXT,                      -- Linux bridge name (bridge driver)
    subnet      TEXT,
    gateway     TEXT,
    ip_range    TEXT,
    internal    INTEGER NOT NULL DEFAULT 0,
    attachable  INTEGER NOT NULL DEFAULT 0,
    builtin     INTEGER NOT NULL DEFAULT 0, -- bridge, host and none: made by the daemon, never removed
    labels      TEXT NOT NULL DEFAULT '{}',
    options     TEXT NOT NULL DEFAULT '{}',
    ipam        TEXT NOT NULL DEFAULT '{}'  -- IPAM as the client sent it (Driver, Options, Config)
  );
  -- One row per (container, network) attachment, from create or connect until disconnect or rm.
  -- ip, mac, veth and ports are set while the container runs: a non-NULL ip is an IPAM lease.
  CREATE TABLE endpoints (
    container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
    network_id   TEXT NOT NULL REFERENCES networks(id),
    seq          INTEGER NOT NULL,         -- attachment order: the first network is eth0
    endpoint_id  TEXT NOT NULL,
    config       TEXT NOT NULL,            -- EndpointSettings as requested (IPAMConfig, Aliases, Links, MacAddress)
    ip           TEXT,
    mac          TEXT,
    if_name      TEXT,
    host_veth    TEXT,
    ports        TEXT,                     -- JSON PortRange[] published through this endpoint
    PRIMARY KEY (container_id, network_id)
  );
  CREATE INDEX endpoints_network ON endpoints(network_id);
  `,
  // 3: volumes (driver 'local') and the mount points of each container
  `
  CREATE TABLE volumes (
    name        TEXT PRIMARY KEY,
    driver      TEXT NOT NULL DEFAULT 'local',
    created_at  TEXT NOT NULL,
    labels      TEXT NOT NULL DEFAULT '{}',
    options     TEXT NOT NULL DEFAULT '{}',  -- the local driver's -o options (type, device, o)
    anonymous   INTEGER NOT NULL DEFAULT 0,  -- made for a container (-v /path, image VOLUME); rm -v and prune take it
    populated   INTEGER NOT NULL DEFAULT 0   -- an image's content was copied in (copy-up happens once)
  );
  -- One row per mount point of a container, from create until rm; volume is NULL for bind and tmpfs.
  CREATE TABLE container_mounts (
    container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
    destination  TEXT NOT NULL,
    volume       TEXT REFERENCES volumes(name),
    spec         TEXT NOT NULL,             -- JSON MountRecord (engine/volumes/record.ts)
    PRIMARY KEY (container_id, destination)
  );
  CREATE INDEX container_mounts_volume ON container_mounts(volume);
  `,
  // 4: registries. The compressed form of each layer as pulled or pushed (kept in the blob store
  // so push sends it as is and a re-pull after an interruption reuses it), and the repositories
  // each blob is known to exist in (push skips or cross-mounts it there).
  `
  CREATE TABLE layer_blobs (
    digest     TEXT PRIMARY KEY,   -- the compressed blob
    diff_id    TEXT NOT NULL,      -- the uncompressed layer tar it expands to
    media_type TEXT NOT NULL,
    size       INTEGER NOT NULL
  );
  CREATE INDEX layer_blobs_diff_id ON layer_blobs(diff_id);
  CREATE TABLE blob_sources (
    digest     TEXT NOT NULL,
    domain     TEXT NOT NULL,      -- "docker.io", "127.0.0.1:5000"
    repository TEXT NOT NULL,      -- "library/busybox"
    PRIMARY KEY (digest, domain, repository)
  );
  `,
  // 5: the legacy builder's cache. Each build step's key (parent image + resolved instruction +
  // source checksums) maps to the untagged image it produced; build_parents lets `images` hide
  // intermediate images (untagged parents of another image), as dockerd does.
  `
  CREATE TABLE build_cache (
    key        TEXT PRIMARY KEY,
    image_id   TEXT NOT NULL,
    parent_id  TEXT,
    created_at TEXT NOT NULL
  );
  CREATE INDEX build_cache_image ON build_cache(image_id);
  CREATE INDEX build_cache_parent ON build_cache(parent_id);
  `,
  // 6: dual-stack bridge networks. A network's IPv6 pool (set only with EnableIPv6) and each
  // running endpoint's IPv6 lease.
  `
  ALTER TABLE networks ADD COLUMN enable_ipv6 INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE networks ADD COLUMN subnet6 TEXT;
  ALTER TABLE networks ADD COLUMN gateway6 TEXT;
  ALTER TABLE networks ADD COLUMN ip_range6 TEXT;
  ALTER TABLE endpoints ADD COLUMN ip6 TEXT;
  `,
  // 7: the images builds handed back as their result. Other untagged images a build made (steps,
  // intermediate stages, the steps of a failed build) are its cache: \`images\` hides them.
  `
  CREATE TABLE build_results (image_id TEXT PRIMARY KEY);
  `,
];

/** Opens (creating if needed) the database at path and brings its schema up to date. */
export function openDb(path: string): Db {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

export function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

export const schemaVersion = (): number => MIGRATIONS.length;
