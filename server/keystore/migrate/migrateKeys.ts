/**
 * migrate-keys: enable, change or disable the encryption of stored keys (api_keys and, unless
 * skipped, request_logs) so that GPT-Load reads every row afterwards.
 *
 * 1. Checks, writing nothing to GPT-Load's tables: GPT-Load stopped (no /health answer, no other
 *    database session), Redis reachable when REDIS_DSN is set, and a read-only pass over every row
 *    of both tables (keyset batches) that classifies each against both keys. Any row in an
 *    unexpected state refuses the run with exact counts per table and per state. A run that may
 *    write also encrypts, hashes and verifies (by decrypting it back) the new value of every row to
 *    rewrite in that pass (worker threads) and stages it, with each row as read, in a temporary table
 *    of its own connection (invisible to others, gone with the connection).
 * 2. One transaction per database: the tables locked, every row proved to be exactly as staged (none
 *    changed, added or removed), the staged values written with set-based UPDATE … JOINs. GPT-Load
 *    sees all-old or all-new; a cancel, error or kill before COMMIT leaves the database untouched.
 * 3. After the commit: .env (--update-env), GPT-Load's stale Redis entries, the journal removed.
 *
 * No side table in GPT-Load's database: the transaction is the journal. A small non-secret file beside .env
 * (journal.ts) records the run so that `status` can explain an interruption and a rerun of the
 * same command finishes it. Keys never appear in errors, logs or the result: fingerprints only.
 *
 * Here: the run's steps. migratePlan.ts decides from the counts, migrateRows.ts does the two
 * passes (SQL and staging in migrateSql.ts, crypto in migrateCrypto.ts via cryptoPool.ts), migrateEnv.ts the
 * .env, migrateNotes.ts the texts.
 */
import { codecFromDerivedKey, deriveKeyAsync, keyFingerprint } from '../../core/crypto';
import { KeystoreError, throwIfCancelled, type Localized } from '../../core/errors';
import { assessSecret, type SecretWarning } from '../../core/secrets';
import { assertComposeDelivers, checkComposeDatabase } from '../composeCheck';
import { openStore, type Session, type Store } from '../../store/connect';
import { countRows } from '../../store/rows';
import { checkRedis, clearStaleCache } from '../cache';
import { createCryptoRunner, type CryptoRunner } from '../cryptoPool';
import type { Deployment } from '../deployment';
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
} from '../journal';
import type { MigrationKeys } from './crypto';
import { applyEnvChanges, PENDING_KEY_VAR, readFileEncryptionKey, readPendingKey, restartHint, type RestartHint } from './env';
import { currentKeyWarnings, dryRunNote, envKeyHint, journalDatabaseState, summaryNotes, withInterruption } from './notes';
import { alreadyDoneRefusal, decide, leftovers, migrationMode, n, rewritten, type MigrationMode, type MigrationTable, type PhaseOneCounts } from './plan';
import { CommitSent, scanTable, writeAll, type Scans } from './rows';
import { dropStaging, truncateSqliteWal } from './sql';
import type { OperationContext } from '../operation';
import { checkService, describeService, serviceRunningError, type ServiceCheck } from '../service';
import { dropTempMigration, findTempMigration } from '../history/tempMigration';
import type { InterruptedRun, MigrateKeysParams, MigrateKeysResult, MigrationPlan } from './types';

/**
 * Rows per keyset batch: a round trip to a server is worth more rows than SQLite's in-process read.
 * 2,500 on the servers (was 5,000): a batch's rows, new values and statements are the run's memory,
 * and with the next batch read ahead a run of 1M keys on PostgreSQL peaked at 325 MiB with 5,000.
 */
const DEFAULT_BATCH: Record<Store['kind'], number> = { sqlite: 2000, mysql: 2500, postgres: 2500 };
/**
 * SQLite page cache for the run (KiB). The write goes through the table in id order with the
 * key_hash indexes dropped (suspendKeyIndexes), so a large cache buys nothing: 16 MiB ran as fast
 * as 64 at 1M keys, with a peak 60 MiB lower.
 */
const SQLITE_CACHE_KIB = 16_384;

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

/** The derived keys of a run and their fingerprints. */
interface RunKeys {
  keys: MigrationKeys;
  fromFingerprint: string;
  toFingerprint: string;
}

