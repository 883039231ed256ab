/**
 * The two passes of migrate-keys over a table. Phase 1 (read-only for GPT-Load's tables) reads every
 * row in keyset batches, classifies it with the crypto in flight while the database reads on and,
 * for a run that will write, stages each row as read plus the new values of the rows to rewrite (source
 * rows and the leftovers of GPT-Load's history, see isRewritten; each already verified by decrypting
 * it back) in a temporary table of its own connection (migrateSql.ts). Phase 2, the one write
 * transaction, proves the table is exactly as staged (undecryptable rows left in place included) and
 * writes the staged values with set-based UPDATEs: no row is read or encrypted twice.
 */
import { KeystoreError, throwIfCancelled, type Localized } from '../../core/errors';
import type { Session, SqlRunner, Store } from '../../store/connect';
import { OrderedResults, type CryptoRunner } from '../cryptoPool';
import { isRewritten, ROW_VERIFY_FAILED } from './crypto';
import { emptyTableCounts, n, tallyStates, type MigrationTable, type TableCounts } from './plan';
import { applyStaged, compareWithStaged, createStaging, lockForWrite, otherWriters, readRows, stageRows, stagesDigests, suspendKeyIndexes, type RowId } from './sql';
import { phaseReporter, type OperationContext } from '../operation';

/** How long the write transaction waits for another writer's locks before giving up. */
const LOCK_TIMEOUT_MS = 10_000;

/** A staged batch: its last id and how many of its rows get new values. */
interface StagedBatch {
  last: RowId;
  rewritten: number;
}

export interface TableScan {
  counts: TableCounts;
  /** Null in a dry run (nothing staged). */
  staged: StagedBatch[] | null;
  /** otherWriters() before the table was read (SQLite), null elsewhere. */
  writesBefore: number | null;
}

export type Scans = Partial<Record<MigrationTable, TableScan>>;

/**
 * Phase 1 over one table. With `stageOn` (a run that may write), each batch is also migrated by the
 * crypto runner and staged on that session; otherwise only classified.
 */
export async function scanTable(
  store: Store,
  table: MigrationTable,
  crypto: CryptoRunner,
  batchSize: number,
  total: number,
  context: OperationContext,
  stageOn: Session | null,
): Promise<TableScan> {
  const counts = emptyTableCounts();
  const staged: StagedBatch[] | null = stageOn ? [] : null;
  const report = phaseReporter(context, `pre-check ${table}`, total);
  if (stageOn) await createStaging(stageOn, table);
  const writesBefore = await otherWriters(store);
  const batches = new OrderedResults(crypto);
  let after: RowId | null = null;
  for (;;) {
    await batches.room();
    throwIfCancelled(context.cancellation);
    const rows = await readRows(store, table, after, batchSize, { digests: stageOn !== null && stagesDigests(stageOn) });
    if (rows.ids.length === 0) break;
    after = rows.ids[rows.ids.length - 1];
    if (stageOn) {
      batches.push(crypto.migrate(rows), async (out) => {
        let rewritten = 0;
        for (let i = 0; i < out.states.length; i++) {
          if (out.states[i] === ROW_VERIFY_FAILED) {
            throw new KeystoreError('internal', {
              en: `${table} row ${rows.ids[i]}: the new value did not decrypt back to the key; nothing was changed`,
              zh: `${table} 第 ${rows.ids[i]} 行：新值无法解密回原密钥；未做任何改动`,
            });
          }
          if (isRewritten(out.states[i])) rewritten++;
        }
        tallyStates(counts, out.states, rows.ids);
        await stageRows(stageOn, table, rows, out);
        staged!.push({ last: rows.ids[rows.ids.length - 1], rewritten });
        report(counts.total);
      });
    } else {
      batches.push(crypto.classify(rows), (states) => {
        tallyStates(counts, states, rows.ids);
        report(counts.total);
      });
    }
    if (rows.ids.length < batchSize) break;
  }
  await batches.settle(0);
  report(counts.total, true);
  return { counts, staged, writesBefore };
}

