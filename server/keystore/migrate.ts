/**
 * migrate-keys: enable, change or disable the encryption of stored keys (api_keys and, unless
 * skipped, request_logs) so that GPT-Load reads every row afterwards.
 *
 * 1. Checks, writing nothing: GPT-Load stopped (no /health answer, no other database session),
 *    Redis reachable when REDIS_DSN is set, and a read-only pass over every row of both tables
 *    (keyset batches) that classifies each against both keys and digests the rows to change.
 *    Any row in an unexpected state refuses the run with exact counts per table and per state.
 * 2. One transaction per database: rows re-read in keyset batches (locked), decrypted, encrypted,
 *    hashed and verified by decrypting the new value (worker threads), written in batched UPDATEs;
 *    the digest of what was read must equal phase 1's before COMMIT. GPT-Load sees all-old or
 *    all-new; a cancel, error or kill before COMMIT leaves the database untouched.
 * 3. After the commit: .env (--update-env), GPT-Load's stale Redis entries, the journal removed.
 *
 * No side table: the transaction is the journal. A small non-secret file beside .env
 * (journal.ts) records the run so that `status` can explain an interruption and a rerun of the
 * same command finishes it. Keys never appear in errors, logs or the result: fingerprints only.
 */
import { createHash, type Hash } from 'node:crypto';
import { codecFromDerivedKey, deriveKey, keyFingerprint } from '../core/crypto';
import { KeystoreError, throwIfCancelled, type Cancellation, type Localized } from '../core/errors';
import { weakNewKeyWarnings } from '../core/secrets';
import { openStore, type SqlRunner, type Store } from '../store/connect';
import { countRows } from '../store/rows';
import { checkRedis, clearStaleCache, type CacheClearResult } from './cache';
import { createCryptoRunner, type CryptoRunner } from './cryptoPool';
import type { Deployment } from './deployment';
import {
  explainJournal,
  journalOwnerAlive,
  journalPath,
  newJournal,
  readJournal,
  removeJournal,
  removeStaleTempFiles,
  writeJournal,
  type MigrationJournal,
} from './journal';
import { ROW_EMPTY, ROW_SOURCE, ROW_TARGET, ROW_VERIFY_FAILED, type MigrationKeys } from './migrateCrypto';
import { applyEnvChanges, PENDING_KEY_VAR, readFileEncryptionKey, readPendingKey, restartHint, type RestartHint } from './migrateEnv';
import {
  alreadyDoneRefusal,
  decide,
  emptyTableCounts,
  migrationMode,
  n,
  tallyStates,
  type MigrationMode,
  type MigrationTable,
  type PhaseOneCounts,
} from './migratePlan';
import { lockForWrite, readRows, truncateSqliteWal, updateRows, type KeyedRows, type RowId } from './migrateSql';
import { phaseReporter, type OperationContext } from './operation';
import { checkService, describeService, serviceRunningError, type ServiceCheck } from './service';

export interface MigrateKeysParams {
  deployment: Deployment;
  /** The ENCRYPTION_KEY the data is under now; '' = plaintext (GPT-Load's --from omitted). */
  fromKey: string;
  /** The new ENCRYPTION_KEY; '' = disable encryption (GPT-Load's --to omitted). */
  toKey: string;
  /** Write ENCRYPTION_KEY into the .env after the commit (removed when disabling). */
  updateEnv?: boolean;
  /** Go on although GPT-Load answers /health or other sessions are connected. */
  force?: boolean;
  /** Leave request_logs as they are (GPT-Load's own migrate-keys does). */
  skipLogs?: boolean;
  /** Run every check and report what would change; write nothing. */
  dryRun?: boolean;
  /** Delete GPT-Load's stale Redis entries when REDIS_DSN is set (default true). */
  clearCache?: boolean;
  /** HOST[:PORT] replacing REDIS_DSN's host. */
  redisHost?: string;
  /** Connection timeout for the database and Redis, ms (default 5000). */
  timeoutMs?: number;
  /** Crypto worker threads (default one per CPU; 0 = main thread; small tables always use the main thread). */
  threads?: number;
  /** Rows per keyset batch (default 2000). */
  batchSize?: number;
  hooks?: MigrateHooks;
}