/** One run's fixed facts: the keys (derived once), their fingerprints, what was found beside .env. */
interface Run extends RunBase, RunKeys {}

/** What is known before the keys are derived. */
interface RunBase {
  params: MigrateKeysParams;
  deployment: Deployment;
  mode: MigrationMode;
  journal: MigrationJournal | null;
  redisDsn: string | null;
  redisOptions: { redisHost?: string; timeoutMs: number };
  timeoutMs: number;
  clock: PhaseClock;
  warnings: Localized[];
  keyWarnings: Localized[];
  notes: Localized[];
}

export async function migrateKeys(params: MigrateKeysParams, context: OperationContext = {}): Promise<MigrateKeysResult> {
  const started = Date.now();
  const base = prepare(params);
  // PBKDF2 runs twice 100,000 rounds: both in the thread pool while the database connects and is checked.
  const derived = deriveRunKeys(params);
  derived.catch(() => undefined);
  const store = await openStore(base.deployment.target, { timeoutMs: base.timeoutMs });
  let crypto: Promise<CryptoRunner> | null = null;
  try {
    if (store.kind === 'sqlite') {
      await store.query(`PRAGMA cache_size = -${SQLITE_CACHE_KIB}`);
      // Opening the file already rolled back a hot journal; a WAL may still hold rolled-back frames.
      if (base.journal) await truncateSqliteWal(store);
    }
    const skipLogs = params.skipLogs ?? false;
    const totals: Record<MigrationTable, number> = {
      api_keys: await countRows(store, 'api_keys'),
      request_logs: skipLogs ? 0 : await countRows(store, 'request_logs'),
    };
    // The crypto workers boot while the service checks run and the keys derive.
    crypto = createCryptoRunner(
      derived.then((d) => d.keys),
      { rows: totals.api_keys + totals.request_logs, threads: params.threads, engine: store.kind },
    );
    crypto.catch(() => undefined);
    const ready = await preflight(base, store, envNamesTarget(base));
    const run: Run = { ...base, ...(await derived) };
    // Only a run that may write stages new values: not a dry run, nor one GPT-Load still blocks
    // (it goes on only to find a rerun with nothing to do).
    const stages = !params.dryRun && ready.blocked === null;
    // One connection holds the staging tables from the pre-check to the write (and drops them after).
    const { plan, result } = await store.session(async (session) => {
      try {
        const { plan, result, scans } = await precheck(run, store, await crypto!, ready, totals, context, stages ? session : null);
        if (ready.blocked && !plan.upToDate) throw ready.blocked;
        if (!params.dryRun && !plan.upToDate) {
          if (plan.rows > 0) {
            await confirmAndBackUp(run, store, plan, result, context);
            await write(run, store, session, plan, scans, result, context);
          } else if (plan.tempMigration) {
            // Nothing else to write: the garbage table goes on its own.
            await dropTempMigration(store);
          }
        }
        return { plan, result };
      } finally {
        if (stages) for (const table of tablesOf(skipLogs)) await dropStaging(session, table).catch(() => undefined);
      }
    });
    if (plan.upToDate && !params.dryRun) {
      result.outcome = 'nothing-to-do';
      if (params.updateEnv) result.env.action = 'unchanged';
      run.notes.push({
        en: `nothing to do: every stored key is already under key ${plan.toFingerprint} and ${run.deployment.envPath} already says so`,
        zh: `无需任何操作：所有已存储的密钥都已使用密钥 ${plan.toFingerprint}，且 ${run.deployment.envPath} 也已是该设置`,
      });
    } else if (params.dryRun) {
      if (plan.interrupted) run.notes.push(plan.interrupted.explanation);
      run.notes.push(dryRunNote(plan, run.redisDsn !== null));
    } else {
      await finishAfterCommit(run, plan, result);
      result.outcome =
        plan.action === 'migrate' ? 'migrated' : plan.action === 'finish' ? 'finished' : plan.alreadyDone > 0 ? 'completed' : 'nothing-to-migrate';
      if (plan.interrupted?.sameKeys && plan.action !== 'migrate') {
        const j = plan.interrupted.journal;
        run.notes.push({ en: `completed the interrupted run of ${j.startedAt} (last phase: ${j.phase})`, zh: `已完成 ${j.startedAt} 那次中断的运行（最后阶段：${j.phase}）` });
      }
      run.notes.push(...summaryNotes(plan, result));
    }
    result.durationMs = Date.now() - started;
    return result;
  } finally {
    // The pre-check closes it when done; here for a run that stopped before or during it.
    if (crypto) await crypto.then((c) => c.close(), () => undefined);
    await store.close();
  }
}

