/**
 * The SQL of migrate-keys: keyset reads of (id, key_value, key_hash) — on the store for the
 * read-only pre-check, on the transaction for the write — and batched updates within the engine's
 * parameter limit. Only key_value and key_hash are ever written.
 */
import type { SqlRunner } from '../store/connect';
import type { MigrationTable } from './migratePlan';

export interface KeyedRows {
  /** As the driver returns them (bigint ids may be strings); passed back unchanged. */
  ids: Array<number | string>;
  values: string[];
  hashes: string[];
}

export type RowId = number | string;

/** Rows after `after` (null: from the start) in id order. `lock`: MySQL `FOR UPDATE` inside the write transaction. */
export async function readRows(runner: SqlRunner, table: MigrationTable, after: RowId | null, limit: number, lock = false): Promise<KeyedRows> {
  const where = after === null ? '' : ` WHERE id > ${runner.p(1)}`;
  const suffix = lock && runner.kind === 'mysql' ? ' FOR UPDATE' : '';
  const raw = await runner.query<{ id: RowId; key_value: string | null; key_hash: string | null }>(
    `SELECT id, key_value, key_hash FROM ${runner.q(table)}${where} ORDER BY id LIMIT ${Math.floor(limit)}${suffix}`,
    after === null ? [] : [after],
  );
  const n = raw.length;
  const rows: KeyedRows = { ids: new Array(n), values: new Array(n), hashes: new Array(n) };
  for (let i = 0; i < n; i++) {
    const r = raw[i];
    rows.ids[i] = r.id;
    rows.values[i] = r.key_value ?? '';
    rows.hashes[i] = r.key_hash ?? '';
  }
  return rows;
}

/**
 * Rows per UPDATE. A CASE list costs each row a scan of the list, so SQLite (no round trip to save)
 * keeps it short — 50 measured fastest, ahead of one prepared UPDATE per row — and MySQL trades
 * that against its round trips.
 */
function rowsPerStatement(runner: SqlRunner): number {
  if (runner.kind === 'postgres') return Math.min(1000, Math.floor(runner.maxParams / 3));
  return Math.min(runner.kind === 'mysql' ? 500 : 50, Math.floor(runner.maxParams / 5));
}

/**
 * Writes new key_value / key_hash for the given ids; resolves to the number of rows the engine
 * reports changed (the caller checks it against the count it asked for).
 */
export async function updateRows(runner: SqlRunner, table: MigrationTable, rows: KeyedRows): Promise<number> {
  const per = rowsPerStatement(runner);
  let changed = 0;
  for (let start = 0; start < rows.ids.length; start += per) {
    const end = Math.min(rows.ids.length, start + per);
    changed += runner.kind === 'postgres' ? await updateFromValues(runner, table, rows, start, end) : await updateWithCase(runner, table, rows, start, end);
  }
  return changed;
}

/** SQLite, MySQL: `UPDATE t SET key_value = CASE id WHEN ? THEN ? … END, key_hash = CASE … END WHERE id IN (…)`. */
function updateWithCase(runner: SqlRunner, table: MigrationTable, rows: KeyedRows, start: number, end: number): Promise<number> {
  const count = end - start;
  const whens = ' WHEN ? THEN ?'.repeat(count);
  const sql =
    `UPDATE ${runner.q(table)} SET key_value = CASE id${whens} END, key_hash = CASE id${whens} END ` +
    `WHERE id IN (${'?, '.repeat(count - 1)}?)`;
  const params: unknown[] = new Array(count * 5);
  for (let i = 0; i < count; i++) {
    const id = rows.ids[start + i];
    params[2 * i] = id;
    params[2 * i + 1] = rows.values[start + i];
    params[2 * count + 2 * i] = id;
    params[2 * count + 2 * i + 1] = rows.hashes[start + i];
    params[4 * count + i] = id;
  }
  return runner.execute(sql, params);
}

