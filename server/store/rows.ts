/**
 * Reads of GPT-Load's tables: keyset paging (WHERE id > last ORDER BY id, never OFFSET, so a page costs the
 * same at row 1 and at row 1,000,000), with row types normalised across engines (bigint strings → numbers,
 * datetimes → ISO 8601 strings, NULL text → '').
 */
import type { SqlRunner, Store } from './connect';

export interface KeyRow {
  id: number;
  key_value: string;
  key_hash: string;
  group_id: number;
  status: string;
  notes: string;
  request_count: number;
  failure_count: number;
  last_used_at: string | null;
  created_at: string | null;
}

export interface LogKeyRow {
  id: string;
  key_value: string;
  key_hash: string;
}

export interface GroupSummary {
  id: number;
  name: string;
  display_name: string;
  channel_type: string;
  group_type: string;
  active: number;
  invalid: number;
}

export interface KeyFilter {
  groupId?: number;
  status?: string;
  keyHash?: string;
}

const KEY_COLUMNS = 'id, key_value, key_hash, group_id, status, notes, request_count, failure_count, last_used_at, created_at';

const NAIVE_TIME = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?\s*(Z|[+-]\d{2}(?::?\d{2})?)?(?:\s+[A-Z]{2,5})?$/;

/**
 * ISO 8601 from whatever the engine returns: pg gives Date (timestamptz); SQLite gives GORM's text
 * ("2006-01-02 15:04:05.999999999-07:00"); MySQL gives the DATETIME as written (dateStrings). A value
 * without a zone is UTC (go-sql-driver's default `loc`), except on MySQL with another `loc` (e.g. Local):
 * then it is GPT-Load's wall-clock time and is returned without a zone suffix.
 */
export function isoTime(value: unknown, store: Pick<Store, 'target'>): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  const text = String(value);
  const m = NAIVE_TIME.exec(text);
  if (!m) return text;
  const millis = (m[3] ?? '').padEnd(3, '0').slice(0, 3);
  const local = `${m[1]}T${m[2]}.${millis}`;
  let zone = m[4];
  if (zone === undefined) {
    const loc = store.target.kind === 'mysql' ? store.target.params.loc : undefined;
    if (loc !== undefined && loc !== 'UTC') return local;
    zone = 'Z';
  }
  // UTC as GORM writes it (every SQLite row): already the ISO form, no Date needed.
  if (zone === 'Z' || zone === '+00:00') return `${local}Z`;
  if (/^[+-]\d{2}$/.test(zone)) zone += ':00';
  else if (/^[+-]\d{4}$/.test(zone)) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const date = new Date(local + zone);
  return Number.isNaN(date.getTime()) ? text : date.toISOString();
}

function num(value: unknown): number {
  return value === null || value === undefined ? 0 : Number(value);
}