/** Keys, fingerprints, an earlier run's journal and leftovers; nothing touches the database yet. */
function prepare(params: MigrateKeysParams): RunBase {
  const { deployment } = params;
  const mode = migrationMode(params.fromKey, params.toKey);
  if (params.updateEnv && !deployment.env.exists) {
    throw new KeystoreError(
      'env-missing',
      {
        en: `${deployment.envPath} does not exist, so --update-env has no .env to update (a new one would hold only ENCRYPTION_KEY, and GPT-Load would go on reading its own). Name GPT-Load's .env with --env FILE, or leave out --update-env and set ENCRYPTION_KEY where GPT-Load reads it. Nothing was written.`,
        zh: `${deployment.envPath} 不存在，--update-env 没有可更新的 .env（新建的文件只会有 ENCRYPTION_KEY，而 GPT-Load 仍读取它自己的 .env）。请用 --env FILE 指定 GPT-Load 的 .env，或去掉 --update-env 并在 GPT-Load 读取的位置设置 ENCRYPTION_KEY。未写入任何内容。`,
      },
      { path: deployment.envPath },
    );
  }
  const weak = params.toKey ? assessSecret(params.toKey, 'ENCRYPTION_KEY') : [];
  if (weak.length > 0 && !params.allowWeakKey) throw weakKeyError(weak);
  if (params.updateEnv) assertComposeDelivers(deployment, { ENCRYPTION_KEY: params.toKey === '' ? null : params.toKey });
  const databaseWarning = checkComposeDatabase(deployment, deployment.target);
  const journal = readJournal(deployment.envDir);
  if (journal && journalOwnerAlive(journal)) {
    throw new KeystoreError('refused-by-check', {
      en: `another migrate-keys run (pid ${journal.pid}, started ${journal.startedAt}) is working on this deployment; wait for it to finish (if pid ${journal.pid} is not such a run, delete ${journalPath(deployment.envDir)})`,
      zh: `另一个 migrate-keys（pid ${journal.pid}，开始于 ${journal.startedAt}）正在处理此部署；请等待其结束（如 pid ${journal.pid} 并非此类进程，请删除 ${journalPath(deployment.envDir)}）`,
    });
  }
  const notes: Localized[] = [];
  if (!params.dryRun) {
    // Leftovers of a run killed while writing a file: temp copies (and an emptied journal folder).
    if (!journal) removeJournal(deployment.envDir);
    const leftovers = removeStaleTempFiles(deployment.envPath);
    if (leftovers > 0) {
      notes.push({
        en: `removed ${leftovers} temporary copy(ies) of ${deployment.envPath} left by an interrupted write (they held its keys)`,
        zh: `已删除中断的写入留下的 ${leftovers} 个 ${deployment.envPath} 临时副本（其中含有密钥）`,
      });
    }
  }
  const timeoutMs = params.timeoutMs ?? 5000;
  return {
    params,
    deployment,
    mode,
    journal,
    redisDsn: params.clearCache !== false && deployment.redisDsn ? deployment.redisDsn : null,
    redisOptions: { redisHost: params.redisHost, timeoutMs },
    timeoutMs,
    clock: new PhaseClock(),
    warnings: databaseWarning ? [databaseWarning] : [],
    keyWarnings: weak.map((w) => w.text),
    notes,
  };
}

/** The dashboard's warnings about a new key nobody confirmed, and the two ways on. */
function weakKeyError(warnings: SecretWarning[]): KeystoreError {
  const list = (lang: 'en' | 'zh') => warnings.map((w) => w.text[lang]).join(lang === 'en' ? '; ' : '；');
  return new KeystoreError(
    'weak-key',
    {
      en: `the new key is one GPT-Load's dashboard would flag: ${list('en')}. Use a strong key (--generate makes one), or confirm it on a terminal, or pass --allow-weak-key. Nothing was written.`,
      zh: `新密钥会被 GPT-Load 仪表盘标记为不安全：${list('zh')}。请使用强密钥（--generate 可生成），或在终端中确认，或加 --allow-weak-key。未写入任何内容。`,
    },
    { warnings: warnings.map((w) => w.code) },
  );
}