/** PostgreSQL: `UPDATE t AS a SET … FROM (VALUES …) AS v(id, kv, kh) WHERE a.id = v.id`. */
function updateFromValues(runner: SqlRunner, table: MigrationTable, rows: KeyedRows, start: number, end: number): Promise<number> {
  const count = end - start;
  const idType = table === 'api_keys' ? 'bigint' : 'text';
  const tuples: string[] = new Array(count);
  const params: unknown[] = new Array(count * 3);
  for (let i = 0; i < count; i++) {
    tuples[i] = `($${3 * i + 1}::${idType}, $${3 * i + 2}::text, $${3 * i + 3}::text)`;
    params[3 * i] = rows.ids[start + i];
    params[3 * i + 1] = rows.values[start + i];
    params[3 * i + 2] = rows.hashes[start + i];
  }
  const sql =
    `UPDATE ${runner.q(table)} AS a SET key_value = v.kv, key_hash = v.kh ` +
    `FROM (VALUES ${tuples.join(', ')}) AS v(id, kv, kh) WHERE a.id = v.id`;
  return runner.execute(sql, params);
}

/**
 * Keeps other writers out of the tables for the rest of the transaction, readers in: PostgreSQL
 * takes SHARE ROW EXCLUSIVE (blocks INSERT/UPDATE/DELETE, not SELECT), waiting at most
 * `lockTimeoutMs`. SQLite's BEGIN IMMEDIATE already holds the only write lock; MySQL locks the rows
 * (and the gaps between them) as the FOR UPDATE reads reach them.
 */
export async function lockForWrite(runner: SqlRunner, tables: MigrationTable[], lockTimeoutMs: number): Promise<void> {
  if (runner.kind === 'postgres') {
    await runner.execute(`SET LOCAL lock_timeout = ${Math.floor(lockTimeoutMs)}`);
    await runner.execute(`LOCK TABLE ${tables.map((t) => runner.q(t)).join(', ')} IN SHARE ROW EXCLUSIVE MODE`);
  } else if (runner.kind === 'mysql') {
    await runner.execute(`SET SESSION innodb_lock_wait_timeout = ${Math.max(1, Math.ceil(lockTimeoutMs / 1000))}`);
  }
}

/**
 * SQLite: drops the indexes over key_hash / key_value inside the write transaction and returns the
 * step that builds them again before COMMIT. Rewriting every key moves each entry of such an index
 * to a random place, row by row; building it afresh is one sort, several times faster on a million
 * keys. DDL is transactional in SQLite: a rollback or a crash brings the index back with the old
 * values, and no reader ever sees the table without it. Other engines: nothing to do (MySQL commits
 * on DDL; PostgreSQL would lock readers out for the whole write).
 */
export async function suspendKeyIndexes(runner: SqlRunner, tables: MigrationTable[]): Promise<{ count: number; rebuild: () => Promise<void> }> {
  const suspended: string[] = [];
  if (runner.kind === 'sqlite') {
    for (const table of tables) {
      // sql IS NULL: the automatic index of a UNIQUE constraint, which cannot be dropped.
      const indexes = await runner.query<{ name: string; sql: string }>(
        `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name`,
        [table],
      );
      for (const index of indexes) {
        const columns = await runner.query<{ name: string | null }>('SELECT name FROM pragma_index_info(?)', [index.name]);
        if (!columns.some((c) => c.name === 'key_hash' || c.name === 'key_value')) continue;
        await runner.execute(`DROP INDEX ${runner.q(index.name)}`);
        suspended.push(index.sql);
      }
    }
  }
  return {
    count: suspended.length,
    // The build sorts in memory up to the page cache's size (the run keeps that small), then in temporary files.
    rebuild: async () => {
      for (const sql of suspended) await runner.execute(sql);
    },
  };
}

/**
 * SQLite in WAL mode keeps the frames of a rolled-back transaction in the -wal file until it is
 * reused; after a rollback (or an interrupted run) they may hold new ciphertexts or plaintext.
 * A TRUNCATE checkpoint empties the file. No-op in rollback-journal mode and on other engines.
 */
export async function truncateSqliteWal(runner: SqlRunner): Promise<void> {
  if (runner.kind !== 'sqlite') return;
  const [mode] = await runner.query<{ journal_mode: string }>('PRAGMA journal_mode');
  if (String(mode?.journal_mode).toLowerCase() === 'wal') await runner.query('PRAGMA wal_checkpoint(TRUNCATE)');
}
