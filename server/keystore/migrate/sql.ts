/**
 * The SQL of migrate-keys: keyset reads of (id, key_value, key_hash) for the read-only pre-check, the
 * temporary staging table it fills, and the write from it inside the one transaction. Of GPT-Load's
 * tables, only key_value and key_hash are ever written.
 */
import type { SqlRunner } from '../../store/connect';
import { isRewritten, type MigratedRows } from './crypto';
import type { MigrationTable } from './plan';

export interface KeyedRows {
  /** As the driver returns them (bigint ids may be strings); passed back unchanged. */
  ids: Array<number | string>;
  values: string[];
  hashes: string[];
}

export type RowId = number | string;

/** Rows after `after` (null: from the start) in id order. */
export async function readRows(runner: SqlRunner, table: MigrationTable, after: RowId | null, limit: number): Promise<KeyedRows> {
  const where = after === null ? '' : ` WHERE id > ${runner.p(1)}`;
  const raw = await runner.query<{ id: RowId; key_value: string | null; key_hash: string | null }>(
    `SELECT id, key_value, key_hash FROM ${runner.q(table)}${where} ORDER BY id LIMIT ${Math.floor(limit)}`,
    after === null ? [] : [after],
  );
  const n = raw.length;
  const rows: KeyedRows = { ids: new Array<string | number>(n), values: new Array<string>(n), hashes: new Array<string>(n) };
  for (let i = 0; i < n; i++) {
    const r = raw[i];
    rows.ids[i] = r.id;
    rows.values[i] = r.key_value ?? '';
    rows.hashes[i] = r.key_hash ?? '';
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Staging: the pre-check leaves, in a temporary table of its own connection, every row as it saw it
// (kv, kh: key_value and key_hash, NULL read as '') and, for the rows to rewrite, the new values
// (nkv, nkh; NULL for rows left as they are). A temporary table is invisible to other sessions, is
// never written to GPT-Load's tables and goes with the connection, so a crash leaves nothing of it
// (SQLite unlinks its temporary files as it opens them). The write is then a set-based UPDATE … JOIN
// inside the one transaction.

function stagingTable(table: MigrationTable): string {
  return `glk_staged_${table}`;
}

/** Creates (afresh) the staging table of `table` on this connection. */
export async function createStaging(runner: SqlRunner, table: MigrationTable): Promise<void> {
  const staged = runner.q(stagingTable(table));
  const numericId = table === 'api_keys';
  await dropStaging(runner, table);
  if (runner.kind === 'sqlite') {
    await runner.execute(`CREATE TEMP TABLE ${staged} (id ${numericId ? 'INTEGER' : 'TEXT'} PRIMARY KEY, kv TEXT NOT NULL, kh TEXT NOT NULL, nkv TEXT, nkh TEXT)`);
  } else if (runner.kind === 'mysql') {
    // id copied from the table (type, charset and collation), so the join uses its primary key; CREATE … SELECT
    // wants the other columns nullable.
    await runner.execute(
      `CREATE TEMPORARY TABLE ${staged} (PRIMARY KEY (id), kv LONGTEXT NULL, kh VARCHAR(255) NULL, nkv LONGTEXT NULL, nkh VARCHAR(255) NULL) ` +
        `SELECT id FROM ${runner.q(table)} LIMIT 0`,
    );
  } else {
    await runner.execute(`CREATE TEMP TABLE ${staged} (id ${numericId ? 'bigint' : 'text'} PRIMARY KEY, kv text NOT NULL, kh text NOT NULL, nkv text, nkh text)`);
  }
}

export async function dropStaging(runner: SqlRunner, table: MigrationTable): Promise<void> {
  await runner.execute(`DROP ${runner.kind === 'mysql' ? 'TEMPORARY ' : ''}TABLE IF EXISTS ${runner.q(stagingTable(table))}`);
}

/**
 * MySQL: rows per staging statement, a fixed number so that few distinct prepared statements exist
 * (the driver caches each one, with its parameter metadata); halved while a statement would pass
 * MYSQL_STATEMENT_CHARS, far under max_allowed_packet (4 MiB on old servers), in UTF-16 units.
 */
const MYSQL_STAGING_ROWS = 500;
const MYSQL_STATEMENT_CHARS = 1 << 19;
/**
 * Bound parameters per SQLite statement when staging: the SQLite better-sqlite3 bundles (3.32 and
 * later) takes 32,766. Each statement outside a transaction commits the temporary database on its
 * own, so one statement per batch costs far less than many of 999.
 */
const SQLITE_STAGING_PARAMS = 32_766;

/**
 * Adds a batch to the staging table: every row as read, and `next` (new key_value, key_hash) for the
 * rows to rewrite (isRewritten); the others, undecryptable rows left in place included, stage none.
 */
export async function stageRows(runner: SqlRunner, table: MigrationTable, rows: KeyedRows, next: MigratedRows): Promise<void> {
  const staged = runner.q(stagingTable(table));
  const n = rows.ids.length;
  const newValue = (i: number) => (isRewritten(next.states[i]) ? next.values[i] : null);
  const newHash = (i: number) => (isRewritten(next.states[i]) ? next.hashes[i] : null);
  if (runner.kind === 'postgres') {
    // One statement per batch: five array parameters, whatever the row count.
    const idType = table === 'api_keys' ? 'bigint' : 'text';
    const nkv = new Array<string | null>(n);
    const nkh = new Array<string | null>(n);
    for (let i = 0; i < n; i++) {
      nkv[i] = newValue(i);
      nkh[i] = newHash(i);
    }
    await runner.execute(
      `INSERT INTO ${staged} (id, kv, kh, nkv, nkh) SELECT * FROM unnest($1::${idType}[], $2::text[], $3::text[], $4::text[], $5::text[])`,
      [rows.ids, rows.values, rows.hashes, nkv, nkh],
    );
    return;
  }
  const maxRows = runner.kind === 'sqlite' ? Math.floor(SQLITE_STAGING_PARAMS / 5) : Math.min(MYSQL_STAGING_ROWS, Math.floor(runner.maxParams / 5));
  const charsOf = (from: number, to: number) => {
    let chars = 0;
    for (let i = from; i < to; i++) chars += rows.values[i].length + rows.hashes[i].length + next.values[i].length + next.hashes[i].length + 40;
    return chars;
  };
  let start = 0;
  while (start < n) {
    let end = Math.min(n, start + maxRows);
    while (runner.kind === 'mysql' && end - start > 1 && charsOf(start, end) > MYSQL_STATEMENT_CHARS) end = start + Math.ceil((end - start) / 2);
    const params: unknown[] = new Array((end - start) * 5);
    for (let i = start, k = 0; i < end; i++) {
      params[k++] = rows.ids[i];
      params[k++] = rows.values[i];
      params[k++] = rows.hashes[i];
      params[k++] = newValue(i);
      params[k++] = newHash(i);
    }
    await runner.executeBatch(`INSERT INTO ${staged} (id, kv, kh, nkv, nkh) VALUES ${'(?, ?, ?, ?, ?), '.repeat(end - start - 1)}(?, ?, ?, ?, ?)`, params);
    start = end;
  }
}

/**
 * SQLite's count of commits by other connections to the database file (PRAGMA data_version): the
 * same value before the pre-check and under the write lock proves nobody else wrote in between.
 * null on other engines.
 */
export async function otherWriters(runner: SqlRunner): Promise<number | null> {
  if (runner.kind !== 'sqlite') return null;
  const [row] = await runner.query<{ data_version: number }>('PRAGMA data_version');
  return Number(row?.data_version);
}

/**
 * Inside the write transaction, once the table is locked: its row count, and how many of its rows are
 * exactly as the pre-check staged them (same id, key_value, key_hash). Both equal to the staged count
 * prove that nothing was added, removed or changed since. MySQL: the count is a locking read of every
 * row and the gaps between them, which keeps other writers out until COMMIT.
 */
export async function compareWithStaged(tx: SqlRunner, table: MigrationTable): Promise<{ rows: number; unchanged: number }> {
  const t = tx.q(table);
  const staged = tx.q(stagingTable(table));
  // MySQL compares bytes (its default collations ignore case); SQLite and PostgreSQL already do.
  const exact = (expr: string) => (tx.kind === 'mysql' ? `BINARY ${expr}` : expr);
  const [all] = await tx.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${t}${tx.kind === 'mysql' ? ' FOR UPDATE' : ''}`);
  const [same] = await tx.query<{ n: number | string }>(
    `SELECT COUNT(*) AS n FROM ${t} a JOIN ${staged} s ON a.id = s.id ` +
      `AND ${exact("COALESCE(a.key_value, '')")} = ${exact('s.kv')} AND ${exact("COALESCE(a.key_hash, '')")} = ${exact('s.kh')}`,
  );
  return { rows: Number(all?.n ?? 0), unchanged: Number(same?.n ?? 0) };
}

/** Writes the staged new values of the rows with after < id <= last (after null: from the start); resolves to the rows written. */
export function applyStaged(tx: SqlRunner, table: MigrationTable, after: RowId | null, last: RowId): Promise<number> {
  const t = tx.q(table);
  const staged = tx.q(stagingTable(table));
  const range = after === null ? [last] : [after, last];
  const bounds = (column: string) => (after === null ? `${column} <= ${tx.p(1)}` : `${column} > ${tx.p(1)} AND ${column} <= ${tx.p(2)}`);
  if (tx.kind === 'mysql') {
    return tx.execute(`UPDATE ${t} a JOIN ${staged} s ON a.id = s.id SET a.key_value = s.nkv, a.key_hash = s.nkh WHERE s.nkh IS NOT NULL AND ${bounds('a.id')}`, range);
  }
  const target = tx.kind === 'sqlite' ? t : `${t} AS a`;
  const id = tx.kind === 'sqlite' ? `${t}.id` : 'a.id';
  return tx.execute(`UPDATE ${target} SET key_value = s.nkv, key_hash = s.nkh FROM ${staged} s WHERE ${id} = s.id AND s.nkh IS NOT NULL AND ${bounds(id)}`, range);
}

/**
 * Keeps other writers out of the tables for the rest of the transaction, readers in: PostgreSQL
 * takes SHARE ROW EXCLUSIVE (blocks INSERT/UPDATE/DELETE, not SELECT), waiting at most
 * `lockTimeoutMs`. SQLite's BEGIN IMMEDIATE already holds the only write lock; MySQL locks the rows
 * (and the gaps between them) with the locking read of compareWithStaged.
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