export interface MigrateHooks {
  /** Every check passed and something will be written: false stops the run (nothing written, 'cancelled'). */
  confirm?(plan: MigrationPlan): Promise<boolean>;
  /**
   * Right before the first write (the backup step plugs in here). What it returns is reported as
   * `backup` in the result; throwing stops the run with nothing written.
   */
  beforeWrite?(plan: MigrationPlan, store: Store): Promise<unknown>;
}

/** What the checks found and what the run is about to do. */
export interface MigrationPlan {
  mode: MigrationMode;
  /** migrate: every keyed row is in the source state; finish: source and target rows (a partial change); complete: nothing left in the source state. */
  action: 'migrate' | 'finish' | 'complete';
  /** Rows to rewrite, both tables. */
  rows: number;
  /** Rows already under the target key. */
  alreadyDone: number;
  target: string;
  fromFingerprint: string;
  toFingerprint: string;
  tables: PhaseOneCounts;
  service: ServiceCheck;
  /** --force overrode a running-service finding. */
  forced: boolean;
  /** An interrupted earlier run found at start (its journal), if any. */
  interrupted: InterruptedRun | null;
  updateEnv: boolean;
  skipLogs: boolean;
  warnings: Localized[];
}

export interface InterruptedRun {
  journal: MigrationJournal;
  /** Same keys as this run: this run finishes it. */
  sameKeys: boolean;
  explanation: Localized;
}

export type MigrateOutcome =
  /** Rows rewritten. */
  | 'migrated'
  /** A partial change (or one interrupted after its commit) completed. */
  | 'finished'
  /** The database was already under the target key; only .env / cache / cleanup were done. */
  | 'completed'
  /** No keyed rows at all. */
  | 'nothing-to-migrate'
  | 'dry-run';

export interface MigrateKeysResult {
  mode: MigrationMode;
  outcome: MigrateOutcome;
  dryRun: boolean;
  target: string;
  fromFingerprint: string;
  toFingerprint: string;
  /** api_keys / request_logs rows rewritten (or that would be, in a dry run). */
  apiKeys: number;
  requestLogs: number;
  /** Phase 1's exact counts per table and per state. */
  tables: PhaseOneCounts;
  service: ServiceCheck;
  forced: boolean;
  /** Redis entries removed; null when REDIS_DSN is unset, clearing is off, or in a dry run. */
  cacheCleared: number | null;
  cache: CacheClearResult | null;
  envUpdated: boolean;
  env: { path: string; action: 'set' | 'removed' | 'unchanged' | 'not-requested' };
  /** What the beforeWrite hook returned (the backup step); null without one. */
  backup: unknown;
  restart: RestartHint;
  interrupted: InterruptedRun | null;
  /** Milliseconds per phase. */
  phases: Record<string, number>;
  /** Rows per second of the write phase (both tables). */
  rate: number | null;
  durationMs: number;
  warnings: Localized[];
  /** What happened and what to do next, in both languages. */
  notes: Localized[];
}

const DEFAULT_BATCH = 2000;
const LOCK_TIMEOUT_MS = 10_000;
/** SQLite page cache for the run (KiB): rewriting key_hash churns its index. */
const SQLITE_CACHE_KIB = 65_536;

class PhaseClock {
  readonly phases: Record<string, number> = {};
  async time<T>(name: string, work: () => Promise<T>): Promise<T> {
    const start = Date.now();
    try {
      return await work();
    } finally {
      this.phases[name] = (this.phases[name] ?? 0) + Date.now() - start;
    }
  }
}

function tablesOf(skipLogs: boolean): MigrationTable[] {
  return skipLogs ? ['api_keys'] : ['api_keys', 'request_logs'];
}

