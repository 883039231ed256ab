/**
 * The SQL side of backups on MySQL and PostgreSQL (and the schema side on all three engines): which of
 * GPT-Load's tables exist with which columns, reading them from one consistent snapshot as exact text,
 * and writing rows back. Values travel as the database's own text of them (PostgreSQL `::text`, MySQL
 * `CAST(… AS CHAR)`) so a restore writes back exactly what was read; a session's time zone and date style
 * are pinned to UTC / ISO on both sides.
 */
import { KeystoreError } from '../../core/errors';
import type { SqlRunner, Store } from '../../store/connect';
import { queryFailure } from '../../store/failures';
import { BACKUP_TABLES, type BackupTable, type ColumnInfo } from './format';

type Row = Record<string, unknown>;
/** What schema and row reads need from a connection: a store, a transaction or a snapshot. */
export type SqlReader = Pick<SqlRunner, 'kind' | 'q' | 'p' | 'query'>;

/** GPT-Load's tables present in the database, with their columns in table order. */
export async function describeTables(sql: SqlReader): Promise<Map<BackupTable, ColumnInfo[]>> {
  const tables = new Map<BackupTable, ColumnInfo[]>();
  const add = (table: string, name: string, type: string) => {
    if (!(BACKUP_TABLES as readonly string[]).includes(table)) return;
    const list = tables.get(table as BackupTable) ?? [];
    list.push({ name, type });
    tables.set(table as BackupTable, list);
  };
  if (sql.kind === 'sqlite') {
    const names = await sql.query<{ name: string }>(
      `SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (${BACKUP_TABLES.map((t) => `'${t}'`).join(', ')})`,
    );
    for (const { name } of names) {
      for (const column of await sql.query<{ name: string; type: string }>(`PRAGMA table_info(${sql.q(name)})`)) add(name, column.name, column.type);
    }
  } else {
    const rows =
      sql.kind === 'mysql'
        ? await sql.query<Row>(
            `SELECT TABLE_NAME AS t, COLUMN_NAME AS c, COLUMN_TYPE AS type FROM information_schema.COLUMNS
              WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION`,
          )
        : await sql.query<Row>(
            `SELECT table_name AS t, column_name AS c, udt_name AS type FROM information_schema.columns
              WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`,
          );
    for (const row of rows) add(String(row.t), String(row.c), String(row.type));
  }
  return new Map(BACKUP_TABLES.filter((t) => tables.has(t)).map((t) => [t, tables.get(t)!]));
}

const MYSQL_BINARY = /blob|binary|^bit\b|^geometry|^point|^linestring|^polygon/i;

function unsupportedColumn(table: string, column: ColumnInfo): KeystoreError {
  return new KeystoreError('not-gpt-load-database', {
    en: `${table}.${column.name} has type ${column.type}, which GPT-Load never creates; backups cannot carry it`,
    zh: `${table}.${column.name} 的类型为 ${column.type}，GPT-Load 不会创建此类列，备份无法包含它`,
  });
}

/** The select-list item that reads a column as exact text. */
function textExpression(sql: SqlReader, table: string, column: ColumnInfo): string {
  const name = sql.q(column.name);
  if (sql.kind === 'postgres') {
    if (column.type === 'bytea') throw unsupportedColumn(table, column);
    return `${name}::text`;
  }
  if (sql.kind === 'mysql') {
    if (MYSQL_BINARY.test(column.type)) throw unsupportedColumn(table, column);
    // Every column through CAST: the driver would otherwise parse JSON (MariaDB marks its JSON text) and dates.
    return `CAST(${name} AS CHAR)`;
  }
  throw new RangeError('textExpression: SQLite backups are copied with the backup API');
}

/** The placeholder for one value written into `column` (PostgreSQL casts the text to the column's type). */
function writePlaceholder(sql: SqlReader, n: number, column: ColumnInfo): string {
  return sql.kind === 'postgres' ? `${sql.p(n)}::${sql.q(column.type)}` : sql.p(n);
}

/** Session settings that make text of dates and times the same on every server. */
async function pinSession(run: (sql: string) => Promise<unknown>, kind: SqlRunner['kind'], local: boolean): Promise<void> {
  if (kind === 'postgres') {
    const scope = local ? 'LOCAL ' : '';
    await run(`SET ${scope}TIME ZONE 'UTC'`);
    await run(`SET ${scope}DateStyle = 'ISO, YMD'`);
    await run(`SET ${scope}IntervalStyle = 'postgres'`);
    await run(`SET ${scope}extra_float_digits = 3`);
  } else if (kind === 'mysql') {
    // Only TIMESTAMP columns depend on it (GORM creates DATETIME); session-wide on our own pool.
    await run(`SET time_zone = '+00:00'`);
  }
}

/** Pins the session inside a write transaction (restore): the same settings the snapshot read under. */
export function pinTransaction(tx: SqlRunner): Promise<void> {
  return pinSession((sql) => tx.execute(sql), tx.kind, true);
}

/**
 * One read-only transaction on one connection that sees a single moment of the database:
 * PostgreSQL `REPEATABLE READ READ ONLY`, MySQL `WITH CONSISTENT SNAPSHOT` (InnoDB).
 */
export interface Snapshot extends SqlReader {
  close(): Promise<void>;
}

