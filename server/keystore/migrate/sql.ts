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
  /** With readRows' `digests` (MySQL, PostgreSQL): rowDigest of each row as read. */
  digests?: Buffer[];
}

export type RowId = number | string;

/**
 * The SQL of a row's digest: SHA-256 of its key_value and key_hash as stored (NULL as '', the
 * value's length first so that no two pairs read alike), computed by the server, null on SQLite.
 * The pre-check reads it with each row and stages it; the write's check computes it again, so a
 * row differs from what was staged exactly when its digest does (short of a SHA-256 collision).
 * 32 bytes instead of the row's two values halve what staging sends and stores.
 */
function rowDigest(runner: SqlRunner, alias: string): string | null {
  const value = `COALESCE(${alias}.key_value, '')`;
  const hash = `COALESCE(${alias}.key_hash, '')`;
  if (runner.kind === 'mysql') return `UNHEX(SHA2(CONCAT(CHAR_LENGTH(${value}), ':', ${value}, ${hash}), 256))`;
  if (runner.kind === 'postgres') return `sha256(convert_to(length(${value}) || ':' || ${value} || ${hash}, 'UTF8'))`;
  return null;
}

/** Rows after `after` (null: from the start) in id order; with `digests`, each row's rowDigest too (not on SQLite). */
export async function readRows(runner: SqlRunner, table: MigrationTable, after: RowId | null, limit: number, options: { digests?: boolean } = {}): Promise<KeyedRows> {
  const where = after === null ? '' : ` WHERE id > ${runner.p(1)}`;
  const digest = options.digests ? rowDigest(runner, 'r') : null;
  const raw = await runner.query<{ id: RowId; key_value: string | null; key_hash: string | null; d?: Buffer }>(
    `SELECT id, key_value, key_hash${digest ? `, ${digest} AS d` : ''} FROM ${runner.q(table)} r${where} ORDER BY id LIMIT ${Math.floor(limit)}`,
    after === null ? [] : [after],
  );
  const n = raw.length;
  const rows: KeyedRows = { ids: new Array<string | number>(n), values: new Array<string>(n), hashes: new Array<string>(n) };
  if (digest) rows.digests = new Array<Buffer>(n);
  for (let i = 0; i < n; i++) {
    const r = raw[i];
    rows.ids[i] = r.id;
    rows.values[i] = r.key_value ?? '';
    rows.hashes[i] = r.key_hash ?? '';
    // A copy: mysql2's binary values are views of the whole network chunk, which they would keep alive.
    if (rows.digests) rows.digests[i] = Buffer.from(r.d!);
  }
  return rows;
}

/** Whether staging on this engine keeps each row's digest (rowDigest) rather than its two values. */
export function stagesDigests(runner: SqlRunner): boolean {
  return rowDigest(runner, 'r') !== null;
}