function changedUnderUs(table: MigrationTable, what: Localized): KeystoreError {
  return new KeystoreError(
    'refused-by-check',
    {
      en: `${table} changed while migrating (${what.en}): is GPT-Load or another tool writing to it? The transaction was rolled back; nothing changed.`,
      zh: `迁移期间 ${table} 发生了变化（${what.zh}）：是否有 GPT-Load 或其他工具在写入？事务已回滚，未做任何改动。`,
    },
    { table },
  );
}

/** Set once COMMIT has been sent: a failure after it leaves the outcome unknown. */
export class CommitSent extends Error {}

export async function writeAll(
  session: Session,
  scans: Scans,
  tables: MigrationTable[],
  context: OperationContext,
  /** Last step inside the transaction, after every row is verified (transactional DDL only: not on MySQL). */
  beforeCommit?: (tx: SqlRunner) => Promise<void>,
): Promise<{ seconds: number }> {
  const start = Date.now();
  let commitSent = false;
  try {
    await session.transaction(async (tx) => {
      await lockForWrite(tx, tables, LOCK_TIMEOUT_MS);
      const written = tables.filter((table) => scans[table]!.staged!.some((batch) => batch.rewritten > 0));
      for (const table of written) await checkUnchanged(tx, table, scans[table]!);
      const indexes = await suspendKeyIndexes(tx, written);
      for (const table of written) await writeTable(tx, table, scans[table]!, context);
      throwIfCancelled(context.cancellation);
      if (indexes.count > 0) {
        context.progress?.({ phase: 'rebuild indexes', done: 0, total: indexes.count });
        await indexes.rebuild();
        context.progress?.({ phase: 'rebuild indexes', done: indexes.count, total: indexes.count });
        throwIfCancelled(context.cancellation);
      }
      if (beforeCommit) await beforeCommit(tx);
      context.progress?.({ phase: 'commit', done: 0, total: 1 });
      commitSent = true;
    });
  } catch (err) {
    if (commitSent && !(err instanceof KeystoreError && err.code === 'cancelled')) throw Object.assign(new CommitSent(), { cause: err });
    throw err;
  }
  context.progress?.({ phase: 'commit', done: 1, total: 1 });
  return { seconds: (Date.now() - start) / 1000 };
}

/** Under the lock: every row still exactly as the pre-check staged it, none added or removed (applyStaged checks the rows it writes on MySQL and PostgreSQL, see compareWithStaged). */
async function checkUnchanged(tx: SqlRunner, table: MigrationTable, expected: TableScan): Promise<void> {
  // SQLite: no other connection committed since the pre-check began, so not a row can differ.
  if (expected.writesBefore !== null && (await otherWriters(tx)) === expected.writesBefore) return;
  const { rows, checked, unchanged } = await compareWithStaged(tx, table);
  const total = expected.counts.total;
  if (rows !== total || unchanged !== checked) {
    throw changedUnderUs(table, {
      en: `${n(rows)} rows now, ${n(total)} at the pre-check, ${n(checked - unchanged)} of them changed or gone`,
      zh: `现在 ${n(rows)} 行，预检查时 ${n(total)} 行，其中 ${n(checked - unchanged)} 行已改变或消失`,
    });
  }
}

async function writeTable(tx: SqlRunner, table: MigrationTable, expected: TableScan, context: OperationContext): Promise<void> {
  const report = phaseReporter(context, `write ${table}`, expected.staged!.reduce((sum, batch) => sum + batch.rewritten, 0));
  let written = 0;
  let after: RowId | null = null;
  for (const batch of expected.staged!) {
    // A turn of the event loop: better-sqlite3 runs each statement synchronously, and a cancel request
    // (Ctrl-C, the daemon's $/cancelRequest) can only arrive between them.
    await new Promise((resolve) => setImmediate(resolve));
    throwIfCancelled(context.cancellation);
    if (batch.rewritten > 0) {
      const changed = await applyStaged(tx, table, after, batch.last);
      if (changed !== batch.rewritten) {
        throw changedUnderUs(table, { en: `${changed} of ${batch.rewritten} rows as staged`, zh: `${batch.rewritten} 行中只有 ${changed} 行与暂存时相同` });
      }
      written += changed;
      report(written);
    }
    after = batch.last;
  }
  report(written, true);
}