export async function openSnapshot(store: Store): Promise<Snapshot> {
  if (store.kind === 'sqlite') throw new RangeError('openSnapshot: SQLite snapshots use the backup API');
  const runner = store.dataSource.createQueryRunner();
  const limits = { busyTimeoutMs: 5000, timeoutMs: 5000 };
  const run = async (sql: string, params: readonly unknown[] = []) => {
    try {
      return ((await runner.query(sql, params as unknown[], true)).records ?? []) as Row[];
    } catch (err) {
      throw queryFailure(err, store.target, limits);
    }
  };
  try {
    if (store.kind === 'postgres') {
      await run('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await pinSession(run, 'postgres', true);
    } else {
      await pinSession(run, 'mysql', false);
      await run('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await run('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    }
  } catch (err) {
    await runner.release().catch(() => undefined);
    throw err;
  }
  return {
    kind: store.kind,
    q: (name) => store.q(name),
    p: (n) => store.p(n),
    query: async <T = Row>(sql: string, params?: readonly unknown[]) => (await run(sql, params)) as T[],
    close: async () => {
      try {
        await runner.query('ROLLBACK').catch(() => undefined);
      } finally {
        await runner.release();
      }
    },
  };
}

/**
 * Rows of one table as exact text, in id order, `batchSize` at a time. MySQL pages by keyset (WHERE id >
 * last ORDER BY id LIMIT n walks the clustered primary key). PostgreSQL reads through one cursor of the
 * snapshot: a keyset page there is planned from table statistics, and a table without fresh ones (just
 * filled, never analyzed) gets a full scan and sort per page.
 */
export async function* readTableText(
  sql: SqlReader,
  table: BackupTable,
  columns: ColumnInfo[],
  batchSize: number,
): AsyncGenerator<(string | null)[][]> {
  const idIndex = columns.findIndex((c) => c.name === 'id');
  if (idIndex < 0) throw new KeystoreError('not-gpt-load-database', { en: `${table} has no id column`, zh: `${table} 没有 id 列` });
  const select = `SELECT ${columns.map((c, i) => `${textExpression(sql, table, c)} AS c${i}`).join(', ')} FROM ${sql.q(table)}`;
  const names = columns.map((_, i) => `c${i}`);
  const toRows = (raw: Row[]) => raw.map((r) => names.map((name) => asText(r[name])));
  if (sql.kind === 'postgres') {
    const cursor = sql.q(`glk_backup_${table}`);
    await sql.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${select} ORDER BY ${sql.q('id')}`);
    for (;;) {
      const raw = await sql.query<Row>(`FETCH FORWARD ${batchSize} FROM ${cursor}`);
      if (raw.length > 0) yield toRows(raw);
      if (raw.length < batchSize) break;
    }
    await sql.query(`CLOSE ${cursor}`);
    return;
  }
  const numericId = !/char|text/i.test(columns[idIndex].type);
  let after: string | null = null;
  for (;;) {
    const params: unknown[] = after === null ? [] : [numericId ? BigInt(after) : after];
    const where: string = after === null ? '' : ` WHERE ${sql.q('id')} > ${sql.p(1)}`;
    const raw: Row[] = await sql.query<Row>(`${select}${where} ORDER BY ${sql.q('id')} LIMIT ${batchSize}`, params);
    if (raw.length === 0) return;
    const rows = toRows(raw);
    yield rows;
    if (raw.length < batchSize) return;
    after = rows[rows.length - 1][idIndex];
    if (after === null) return;
  }
}

function asText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  // A driver that parsed a value (JSON, dates) would change it on the way back: never write such a value.
  throw new KeystoreError('internal', { en: 'a column was not read as text', zh: '某列未以文本形式读取' });
}

/** Rows per INSERT statement for a table of `columns` columns on this connection. */
function insertBatchRows(sql: Pick<SqlRunner, 'maxParams'>, columns: number): number {
  return Math.max(1, Math.min(1000, Math.floor(sql.maxParams / columns)));
}

/** Writes rows (values in `columns` order) with multi-row INSERTs that stay within the engine's parameter limit. */
export async function insertRows(tx: SqlRunner, table: BackupTable, columns: ColumnInfo[], rows: readonly unknown[][]): Promise<void> {
  const per = insertBatchRows(tx, columns.length);
  const names = columns.map((c) => tx.q(c.name)).join(', ');
  for (let start = 0; start < rows.length; start += per) {
    const chunk = rows.slice(start, start + per);
    const tuples = chunk.map((_, r) => `(${columns.map((c, i) => writePlaceholder(tx, r * columns.length + i + 1, c)).join(', ')})`);
    await tx.execute(`INSERT INTO ${tx.q(table)} (${names}) VALUES ${tuples.join(', ')}`, chunk.flat());
  }
}

/** After rows were written with their ids, PostgreSQL's serial sequences must continue after them. */
export async function resetSequence(tx: SqlRunner, table: BackupTable, columns: ColumnInfo[]): Promise<void> {
  const id = columns.find((c) => c.name === 'id');
  if (tx.kind !== 'postgres' || !id || !/^int[248]$/.test(id.type)) return;
  await tx.query(
    `SELECT setval(seq, COALESCE((SELECT MAX(${tx.q('id')}) FROM ${tx.q(table)}), 0) + 1, false)
       FROM (SELECT pg_get_serial_sequence(${tx.p(1)}, 'id') AS seq) s WHERE seq IS NOT NULL`,
    [tx.q(table)],
  );
}