/**
 * The `.env` already names the target key (a rerun of a finished change looks like this). Compared
 * as text, which GPT-Load derives its key from: known before (and without) a key derivation.
 */
function envNamesTarget(run: RunBase): boolean {
  return readFileEncryptionKey(run.deployment.envPath) === run.params.toKey;
}

/** Both keys derived at once, off the main thread. */
async function deriveRunKeys(params: MigrateKeysParams): Promise<RunKeys> {
  const derive = (password: string) => (password ? deriveKeyAsync(password) : Promise.resolve(null));
  const [source, target] = await Promise.all([derive(params.fromKey), derive(params.toKey)]);
  const fingerprint = (key: Buffer | null) => codecFromDerivedKey(key).fingerprint;
  return { keys: { source, target }, fromFingerprint: fingerprint(source), toFingerprint: fingerprint(target) };
}

/**
 * GPT-Load stopped (or --force), Redis reachable: checked before reading a single row. When the
 * `.env` already names the target key, a running GPT-Load may be the restart after a finished
 * change: the read-only pass decides (`blocked` is thrown unless nothing is left to do).
 */
async function preflight(run: RunBase, store: Store, mayBeDone: boolean): Promise<{ service: ServiceCheck; restart: RestartHint; blocked: KeystoreError | null }> {
  const { params, deployment, clock } = run;
  const restart = restartHint(deployment.envDir);
  const service = await clock.time('check service', () => checkService(store, deployment));
  if (service.running && !params.force) {
    const blocked = serviceRunningError(service, restart.command);
    if (!mayBeDone) throw blocked;
    return { service, restart, blocked };
  }
  if (service.running) {
    const found = describeService(service);
    run.warnings.push({ en: `--force: went on although ${found.en}`, zh: `--force：尽管${found.zh}，仍继续执行` });
  }
  if (run.redisDsn) await clock.time('check redis', () => checkRedis(run.redisDsn!, run.redisOptions));
  return { service, restart, blocked: null };
}

/** Every row of both tables classified (read-only), then the decision: a plan, or a refusal with exact counts. */
async function precheck(
  run: Run,
  store: Store,
  crypto: CryptoRunner,
  { service, restart, blocked }: { service: ServiceCheck; restart: RestartHint; blocked: KeystoreError | null },
  totals: Record<MigrationTable, number>,
  context: OperationContext,
  stageOn: Session | null,
): Promise<{ plan: MigrationPlan; result: MigrateKeysResult; scans: Scans }> {
  const { params, deployment, mode, clock, warnings } = run;
  const skipLogs = params.skipLogs ?? false;
  const batchSize = params.batchSize ?? DEFAULT_BATCH[store.kind];
  const scans = await clock.time('pre-check', async () => {
    try {
      const out: Scans = {};
      for (const table of tablesOf(skipLogs)) out[table] = await scanTable(store, table, crypto, batchSize, totals[table], context, stageOn);
      return out;
    } finally {
      await crypto.close();
    }
  });
  const counts: PhaseOneCounts = { api_keys: scans.api_keys!.counts, request_logs: scans.request_logs?.counts ?? null };
  const journal = run.journal;
  const interrupted: InterruptedRun | null = journal
    ? {
        journal,
        sameKeys: journal.from === run.fromFingerprint && journal.to === run.toFingerprint,
        explanation: explainJournal(journal, journalDatabaseState(journal, run.fromFingerprint, run.toFingerprint, counts), null),
      }
    : null;

  const decision = decide(mode, counts, params.leaveUndecryptable ?? false);
  if (decision.action === 'refuse') {
    const hint = counts.api_keys.unknown > 0 ? await envKeyHint(store, deployment, run.fromFingerprint, run.toFingerprint) : null;
    const reason = withInterruption(decision.reason, interrupted);
    throw new KeystoreError('refused-by-check', hint ? { en: `${reason.en}\n  ${hint.en}`, zh: `${reason.zh}\n  ${hint.zh}` } : reason, { mode, ...counts });
  }
  const pendingKey = readPendingKey(deployment.envPath);
  const pendingIsTarget = pendingKey !== null && keyFingerprint(pendingKey) === run.toFingerprint;
  const upToDate = decision.action === 'complete' && decision.alreadyDone > 0 && !journal && !pendingIsTarget && envNamesTarget(run);
  if (decision.action === 'complete' && decision.alreadyDone > 0 && !(interrupted?.sameKeys || pendingIsTarget) && !upToDate) {
    throw new KeystoreError('refused-by-check', alreadyDoneRefusal(mode, counts), { mode, ...counts });
  }
  warnings.push(...currentKeyWarnings(params.fromKey, params.toKey, readFileEncryptionKey(deployment.envPath)));
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
    upToDate,
    target: deployment.targetLabel,
    fromFingerprint: run.fromFingerprint,
    toFingerprint: run.toFingerprint,
    tables: counts,
    service,
    forced: service.running && blocked === null,
    interrupted,
    updateEnv: params.updateEnv ?? false,
    skipLogs,
    tempMigration: await findTempMigration(store),
    warnings,
    keyWarnings: run.keyWarnings,
  };
  const result: MigrateKeysResult = {
    mode,
    outcome: 'dry-run',
    dryRun: params.dryRun ?? false,
    target: deployment.targetLabel,
    fromFingerprint: run.fromFingerprint,
    toFingerprint: run.toFingerprint,
    apiKeys: rewritten(counts.api_keys),
    requestLogs: counts.request_logs ? rewritten(counts.request_logs) : 0,
    leftovers: leftovers(counts.api_keys) + (counts.request_logs ? leftovers(counts.request_logs) : 0),
    leftUndecryptable: counts.api_keys.unknown + (counts.request_logs?.unknown ?? 0),
    tempMigration: plan.tempMigration,
    tables: counts,
    service,
    forced: service.running && blocked === null,
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
    keyWarnings: run.keyWarnings,
    notes: run.notes,
  };
  return { plan, result, scans };
}