export async function migrateKeys(params: MigrateKeysParams, context: OperationContext = {}): Promise<MigrateKeysResult> {
  const started = Date.now();
  const { deployment } = params;
  const mode = migrationMode(params.fromKey, params.toKey);
  const skipLogs = params.skipLogs ?? false;
  const updateEnv = params.updateEnv ?? false;
  const timeoutMs = params.timeoutMs ?? 5000;
  const batchSize = params.batchSize ?? DEFAULT_BATCH;
  const clock = new PhaseClock();
  const warnings: Localized[] = params.toKey ? weakNewKeyWarnings(params.toKey) : [];
  const notes: Localized[] = [];

  const keys: MigrationKeys = {
    source: params.fromKey ? deriveKey(params.fromKey) : null,
    target: params.toKey ? deriveKey(params.toKey) : null,
  };
  const fromFingerprint = codecFromDerivedKey(keys.source === null ? null : Buffer.from(keys.source)).fingerprint;
  const toFingerprint = codecFromDerivedKey(keys.target === null ? null : Buffer.from(keys.target)).fingerprint;

  const journal = readJournal(deployment.envDir);
  if (journal && journalOwnerAlive(journal)) {
    throw new KeystoreError('refused-by-check', {
      en: `another migrate-keys run (pid ${journal.pid}, started ${journal.startedAt}) is working on this deployment; wait for it to finish (if pid ${journal.pid} is not such a run, delete ${journalPath(deployment.envDir)})`,
      zh: `另一个 migrate-keys（pid ${journal.pid}，开始于 ${journal.startedAt}）正在处理此部署；请等待其结束（如 pid ${journal.pid} 并非此类进程，请删除 ${journalPath(deployment.envDir)}）`,
    });
  }
  if (!params.dryRun) {
    // Leftovers of a run killed mid-write of a file: temp copies (and an emptied journal folder).
    if (!journal) removeJournal(deployment.envDir);
    const leftovers = removeStaleTempFiles(deployment.envPath);
    if (leftovers > 0) {
      notes.push({
        en: `removed ${leftovers} temporary copy(ies) of ${deployment.envPath} left by an interrupted write (they held its keys)`,
        zh: `已删除中断的写入留下的 ${leftovers} 个 ${deployment.envPath} 临时副本（其中含有密钥）`,
      });
    }
  }
  const restart = restartHint(deployment.envDir);
  const redisDsn = params.clearCache !== false && deployment.redisDsn ? deployment.redisDsn : null;
  const redisOptions = { redisHost: params.redisHost, timeoutMs };

  const store = await openStore(deployment.target, { timeoutMs });
  let crypto: CryptoRunner | null = null;
  try {
    if (store.kind === 'sqlite') {
      await store.query(`PRAGMA cache_size = -${SQLITE_CACHE_KIB}`);
      // Opening the file already rolled back a hot journal; a WAL may still hold rolled-back frames.
      if (journal) await truncateSqliteWal(store);
    }

    // ---- checks (nothing written) ----
    const service = await clock.time('check service', () => checkService(store, deployment));
    if (service.running && !params.force) throw serviceRunningError(service, restart.command);
    const forced = service.running;
    if (forced) {
      const found = describeService(service);
      warnings.push({ en: `--force: went on although ${found.en}`, zh: `--force：尽管${found.zh}，仍继续执行` });
    }
    if (redisDsn) await clock.time('check redis', () => checkRedis(redisDsn, redisOptions));

    const totals: Record<MigrationTable, number> = {
      api_keys: await countRows(store, 'api_keys'),
      request_logs: skipLogs ? 0 : await countRows(store, 'request_logs'),
    };
    crypto = await createCryptoRunner(keys, { rows: 2 * (totals.api_keys + totals.request_logs), threads: params.threads });
    const runner = crypto;
    const scans = await clock.time('pre-check', async () => {
      const out: Scans = {};
      for (const table of tablesOf(skipLogs)) out[table] = await scanTable(store, table, runner, batchSize, totals[table], context);
      return out;
    });
    const counts: PhaseOneCounts = { api_keys: scans.api_keys!.counts, request_logs: scans.request_logs?.counts ?? null };

    const interrupted: InterruptedRun | null = journal
      ? {
          journal,
          sameKeys: journal.from === fromFingerprint && journal.to === toFingerprint,
          explanation: explainJournal(journal, journalDatabaseState(journal, fromFingerprint, toFingerprint, counts), null),
        }
      : null;
    if (interrupted) notes.push(interrupted.explanation);

    const decision = decide(mode, counts);
    if (decision.action === 'refuse') {
      throw new KeystoreError('refused-by-check', withInterruption(decision.reason, interrupted), { mode, ...counts });
    }
    const pendingKey = readPendingKey(deployment.envPath);
    const pendingIsTarget = pendingKey !== null && keyFingerprint(pendingKey) === toFingerprint;
    if (decision.action === 'complete' && decision.alreadyDone > 0 && !(interrupted?.sameKeys || pendingIsTarget)) {
      const envHasTarget = keyFingerprint(readFileEncryptionKey(deployment.envPath)) === toFingerprint;
      throw new KeystoreError('refused-by-check', alreadyDoneRefusal(mode, counts, envHasTarget), { mode, ...counts });
    }
    if (counts.api_keys.empty > 0) {
      warnings.push({
        en: `${n(counts.api_keys.empty)} api_keys rows hold no key at all (empty key_value and key_hash); they are left as they are`,
        zh: `api_keys 中有 ${n(counts.api_keys.empty)} 行没有任何密钥（key_value 与 key_hash 均为空），保持不变`,
      });
    }

    const plan: MigrationPlan = {
      mode,
      action: decision.action,
      rows: decision.action === 'complete' ? 0 : decision.rows,
      alreadyDone: decision.action === 'migrate' ? 0 : decision.alreadyDone,
      target: deployment.targetLabel,
      fromFingerprint,
      toFingerprint,
      tables: counts,
      service,
      forced,
      interrupted,
      updateEnv,
      skipLogs,
      warnings,
    };
    const result: MigrateKeysResult = {
      mode,
      outcome: 'dry-run',
      dryRun: params.dryRun ?? false,
      target: deployment.targetLabel,
      fromFingerprint,
      toFingerprint,
      apiKeys: counts.api_keys.source,
      requestLogs: counts.request_logs?.source ?? 0,
      tables: counts,
      service,
      forced,
      cacheCleared: null,
      cache: null,
      envUpdated: false,
      env: { path: deployment.envPath, action: 'not-requested' },
      backup: null,
      restart,
      interrupted,
      phases: clock.phases,
      rate: null,
      durationMs: 0,
      warnings,
      notes,
    };
    if (params.dryRun) {
      notes.push(dryRunNote(plan, redisDsn !== null));
      result.durationMs = Date.now() - started;
      return result;
    }

    // ---- write ----
    if (plan.rows > 0) {
      if (params.hooks?.confirm && !(await params.hooks.confirm(plan))) {
        throw new KeystoreError('cancelled', { en: 'not confirmed: nothing was written', zh: '未确认：未写入任何内容' });
      }
      throwIfCancelled(context.cancellation);
      if (params.hooks?.beforeWrite) result.backup = (await params.hooks.beforeWrite(plan, store)) ?? null;
      if (!params.force) {
        const again = await checkService(store, deployment);
        if (again.running) throw serviceRunningError(again, restart.command);
      }
      if (journal && plan.action === 'migrate') cleanStaleRun(deployment, journal, pendingKey, toFingerprint, notes);
      const ours = newJournal({ mode, from: fromFingerprint, to: toFingerprint, target: deployment.targetLabel, updateEnv, skipLogs });
      writeJournal(deployment.envDir, ours);
      const parksKey = updateEnv && params.toKey !== '';
      let write: { seconds: number };
      try {
        if (parksKey) applyEnvChanges(deployment.envPath, { [PENDING_KEY_VAR]: params.toKey });
        write = await clock.time('write', () => writeAll(store, runner, scans, tablesOf(skipLogs), batchSize, context));
      } catch (err) {
        await afterFailedWrite(store, deployment, err, parksKey);
        throw err;
      }
      result.rate = write.seconds > 0 ? Math.round(plan.rows / write.seconds) : null;
      writeJournal(deployment.envDir, { ...ours, phase: 'committed', committedAt: new Date().toISOString() });
    }
    await runner.close();
    crypto = null;

    // ---- after the commit: .env, cache, journal ----
    await finishAfterCommit(params, plan, result, clock, redisDsn, redisOptions);
    result.outcome =
      plan.action === 'migrate' ? 'migrated' : plan.action === 'finish' ? 'finished' : plan.alreadyDone > 0 ? 'completed' : 'nothing-to-migrate';
    notes.push(...summaryNotes(plan, result));
    result.durationMs = Date.now() - started;
    return result;
  } finally {
    await crypto?.close();
    await store.close();
  }
}