// ---------------------------------------------------------------------------------------------
// Staging: the pre-check leaves, in a temporary table of its own connection, every row as it saw it
// (SQLite: kv, kh, its key_value and key_hash, NULL read as ''; elsewhere d, its rowDigest) and, for
// the rows to rewrite, the new values
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
      `CREATE TEMPORARY TABLE ${staged} (PRIMARY KEY (id), d BINARY(32) NULL, nkv LONGTEXT NULL, nkh VARCHAR(255) NULL) ` +
        `SELECT id FROM ${runner.q(table)} LIMIT 0`,
    );
  } else {
    await runner.execute(`CREATE TEMP TABLE ${staged} (id ${numericId ? 'bigint' : 'text'} PRIMARY KEY, d bytea NOT NULL, nkv text, nkh text)`);
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
    // One statement per batch: four array parameters, whatever the row count.
    const idType = table === 'api_keys' ? 'bigint' : 'text';
    const nkv = new Array<string | null>(n);
    const nkh = new Array<string | null>(n);
    for (let i = 0; i < n; i++) {
      nkv[i] = newValue(i);
      nkh[i] = newHash(i);
    }
    await runner.execute(`INSERT INTO ${staged} (id, d, nkv, nkh) SELECT * FROM unnest($1::${idType}[], $2::bytea[], $3::text[], $4::text[])`, [
      rows.ids,
      rows.digests,
      nkv,
      nkh,
    ]);
    return;
  }
  // SQLite: id, kv, kh, nkv, nkh; MySQL: id, d, nkv, nkh.
  const digests = runner.kind === 'mysql';
  const columns = digests ? 4 : 5;
  const maxRows = runner.kind === 'sqlite' ? Math.floor(SQLITE_STAGING_PARAMS / columns) : Math.min(MYSQL_STAGING_ROWS, Math.floor(runner.maxParams / columns));
  const charsOf = (from: number, to: number) => {
    let chars = 0;
    for (let i = from; i < to; i++) chars += next.values[i].length + next.hashes[i].length + 80;
    return chars;
  };
  const row = `(${runner.params(columns)})`;
  let start = 0;
  while (start < n) {
    let end = Math.min(n, start + maxRows);
    while (runner.kind === 'mysql' && end - start > 1 && charsOf(start, end) > MYSQL_STATEMENT_CHARS) end = start + Math.ceil((end - start) / 2);
    const params: unknown[] = new Array((end - start) * columns);
    for (let i = start, k = 0; i < end; i++) {
      params[k++] = rows.ids[i];
      if (digests) {
        params[k++] = rows.digests![i];
      } else {
        params[k++] = rows.values[i];
        params[k++] = rows.hashes[i];
      }
      params[k++] = newValue(i);
      params[k++] = newHash(i);
    }
    await runner.executeBatch(`INSERT INTO ${staged} (id, ${digests ? 'd' : 'kv, kh'}, nkv, nkh) VALUES ${`${row}, `.repeat(end - start - 1)}${row}`, params);
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
 * Inside the write transaction, once the table is locked: its row count, and how many of the staged
 * rows applyStaged does not check itself are exactly as the pre-check staged them (same id,
 * key_value, key_hash). On SQLite that is every staged row; elsewhere applyStaged writes a row only
 * while its rowDigest is the staged one, so only the rows left as they are (no new value) are
 * compared here, by their digest. `checked`: how many staged rows that is. The count equal to the
 * staged count, these all unchanged, and applyStaged writing every row it should prove that nothing
 * was added, removed or changed since. MySQL: the count is a locking read of every row and the gaps
 * between them, which keeps other writers out until COMMIT.
 */
export async function compareWithStaged(tx: SqlRunner, table: MigrationTable): Promise<{ rows: number; checked: number; unchanged: number }> {
  const t = tx.q(table);
  const staged = tx.q(stagingTable(table));
  const digest = rowDigest(tx, 'a');
  // The digest is of bytes; SQLite compares the values bytewise too.
  const same = digest ? `${digest} = s.d AND s.nkh IS NULL` : "COALESCE(a.key_value, '') = s.kv AND COALESCE(a.key_hash, '') = s.kh";
  // MySQL: through the primary key, so the locks fall on the rows themselves (and the gaps between them);
  // the optimizer's choice, a narrow secondary index, locks its entries and then every row as well, 2–5× slower.
  const [all] = await tx.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${t}${tx.kind === 'mysql' ? ' FORCE INDEX (PRIMARY) FOR UPDATE' : ''}`);
  const [checkedRow] = await tx.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${staged}${digest ? ' WHERE nkh IS NULL' : ''}`);
  const checked = Number(checkedRow?.n ?? 0);
  // A plain run rewrites every row: nothing left for the join to compare (it would digest the whole table).
  if (checked === 0) return { rows: Number(all?.n ?? 0), checked, unchanged: 0 };
  const [unchanged] = await tx.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${t} a JOIN ${staged} s ON a.id = s.id AND ${same}`);
  return { rows: Number(all?.n ?? 0), checked, unchanged: Number(unchanged?.n ?? 0) };
}

/**
 * Writes the staged new values of the rows with after < id <= last (after null: from the start);
 * resolves to the rows written. Outside SQLite only rows whose rowDigest is still the staged one (see
 * compareWithStaged): a row changed since the pre-check is not written, and the count shows it.
 */
export function applyStaged(tx: SqlRunner, table: MigrationTable, after: RowId | null, last: RowId): Promise<number> {
  const t = tx.q(table);
  const staged = tx.q(stagingTable(table));
  const range = after === null ? [last] : [after, last];
  const bounds = (column: string) => (after === null ? `${column} <= ${tx.p(1)}` : `${column} > ${tx.p(1)} AND ${column} <= ${tx.p(2)}`);
  const digest = rowDigest(tx, 'a');
  const unchanged = digest ? ` AND ${digest} = s.d` : '';
  if (tx.kind === 'mysql') {
    return tx.execute(
      `UPDATE ${t} a JOIN ${staged} s ON a.id = s.id${unchanged} SET a.key_value = s.nkv, a.key_hash = s.nkh WHERE s.nkh IS NOT NULL AND ${bounds('a.id')}`,
      range,
    );
  }
  const target = tx.kind === 'sqlite' ? t : `${t} AS a`;
  const id = tx.kind === 'sqlite' ? `${t}.id` : 'a.id';
  // PostgreSQL gets the range on both sides: its planner knows nothing of a temporary table's rows and
  // would otherwise hash-join every batch against the whole staging table (40 full scans at 100,000 keys).
  // SQLite looks each row up in the staging table's primary key as it is.
  const stagedRange = tx.kind === 'postgres' ? ` AND ${bounds('s.id')}` : '';
  return tx.execute(
    `UPDATE ${target} SET key_value = s.nkv, key_hash = s.nkh FROM ${staged} s WHERE ${id} = s.id AND s.nkh IS NOT NULL${unchanged} AND ${bounds(id)}${stagedRange}`,
    range,
  );
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