/** The operator's yes (on a terminal) and the pre-write backup: both before anything is written. */
async function confirmAndBackUp(run: Run, store: Store, plan: MigrationPlan, result: MigrateKeysResult, context: OperationContext): Promise<void> {
  const { hooks } = run.params;
  if (hooks?.confirm && !(await hooks.confirm(plan))) {
    throw new KeystoreError('cancelled', { en: 'not confirmed: nothing was written', zh: '未确认：未写入任何内容' });
  }
  throwIfCancelled(context.cancellation);
  const beforeWrite = hooks?.beforeWrite;
  if (beforeWrite) result.backup = (await run.clock.time('backup', () => beforeWrite(plan, store))) ?? null;
}

/**
 * A last service check, then the journal, the parked key and the one transaction. Any failure
 * before COMMIT leaves the database as it was and cleans up.
 */
async function write(run: Run, store: Store, session: Session, plan: MigrationPlan, scans: Scans, result: MigrateKeysResult, context: OperationContext): Promise<void> {
  const { params, deployment } = run;
  if (!params.force) {
    const again = await checkService(store, deployment);
    if (again.running) throw serviceRunningError(again, result.restart.command);
  }
  if (run.journal && plan.action === 'migrate') cleanStaleRun(run);
  const ours = newJournal({ mode: run.mode, from: run.fromFingerprint, to: run.toFingerprint, target: deployment.targetLabel, updateEnv: plan.updateEnv, skipLogs: plan.skipLogs });
  writeJournal(deployment.envDir, ours);
  const parksKey = plan.updateEnv && params.toKey !== '';
  let seconds: number;
  try {
    if (parksKey) applyEnvChanges(deployment.envPath, { [PENDING_KEY_VAR]: params.toKey });
    // temp_migration goes inside the transaction where DDL is transactional (SQLite, PostgreSQL).
    const dropInside = plan.tempMigration && store.kind !== 'mysql' ? dropTempMigration : undefined;
    ({ seconds } = await run.clock.time('write', () => writeAll(session, scans, tablesOf(plan.skipLogs), context, dropInside)));
  } catch (err) {
    await afterFailedWrite(session, deployment, err, parksKey);
    throw err;
  }
  result.rate = seconds > 0 ? Math.round(plan.rows / seconds) : null;
  writeJournal(deployment.envDir, { ...ours, phase: 'committed', committedAt: new Date().toISOString() });
  // MySQL commits any transaction a DROP TABLE runs in, so there it is a step of its own after the
  // journaled COMMIT: a crash in between leaves the table, which a rerun (or status) finds again.
  if (plan.tempMigration && store.kind === 'mysql') await dropTempMigration(store);
}