// ---------------------------------------------------------------------------------------------
// phase 1

interface TableScan {
  counts: ReturnType<typeof emptyTableCounts>;
  /** SHA-256 over (id, key_value, key_hash) of every source-state row, in id order. */
  digest: string;
}

type Scans = Partial<Record<MigrationTable, TableScan>>;

/** Keyset batches through the crypto runner, `depth` batches in flight, consumed in order. */
async function pipeline<R>(
  runner: SqlRunner,
  table: MigrationTable,
  batchSize: number,
  lock: boolean,
  work: (rows: KeyedRows) => Promise<R>,
  consume: (rows: KeyedRows, result: R) => Promise<void>,
  depth: number,
  cancellation: Cancellation | undefined,
): Promise<void> {
  let after: RowId | null = null;
  let exhausted = false;
  const inflight: Array<{ rows: KeyedRows; result: Promise<R> }> = [];
  try {
    for (;;) {
      while (!exhausted && inflight.length < depth) {
        throwIfCancelled(cancellation);
        const rows = await readRows(runner, table, after, batchSize, lock);
        if (rows.ids.length < batchSize) exhausted = true;
        if (rows.ids.length === 0) break;
        after = rows.ids[rows.ids.length - 1];
        const result = work(rows);
        inflight.push({ rows, result });
      }
      const head = inflight.shift();
      if (!head) return;
      await consume(head.rows, await head.result);
    }
  } finally {
    // A failure leaves batches in the workers; their results are no longer wanted.
    for (const pending of inflight) pending.result.catch(() => undefined);
  }
}