function str(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

function toKeyRow(raw: Record<string, unknown>, store: Store): KeyRow {
  return {
    id: num(raw.id),
    key_value: str(raw.key_value),
    key_hash: str(raw.key_hash),
    group_id: num(raw.group_id),
    status: str(raw.status),
    notes: str(raw.notes),
    request_count: num(raw.request_count),
    failure_count: num(raw.failure_count),
    last_used_at: isoTime(raw.last_used_at, store),
    created_at: isoTime(raw.created_at, store),
  };
}

const mysqlIndexes = new WeakMap<Store, Promise<Set<string>>>();

/**
 * MySQL/MariaDB answer `group_id = ? AND id > ? ORDER BY id` with `ref` access on idx_api_keys_group_id
 * and filter `id > ?` row by row (index condition pushdown): every page re-reads the group from its
 * start, 360,000 index entries for a page deep in a 400,000-key group. Forcing the index turns it into
 * a range scan on (group_id, id) (InnoDB appends the primary key) that reads one page. The same holds
 * for idx_api_keys_status. Hinted only when the index exists, so an older schema still works.
 */
async function mysqlIndexHint(store: Store, filter: KeyFilter): Promise<string> {
  if (store.kind !== 'mysql' || filter.keyHash !== undefined) return '';
  const wanted = filter.groupId !== undefined ? 'idx_api_keys_group_id' : filter.status !== undefined ? 'idx_api_keys_status' : undefined;
  if (wanted === undefined) return '';
  let known = mysqlIndexes.get(store);
  if (!known) {
    known = store
      .query(`SELECT DISTINCT INDEX_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'api_keys'`)
      .then((rows) => new Set(rows.map((r) => str(r.name))));
    known.catch(() => mysqlIndexes.delete(store));
    mysqlIndexes.set(store, known);
  }
  return (await known).has(wanted) ? ` FORCE INDEX (${store.q(wanted)})` : '';
}

/**
 * One page after `afterId` in id order, reading about one page of index entries on every engine:
 * SQLite appends the rowid to idx_api_keys_group_id (group_id, id); MySQL is steered to the same
 * (see mysqlIndexHint); PostgreSQL walks api_keys_pkey filtering by group, or sorts a small group.
 */
async function keyPage(store: Store, filter: KeyFilter, afterId: number, limit: number): Promise<KeyRow[]> {
  const where = [`id > ${store.p(1)}`];
  const params: unknown[] = [afterId];
  const add = (column: string, value: unknown) => {
    params.push(value);
    where.push(`${column} = ${store.p(params.length)}`);
  };
  if (filter.groupId !== undefined) add('group_id', filter.groupId);
  if (filter.status !== undefined) add('status', filter.status);
  if (filter.keyHash !== undefined) add('key_hash', filter.keyHash);
  params.push(limit);
  const hint = await mysqlIndexHint(store, filter);
  const rows = await store.query(
    `SELECT ${KEY_COLUMNS} FROM api_keys${hint} WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${store.p(params.length)}`,
    params,
  );
  return rows.map((raw) => toKeyRow(raw, store));
}

function positive(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${what} must be a positive integer`);
  return n;
}

/** Every api_keys row after `afterId` (matching the filters), in id order, `batchSize` rows at a time. */
export async function* iterateKeyRows(
  store: Store,
  options: { batchSize: number; afterId?: number; groupId?: number; status?: string },
): AsyncGenerator<KeyRow[]> {
  const batchSize = positive(options.batchSize, 'batchSize');
  let after = options.afterId ?? 0;
  for (;;) {
    const rows = await keyPage(store, options, after, batchSize);
    if (rows.length === 0) return;
    yield rows;
    if (rows.length < batchSize) return;
    after = rows[rows.length - 1].id;
  }
}

/**
 * Every request_logs row's key columns after `afterId`, `batchSize` at a time. The id is varchar(36):
 * the keyset runs in the database's own string order (its collation), which `>` and ORDER BY share, so
 * every row comes exactly once; never compare these ids in JavaScript. NULL key columns read as ''.
 */
export async function* iterateLogRows(store: Store, options: { batchSize: number; afterId?: string }): AsyncGenerator<LogKeyRow[]> {
  const batchSize = positive(options.batchSize, 'batchSize');
  let after = options.afterId ?? '';
  for (;;) {
    const raw = await store.query(
      `SELECT id, key_value, key_hash FROM request_logs WHERE id > ${store.p(1)} ORDER BY id LIMIT ${store.p(2)}`,
      [after, batchSize],
    );
    if (raw.length === 0) return;
    const rows = raw.map((r) => ({ id: str(r.id), key_value: str(r.key_value), key_hash: str(r.key_hash) }));
    yield rows;
    if (rows.length < batchSize) return;
    after = rows[rows.length - 1].id;
  }
}

/** One page of keys for a UI: `nextAfterId` is the id to pass as `afterId` for the next page, null at the end. */
export async function listKeys(
  store: Store,
  options: KeyFilter & { limit: number; afterId?: number },
): Promise<{ rows: KeyRow[]; nextAfterId: number | null }> {
  const limit = positive(options.limit, 'limit');
  const rows = await keyPage(store, options, options.afterId ?? 0, limit + 1);
  if (rows.length <= limit) return { rows, nextAfterId: null };
  rows.length = limit;
  return { rows, nextAfterId: rows[limit - 1].id };
}

/** Groups in GPT-Load's order (sort, then id) with active / invalid key counts from one GROUP BY. */
export async function listGroups(store: Store): Promise<GroupSummary[]> {
  const rows = await store.query(
    `SELECT g.id, g.name, g.display_name, g.channel_type, g.group_type,
            COALESCE(c.active, 0) AS active, COALESCE(c.invalid, 0) AS invalid
       FROM ${store.q('groups')} g
       LEFT JOIN (SELECT group_id,
                         SUM(CASE WHEN status = 'active' THEN 1 ELSE 0 END) AS active,
                         SUM(CASE WHEN status = 'invalid' THEN 1 ELSE 0 END) AS invalid
                    FROM api_keys GROUP BY group_id) c ON c.group_id = g.id
      ORDER BY g.sort, g.id`,
  );
  return rows.map((r) => ({
    id: num(r.id),
    name: str(r.name),
    display_name: str(r.display_name),
    channel_type: str(r.channel_type),
    group_type: str(r.group_type) || 'standard',
    active: num(r.active),
    invalid: num(r.invalid),
  }));
}

/**
 * GPT-Load's dashboard sample, its query as GORM builds it: `LIMIT n` and no ORDER BY. Which rows come
 * back is the engine's choice, as it is for GPT-Load: SQLite scans in rowid order; MySQL (InnoDB) in
 * primary-key order, or in key_hash order when it picks the key_hash index for the range; PostgreSQL
 * in heap order, where rows rewritten by an UPDATE (a migration) move to the end.
 */
export async function sampleHashedKeys(store: Store, n = 20): Promise<{ key_value: string; key_hash: string }[]> {
  const rows = await store.query(
    `SELECT key_value, key_hash FROM api_keys WHERE key_hash IS NOT NULL AND key_hash <> '' LIMIT ${store.p(1)}`,
    [positive(n, 'n')],
  );
  return rows.map((r) => ({ key_value: str(r.key_value), key_hash: str(r.key_hash) }));
}

/** Rows in one of GPT-Load's tables now, on a store, a transaction or a snapshot (`table`: a name of ours, quoted). */
export async function countRows(sql: Pick<SqlRunner, 'q' | 'query'>, table: string): Promise<number> {
  const [row] = await sql.query(`SELECT COUNT(*) AS n FROM ${sql.q(table)}`);
  return num(row?.n);
}

/** A system_settings value (e.g. `proxy_keys`), or null when the setting is absent. */
export async function readSetting(store: Store, key: string): Promise<string | null> {
  const [row] = await store.query(`SELECT setting_value FROM system_settings WHERE setting_key = ${store.p(1)}`, [key]);
  return row === undefined ? null : str(row.setting_value);
}