/**
 * The transaction did not commit (rolled back, or never sent COMMIT before the connection was
 * lost, which the server rolls back): the database is all-old, so the journal and the parked key
 * go. If COMMIT was sent, the outcome is unknown: both stay, and a rerun decides from the rows.
 */
async function afterFailedWrite(session: Session, deployment: Deployment, err: unknown, parkedKey: boolean): Promise<void> {
  if (err instanceof CommitSent) {
    const cause = err.cause instanceof KeystoreError ? err.cause.text : { en: 'error', zh: '错误' };
    throw new KeystoreError('connection-refused', {
      en: `the database connection failed while committing (${cause.en}); whether the change was applied is unknown. Rerun the same command: it finishes a committed change or starts over.`,
      zh: `提交时数据库连接失败（${cause.zh}）；无法确定变更是否已生效。请重新运行同一命令：已提交则完成剩余步骤，否则重新开始。`,
    });
  }
  await truncateSqliteWal(session).catch(() => undefined);
  if (parkedKey) applyEnvChanges(deployment.envPath, { [PENDING_KEY_VAR]: null });
  removeJournal(deployment.envDir);
}

// ---------------------------------------------------------------------------------------------
// after the commit

async function finishAfterCommit(run: Run, plan: MigrationPlan, result: MigrateKeysResult): Promise<void> {
  const { params, deployment, clock, redisDsn } = run;
  try {
    if (plan.updateEnv) {
      const changed = await clock.time('update .env', async () =>
        applyEnvChanges(deployment.envPath, { ENCRYPTION_KEY: params.toKey === '' ? null : params.toKey, [PENDING_KEY_VAR]: null }),
      );
      result.envUpdated = changed;
      result.env.action = changed ? (params.toKey === '' ? 'removed' : 'set') : 'unchanged';
      const shellKey = shellKeyWarning(run);
      if (shellKey) run.warnings.push(shellKey);
    }
    if (redisDsn) {
      result.cache = await clock.time('clear cache', () => clearStaleCache(redisDsn, run.redisOptions));
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

/**
 * The .env now names the new key, but this process's environment (the shell) exports another
 * ENCRYPTION_KEY: godotenv leaves a set variable alone, so a GPT-Load started from this shell would
 * read that one and fail to decrypt. Fingerprints only.
 */
function shellKeyWarning(run: Run): Localized | null {
  const { deployment, params } = run;
  if (deployment.env.source('ENCRYPTION_KEY') !== 'process' || deployment.encryptionKey === params.toKey) return null;
  const shell = keyFingerprint(deployment.encryptionKey);
  return {
    en: `ENCRYPTION_KEY is also exported in this shell (key ${shell}), and a set variable wins over .env: a GPT-Load started from this shell would read it, not the new key ${run.toFingerprint}. Run \`unset ENCRYPTION_KEY\` (and remove it from the shell's profile) before starting GPT-Load.`,
    zh: `此 shell 中也导出了 ENCRYPTION_KEY（密钥 ${shell}），而已设置的环境变量优先于 .env：从此 shell 启动的 GPT-Load 会读取它，而不是新密钥 ${run.toFingerprint}。启动 GPT-Load 前请执行 \`unset ENCRYPTION_KEY\`（并从 shell 配置文件中删除它）。`,
  };
}

/** An interrupted run that never committed (the database is all-old): its journal and parked key go. */
function cleanStaleRun(run: Run): void {
  const { deployment, journal } = run;
  removeJournal(deployment.envDir);
  const pendingKey = readPendingKey(deployment.envPath);
  const dropped = pendingKey !== null && keyFingerprint(pendingKey) !== run.toFingerprint;
  if (dropped) applyEnvChanges(deployment.envPath, { [PENDING_KEY_VAR]: null });
  run.notes.push({
    en: `cleaned up after the interrupted run of ${journal!.startedAt}: it had not committed (the database was untouched)${dropped ? `; its unused parked key ${PENDING_KEY_VAR} was removed from .env` : ''}`,
    zh: `已清理 ${journal!.startedAt} 那次中断的运行：它未提交（数据库未被改动）${dropped ? `；其未使用的暂存密钥 ${PENDING_KEY_VAR} 已从 .env 删除` : ''}`,
  });
}