function depthFor(crypto: CryptoRunner): number {
  return crypto.threads + 1;
}

function digestSourceRows(hash: Hash, rows: KeyedRows, states: Uint8Array): void {
  let chunk = '';
  for (let i = 0; i < states.length; i++) {
    if (states[i] === ROW_SOURCE) chunk += `${rows.ids[i]}\u0000${rows.values[i]}\u0000${rows.hashes[i]}\u0001`;
  }
  hash.update(chunk);
}

async function scanTable(store: Store, table: MigrationTable, crypto: CryptoRunner, batchSize: number, total: number, context: OperationContext): Promise<TableScan> {
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
    depthFor(crypto),
    context.cancellation,
  );
  report(counts.total, true);
  return { counts, digest: hash.digest('hex') };
}

// ---------------------------------------------------------------------------------------------
// phase 2

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
class CommitSent extends Error {}

async function writeAll(
  store: Store,
  crypto: CryptoRunner,
  scans: Scans,
  tables: MigrationTable[],
  batchSize: number,
  context: OperationContext,
): Promise<{ seconds: number }> {
  const start = Date.now();
  let commitSent = false;
  try {
    await store.transaction(async (tx) => {
      await lockForWrite(tx, tables, LOCK_TIMEOUT_MS);
      for (const table of tables) {
        const expected = scans[table];
        if (!expected || expected.counts.source === 0) continue;
        await writeTable(tx, table, crypto, expected, batchSize, context);
      }
      throwIfCancelled(context.cancellation);
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
  const report = phaseReporter(context, `write ${table}`, expected.counts.source);
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
        if (state === ROW_SOURCE) {
          update.ids.push(rows.ids[i]);
          update.values.push(out.values[i]);
          update.hashes.push(out.hashes[i]);
        } else if (state === ROW_VERIFY_FAILED) {
          throw new KeystoreError('internal', {
            en: `${table} row ${rows.ids[i]}: the new value did not decrypt back to the key; nothing was changed`,
            zh: `${table} 第 ${rows.ids[i]} 行：新值无法解密回原密钥；未做任何改动`,
          });
        } else if (state !== ROW_TARGET && state !== ROW_EMPTY) {
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
    depthFor(crypto),
    context.cancellation,
  );
  report(written, true);
  if (written !== expected.counts.source || hash.digest('hex') !== expected.digest) {
    throw changedUnderUs(table, {
      en: `${n(written)} rows to rewrite now, ${n(expected.counts.source)} at the pre-check, or their contents differ`,
      zh: `现在需改写 ${n(written)} 行，预检查时为 ${n(expected.counts.source)} 行，或其内容不同`,
    });
  }
}

/**
 * The transaction did not commit (rolled back, or never sent COMMIT before the connection was
 * lost, which the server rolls back): the database is all-old, so the journal and the parked key
 * go. If COMMIT was sent, the outcome is unknown: both stay, and a rerun decides from the rows.
 */
async function afterFailedWrite(store: Store, deployment: Deployment, err: unknown, parkedKey: boolean): Promise<void> {
  if (err instanceof CommitSent) {
    const cause = err.cause instanceof KeystoreError ? err.cause.text : { en: 'error', zh: '错误' };
    throw new KeystoreError('connection-refused', {
      en: `the database connection failed while committing (${cause.en}); whether the change was applied is unknown. Rerun the same command: it finishes a committed change or starts over.`,
      zh: `提交时数据库连接失败（${cause.zh}）；无法确定变更是否已生效。请重新运行同一命令：已提交则完成剩余步骤，否则重新开始。`,
    });
  }
  await truncateSqliteWal(store).catch(() => undefined);
  if (parkedKey) applyEnvChanges(deployment.envPath, { [PENDING_KEY_VAR]: null });
  removeJournal(deployment.envDir);
}

// ---------------------------------------------------------------------------------------------
// after the commit

async function finishAfterCommit(
  params: MigrateKeysParams,
  plan: MigrationPlan,
  result: MigrateKeysResult,
  clock: PhaseClock,
  redisDsn: string | null,
  redisOptions: { redisHost?: string; timeoutMs: number },
): Promise<void> {
  const { deployment } = params;
  try {
    if (plan.updateEnv) {
      const changed = await clock.time('update .env', async () =>
        applyEnvChanges(deployment.envPath, { ENCRYPTION_KEY: params.toKey === '' ? null : params.toKey, [PENDING_KEY_VAR]: null }),
      );
      result.envUpdated = changed;
      result.env.action = changed ? (params.toKey === '' ? 'removed' : 'set') : 'unchanged';
    }
    if (redisDsn) {
      result.cache = await clock.time('clear cache', () => clearStaleCache(redisDsn, redisOptions));
      result.cacheCleared = result.cache.removed;
    }
  } catch (err) {
    if (!(err instanceof KeystoreError) || plan.rows === 0) throw err;
    throw new KeystoreError(
      err.code,
      {
        en: `the database is migrated (every row under key ${plan.toFingerprint}), but ${err.text.en} — rerun the same command to finish`,
        zh: `数据库已迁移完成（所有行均使用密钥 ${plan.toFingerprint}），但${err.text.zh} — 请重新运行同一命令以完成`,
      },
      err.details,
    );
  }
  removeJournal(deployment.envDir);
}

// ---------------------------------------------------------------------------------------------
// messages

function journalDatabaseState(journal: MigrationJournal, from: string, to: string, counts: PhaseOneCounts) {
  const keyed = (c: PhaseOneCounts['api_keys']) => c.total - c.empty;
  const all = [counts.api_keys, counts.request_logs].filter((c): c is PhaseOneCounts['api_keys'] => c !== null);
  if (journal.from !== from || journal.to !== to) return 'unknown' as const;
  if (all.every((c) => c.source === keyed(c))) return 'old' as const;
  if (all.every((c) => c.target === keyed(c))) return 'new' as const;
  return 'other' as const;
}

function withInterruption(reason: Localized, interrupted: InterruptedRun | null): Localized {
  if (!interrupted || interrupted.sameKeys) return reason;
  const j = interrupted.journal;
  return {
    en: `${reason.en}\n  Note: an interrupted run (started ${j.startedAt}) was moving this database from key ${j.from} to key ${j.to}; if it committed, the data is under ${j.to}${j.updateEnv ? ` (that key is parked in .env as ${PENDING_KEY_VAR})` : ''}.`,
    zh: `${reason.zh}\n  注意：有一次中断的运行（开始于 ${j.startedAt}）正把此数据库从密钥 ${j.from} 迁移到 ${j.to}；若它已提交，数据使用的是 ${j.to}${j.updateEnv ? `（该密钥暂存在 .env 的 ${PENDING_KEY_VAR} 中）` : ''}。`,
  };
}

/** An interrupted run that never committed (the database is all-old): its journal and parked key go. */
function cleanStaleRun(deployment: Deployment, journal: MigrationJournal, pendingKey: string | null, toFingerprint: string, notes: Localized[]): void {
  removeJournal(deployment.envDir);
  const dropped = pendingKey !== null && keyFingerprint(pendingKey) !== toFingerprint;
  if (dropped) applyEnvChanges(deployment.envPath, { [PENDING_KEY_VAR]: null });
  notes.push({
    en: `cleaned up after the interrupted run of ${journal.startedAt}: it had not committed (the database was untouched)${dropped ? `; its unused parked key ${PENDING_KEY_VAR} was removed from .env` : ''}`,
    zh: `已清理 ${journal.startedAt} 那次中断的运行：它未提交（数据库未被改动）${dropped ? `；其未使用的暂存密钥 ${PENDING_KEY_VAR} 已从 .env 删除` : ''}`,
  });
}

function dryRunNote(plan: MigrationPlan, clearsCache: boolean): Localized {
  const what =
    plan.action === 'complete'
      ? { en: 'no row would change', zh: '不会改动任何行' }
      : {
          en: `${n(plan.rows)} rows would be rewritten (api_keys ${n(plan.tables.api_keys.source)}${plan.tables.request_logs ? `, request_logs ${n(plan.tables.request_logs.source)}` : ''})${plan.alreadyDone ? `; ${n(plan.alreadyDone)} are already under the target key` : ''}`,
          zh: `将改写 ${n(plan.rows)} 行（api_keys ${n(plan.tables.api_keys.source)}${plan.tables.request_logs ? `，request_logs ${n(plan.tables.request_logs.source)}` : ''}）${plan.alreadyDone ? `；${n(plan.alreadyDone)} 行已使用目标密钥` : ''}`,
        };
  const then = [
    plan.updateEnv ? { en: '.env would be updated', zh: '将更新 .env' } : null,
    clearsCache ? { en: "GPT-Load's stale Redis entries would be removed", zh: '将删除 GPT-Load 过期的 Redis 缓存' } : null,
  ].filter((x): x is Localized => x !== null);
  return {
    en: `dry run: every check passed; ${what.en}${then.map((t) => `; ${t.en}`).join('')}. Nothing was written.`,
    zh: `试运行：所有检查均通过；${what.zh}${then.map((t) => `；${t.zh}`).join('')}。未写入任何内容。`,
  };
}

function summaryNotes(plan: MigrationPlan, result: MigrateKeysResult): Localized[] {
  const out: Localized[] = [];
  if (plan.action === 'finish') {
    out.push({
      en: `finished a partial change: ${n(plan.alreadyDone)} rows were already under the target key, ${n(plan.rows)} were rewritten`,
      zh: `已完成一次未完成的变更：${n(plan.alreadyDone)} 行原已使用目标密钥，改写了 ${n(plan.rows)} 行`,
    });
  }
  if (plan.skipLogs) {
    out.push({
      en: 'request_logs were left as they are (--skip-logs): their key_value / key_hash stay under the old key',
      zh: 'request_logs 保持不变（--skip-logs）：其 key_value / key_hash 仍使用旧密钥',
    });
  }
  const restart = result.restart.command;
  const restartText: Localized = restart
    ? { en: `restart GPT-Load: ${restart}`, zh: `重启 GPT-Load：${restart}` }
    : { en: 'restart GPT-Load', zh: '重启 GPT-Load' };
  if (plan.updateEnv) {
    out.push({ en: `.env now has the new setting; ${restartText.en}`, zh: `.env 已是新设置；${restartText.zh}` });
  } else {
    const set: Localized =
      plan.mode === 'disable'
        ? { en: 'remove ENCRYPTION_KEY from .env', zh: '从 .env 删除 ENCRYPTION_KEY' }
        : { en: `set ENCRYPTION_KEY in .env to the new key (fingerprint ${plan.toFingerprint})`, zh: `把 .env 中的 ENCRYPTION_KEY 设为新密钥（指纹 ${plan.toFingerprint}）` };
    out.push({ en: `next: ${set.en} (or rerun with --update-env), then ${restartText.en}`, zh: `下一步：${set.zh}（或加 --update-env 重新运行），然后${restartText.zh}` });
  }
  return out;
}
