import type { Db } from './db.ts';

/**
 * The intent journal: a multi-step operation writes what it is about to do before its first side
 * effect and clears it after its last, so that start-up recovery knows what a `kill -9` cut short
 * and can finish or undo it (DESIGN "State and crash safety"). Rows live in the `kv` table under
 * `intent/<kind>/<id>`; each write is one SQLite statement, durable once it returns (WAL).
 *
 * Kinds name the operation ("network-create", "container-start", ...); `id` the object. Recording
 * the same kind and id again replaces the earlier entry. The data must be plain JSON.
 */
export class IntentLog {
  constructor(private readonly db: Db) {}

  record(kind: string, id: string, data: unknown = {}): void {
    this.db.prepare('INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)').run(key(kind, id), JSON.stringify(data));
  }

  clear(kind: string, id: string): void {
    this.db.prepare('DELETE FROM kv WHERE k = ?').run(key(kind, id));
  }

  get<T>(kind: string, id: string): T | undefined {
    const row = this.db.prepare('SELECT v FROM kv WHERE k = ?').get(key(kind, id)) as { v: string } | undefined;
    return row ? JSON.parse(row.v) as T : undefined;
  }

  /** Every open intent of one kind, oldest key order. */
  list<T>(kind: string): { id: string; data: T }[] {
    const prefix = key(kind, '');
    const rows = this.db.prepare('SELECT k, v FROM kv WHERE k >= ? AND k < ? ORDER BY k').all(prefix, `${prefix}\uffff`) as { k: string; v: string }[];
    return rows.map((r) => ({ id: r.k.slice(prefix.length), data: JSON.parse(r.v) as T }));
  }
}

const key = (kind: string, id: string) => `intent/${kind}/${id}`;
