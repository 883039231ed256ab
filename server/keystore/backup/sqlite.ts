/**
 * SQLite backup files: a copy of GPT-Load's database made with SQLite's online backup API (consistent
 * while GPT-Load writes), carrying its manifest in one table of ours, and read back page by page.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { setImmediate as nextTick } from 'node:timers/promises';
import { KeystoreError } from '../../core/errors';
import { loadBetterSqlite3 } from '../../store/connect';
import { MANIFEST_TABLE, type BackupManifest, type BackupTable, type ColumnInfo } from './format';
import { parseManifest, type ManifestDecodeFailure } from './manifest';
import type { SqlReader } from './tables';

export type SqliteDb = BetterSqlite3.Database;

export function openSqliteFile(path: string, options: { readonly: boolean; busyTimeoutMs?: number }): SqliteDb {
  const Database = loadBetterSqlite3() as typeof BetterSqlite3;
  return new Database(path, { readonly: options.readonly, fileMustExist: true, timeout: options.busyTimeoutMs ?? 5000 });
}

/** A raw connection seen through the reader interface backupTables' schema code takes. */
export function sqliteReader(db: SqliteDb): SqlReader {
  return {
    kind: 'sqlite',
    q: (name) => `"${name.replace(/"/g, '""')}"`,
    p: () => '?',
    query: async <T>(sql: string, params: readonly unknown[] = []) => db.prepare(sql).all(...params) as T[],
  };
}

/**
 * Copies the live database into `dest` (an existing empty file) with the online backup API. Steps of
 * 1024 pages let GPT-Load write in between; when its writes restart the copy, the rest goes in one step.
 */
export async function copyLiveDatabase(livePath: string, dest: string, busyTimeoutMs: number, onPages: (done: number, total: number) => void): Promise<void> {
  const live = openSqliteFile(livePath, { readonly: true, busyTimeoutMs });
  try {
    let lastRemaining = Infinity;
    let lastTotal = 0;
    let oneStep = false;
    await live.backup(dest, {
      progress: ({ totalPages, remainingPages }) => {
        if (remainingPages > lastRemaining) oneStep = true;
        lastRemaining = remainingPages;
        lastTotal = totalPages;
        onPages(totalPages - remainingPages, totalPages);
        return oneStep ? Math.max(totalPages, 1) : 1024;
      },
    });
    // better-sqlite3 reports before each step, never after the last: the copy is whole now.
    onPages(lastTotal, lastTotal);
  } finally {
    live.close();
  }
}

/**
 * Every row of `table`, `batchSize` at a time in id order, each as the values of `select` (SQL
 * expressions over the table's columns). Integers come as BigInt, exactly; the event loop gets a turn
 * between pages.
 */
export async function* sqlitePages(db: SqliteDb, table: BackupTable, select: string[], batchSize: number): AsyncGenerator<unknown[][]> {
  const list = `${select.join(', ')}, "id"`;
  const first = db.prepare(`SELECT ${list} FROM "${table}" ORDER BY "id" LIMIT ?`).raw(true).safeIntegers(true);
  const next = db.prepare(`SELECT ${list} FROM "${table}" WHERE "id" > ? ORDER BY "id" LIMIT ?`).raw(true).safeIntegers(true);
  let after: unknown = undefined;
  for (;;) {
    const rows = (after === undefined ? first.all(batchSize) : next.all(after, batchSize)) as unknown[][];
    if (rows.length === 0) return;
    after = rows[rows.length - 1][select.length];
    yield rows.map((r) => r.slice(0, select.length));
    if (rows.length < batchSize || after === null) return;
    await nextTick();
  }
}

/** The select list whose values are a row's canonical checksum input: SQLite's quote() of each column. */
export function quotedColumns(columns: ColumnInfo[]): string[] {
  return columns.map((c) => `quote("${c.name.replace(/"/g, '""')}")`);
}

export function writeManifestTable(db: SqliteDb, manifest: BackupManifest): void {
  db.exec(`DROP TABLE IF EXISTS ${MANIFEST_TABLE}; CREATE TABLE ${MANIFEST_TABLE} (manifest TEXT NOT NULL)`);
  db.prepare(`INSERT INTO ${MANIFEST_TABLE} (manifest) VALUES (?)`).run(JSON.stringify(manifest));
}

export function readManifestTable(db: SqliteDb): { manifest: BackupManifest } | { failure: ManifestDecodeFailure | 'missing' } {
  const exists = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(MANIFEST_TABLE);
  if (!exists) return { failure: 'missing' };
  const rows = db.prepare(`SELECT manifest FROM ${MANIFEST_TABLE}`).all() as { manifest: unknown }[];
  if (rows.length !== 1 || typeof rows[0].manifest !== 'string') return { failure: 'json' };
  return parseManifest(rows[0].manifest);
}

/** `PRAGMA integrity_check` (or the cheaper quick_check): the problems it names, [] when the file is sound. */
export function integrityProblems(db: SqliteDb, quick = false): string[] {
  const rows = db.pragma(quick ? 'quick_check(20)' : 'integrity_check(20)') as Record<string, string>[];
  const lines = rows.map((r) => String(Object.values(r)[0]));
  return lines.length === 1 && lines[0] === 'ok' ? [] : lines;
}

/** A SQLite error opening or reading a backup file means the file is not a sound database. */
export function isSqliteFileError(err: unknown): boolean {
  if (err instanceof KeystoreError) return false;
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && /^SQLITE_(NOTADB|CORRUPT|CANTOPEN|IOERR|FORMAT|RANGE|ERROR)/.test(code);
}
