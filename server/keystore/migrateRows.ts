/**
 * The two passes of migrate-keys over a table, in keyset batches with the crypto in flight while
 * the database reads the next batch. Phase 1 (read-only) classifies every row and digests the rows
 * to change; phase 2 (inside the one write transaction) re-reads them locked, rewrites them, and
 * proves by the same digest that they are exactly the rows phase 1 judged.
 */
import { createHash, type Hash } from 'node:crypto';
import { KeystoreError, throwIfCancelled, type Cancellation, type Localized } from '../core/errors';
import type { SqlRunner, Store } from '../store/connect';
import { OrderedResults, type CryptoRunner } from './cryptoPool';
import { isRewritten, ROW_EMPTY, ROW_TARGET, ROW_UNKNOWN, ROW_VERIFY_FAILED } from './migrateCrypto';
import { emptyTableCounts, n, rewritten, tallyStates, type MigrationTable, type TableCounts } from './migratePlan';
import { lockForWrite, readRows, suspendKeyIndexes, updateRows, type KeyedRows, type RowId } from './migrateSql';
import { phaseReporter, type OperationContext } from './operation';

/** How long the write transaction waits for another writer's locks before giving up. */
const LOCK_TIMEOUT_MS = 10_000;

export interface TableScan {
  counts: TableCounts;
  /**
   * SHA-256 over (state, id, key_value, key_hash) of every row to rewrite and every undecryptable row
   * (left as it is with --leave-undecryptable), in id order.
   */
  digest: string;
}

export type Scans = Partial<Record<MigrationTable, TableScan>>;

/** Keyset batches through the crypto runner, a few in flight (OrderedResults), consumed in order. */
async function pipeline<R>(
  runner: SqlRunner,
  table: MigrationTable,
  batchSize: number,
  lock: boolean,
  work: (rows: KeyedRows) => Promise<R>,
  consume: (rows: KeyedRows, result: R) => Promise<void>,
  crypto: CryptoRunner,
  cancellation: Cancellation | undefined,
): Promise<void> {
  const batches = new OrderedResults(crypto);
  let after: RowId | null = null;
  for (;;) {
    await batches.room();
    throwIfCancelled(cancellation);
    const rows = await readRows(runner, table, after, batchSize, lock);
    if (rows.ids.length === 0) break;
    after = rows.ids[rows.ids.length - 1];
    batches.push(work(rows), (result: R) => consume(rows, result));
    if (rows.ids.length < batchSize) break;
  }
  await batches.settle(0);
}

function digestSourceRows(hash: Hash, rows: KeyedRows, states: Uint8Array): void {
  let chunk = '';
  for (let i = 0; i < states.length; i++) {
    const state = states[i];
    if (isRewritten(state) || state === ROW_UNKNOWN) chunk += `${state}\u0000${rows.ids[i]}\u0000${rows.values[i]}\u0000${rows.hashes[i]}\u0001`;
  }
  hash.update(chunk);
}

export async function scanTable(store: Store, table: MigrationTable, crypto: CryptoRunner, batchSize: number, total: number, context: OperationContext): Promise<TableScan> {
  const counts = emptyTableCounts();
  const hash = createHash('sha256');
  const report = phaseReporter(context, `pre-check ${table}`, total);
  await pipeline(
    store,
    table,
    batchSize,
    false,
    (rows) => crypto.classify(rows),
    async (rows, states) => {
      tallyStates(counts, states, rows.ids);
      digestSourceRows(hash, rows, states);
      report(counts.total);
    },
    crypto,
    context.cancellation,
  );
  report(counts.total, true);
  return { counts, digest: hash.digest('hex') };
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
  store: Store,
  crypto: CryptoRunner,
  scans: Scans,
  tables: MigrationTable[],
  batchSize: number,
  context: OperationContext,
  /** Last step inside the transaction, after every row is verified (transactional DDL only: not on MySQL). */
  beforeCommit?: (tx: SqlRunner) => Promise<void>,
): Promise<{ seconds: number }> {
  const start = Date.now();
  let commitSent = false;
  try {
    await store.transaction(async (tx) => {
      await lockForWrite(tx, tables, LOCK_TIMEOUT_MS);
      const written = tables.filter((table) => rewritten(scans[table]?.counts ?? emptyTableCounts()) > 0);
      const indexes = await suspendKeyIndexes(tx, written);
      for (const table of written) await writeTable(tx, table, crypto, scans[table]!, batchSize, context);
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

async function writeTable(tx: SqlRunner, table: MigrationTable, crypto: CryptoRunner, expected: TableScan, batchSize: number, context: OperationContext): Promise<void> {
  const hash = createHash('sha256');
  const toWrite = rewritten(expected.counts);
  const report = phaseReporter(context, `write ${table}`, toWrite);
  // Undecryptable rows reach the write only with --leave-undecryptable (decide refuses otherwise); the digest holds them to phase 1's.
  const leaving = expected.counts.unknown > 0;
  let written = 0;
  await pipeline(
    tx,
    table,
    batchSize,
    true,
    (rows) => crypto.migrate(rows),
    async (rows, out) => {
      const update: KeyedRows = { ids: [], values: [], hashes: [] };
      for (let i = 0; i < out.states.length; i++) {
        const state = out.states[i];
        if (isRewritten(state)) {
          update.ids.push(rows.ids[i]);
          update.values.push(out.values[i]);
          update.hashes.push(out.hashes[i]);
        } else if (state === ROW_VERIFY_FAILED) {
          throw new KeystoreError('internal', {
            en: `${table} row ${rows.ids[i]}: the new value did not decrypt back to the key; nothing was changed`,
            zh: `${table} 第 ${rows.ids[i]} 行：新值无法解密回原密钥；未做任何改动`,
          });
        } else if (state !== ROW_TARGET && state !== ROW_EMPTY && !(leaving && state === ROW_UNKNOWN)) {
          throw changedUnderUs(table, { en: `row ${rows.ids[i]} is no longer in the state the pre-check saw`, zh: `第 ${rows.ids[i]} 行已不是预检查时的状态` });
        }
      }
      digestSourceRows(hash, rows, out.states);
      if (update.ids.length > 0) {
        const changed = await updateRows(tx, table, update);
        if (changed !== update.ids.length) {
          throw changedUnderUs(table, { en: `${changed} of ${update.ids.length} rows updated`, zh: `${update.ids.length} 行中只更新了 ${changed} 行` });
        }
      }
      written += update.ids.length;
      report(written);
    },
    crypto,
    context.cancellation,
  );
  report(written, true);
  if (written !== toWrite || hash.digest('hex') !== expected.digest) {
    throw changedUnderUs(table, {
      en: `${n(written)} rows to rewrite now, ${n(toWrite)} at the pre-check, or their contents differ`,
      zh: `现在需改写 ${n(written)} 行，预检查时为 ${n(toWrite)} 行，或其内容不同`,
    });
  }
}
