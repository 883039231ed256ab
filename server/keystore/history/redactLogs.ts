/**
 * redact-logs: masks the upstream keys GPT-Load stored in request_logs.error_message before v1.4.9
 * (transport errors quoted the upstream URL; the Gemini channel puts the key in its query), exactly
 * as GPT-Load v1.4.9 masks them when it writes (core/redact.ts). The pool is every api_keys value
 * the configured ENCRYPTION_KEY opens (plaintext rows included) and each log row's own key.
 * Nothing else changes: only error_message, only where a key occurs. A leftover temp_migration goes.
 *
 * 1. Checks, writing nothing: GPT-Load stopped (or --force); the pool read; a read-only keyset pass
 *    counting the rows and occurrences to mask (all a dry run does).
 * 2. Confirmation and backup (hooks), then one transaction: the same pass again, each changed row
 *    updated; the number of changed rows must equal the count of step 1 before COMMIT, else it
 *    rolls back. SQLite runs with secure_delete and truncates its WAL after, so the old texts do
 *    not linger in free pages or the log.
 */
import { KeyRedactor } from '../../core/redact';
import { codecFor } from '../../core/crypto';
import { KeystoreError, throwIfCancelled, type Localized } from '../../core/errors';
import { openStore, type SqlRunner, type Store } from '../../store/connect';
import type { Deployment } from '../deployment';
import { plaintextsOf } from '../keys';
import { restartHint } from '../migrateEnv';
import { lockForWrite, readRows, truncateSqliteWal } from '../migrateSql';
import { phaseReporter, type OperationContext } from '../operation';
import { checkService, describeService, serviceRunningError, type ServiceCheck } from '../service';
import { describeTempMigration, dropTempMigration, findTempMigration, type TempMigrationLeftover } from './tempMigration';

export interface RedactLogsParams {
  deployment: Deployment;
  /** Count only; write nothing. */
  dryRun?: boolean;
  /** Go on although GPT-Load answers /health or other sessions are connected. */
  force?: boolean;
  /** Rows per keyset batch (default 2000 on SQLite, 5000 on MySQL/PostgreSQL). */
  batchSize?: number;
  /** Connection timeout, ms (default 5000). */
  timeoutMs?: number;
  hooks?: RedactLogsHooks;
}

export interface RedactLogsHooks {
  /** The counts are known and something will be written: false stops the run ('cancelled', nothing written). */
  confirm?(plan: RedactLogsPlan): Promise<boolean>;
  /** Right before the write transaction (the backup); what it returns is reported as `backup`. */
  beforeWrite?(plan: RedactLogsPlan, store: Store): Promise<unknown>;
}

export interface RedactLogsPlan {
  target: string;
  /** Keys of the pool that can be masked (more than 8 bytes), api_keys only. */
  poolKeys: number;
  /** api_keys rows the configured key could not open (their keys cannot be looked for). */
  unopenedKeys: number;
  /** request_logs rows with an error_message. */
  scanned: number;
  /** Rows whose error_message quotes a key, and the occurrences in them. */
  rows: number;
  occurrences: number;
  tempMigration: TempMigrationLeftover | null;
  service: ServiceCheck;
  forced: boolean;
}

export interface RedactLogsResult extends RedactLogsPlan {
  dryRun: boolean;
  /** Rows rewritten (0 in a dry run). */
  rowsChanged: number;
  tempMigrationDropped: boolean;
  backup: unknown;
  durationMs: number;
  /** Rows per second of the write pass. */
  rate: number | null;
  notes: Localized[];
}

const DEFAULT_BATCH: Record<Store['kind'], number> = { sqlite: 2000, mysql: 5000, postgres: 5000 };
const LOCK_TIMEOUT_MS = 10_000;

interface LogBatch {
  ids: Array<number | string>;
  values: string[];
  hashes: string[];
  messages: string[];
}

/** request_logs rows with an error_message after `after`, in id order, on the store or the transaction. */
async function readMessages(runner: SqlRunner, after: string | null, limit: number): Promise<LogBatch> {
  const where = after === null ? '' : ` AND id > ${runner.p(1)}`;
  const raw = await runner.query<{ id: string; key_value: string | null; key_hash: string | null; error_message: string | null }>(
    `SELECT id, key_value, key_hash, error_message FROM request_logs WHERE error_message IS NOT NULL AND error_message <> ''${where} ORDER BY id LIMIT ${Math.floor(limit)}`,
    after === null ? [] : [after],
  );
  return {
    ids: raw.map((r) => r.id),
    values: raw.map((r) => r.key_value ?? ''),
    hashes: raw.map((r) => r.key_hash ?? ''),
    messages: raw.map((r) => r.error_message ?? ''),
  };
}

/** Every key of api_keys the configured key opens, in keyset batches. */
async function readPool(store: Store, redactor: KeyRedactor, codec: ReturnType<typeof codecFor>, batchSize: number, context: OperationContext): Promise<number> {
  let unopened = 0;
  let after: number | string | null = null;
  let done = 0;
  const [{ n }] = await store.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM api_keys');
  const report = phaseReporter(context, 'read api_keys', Number(n));
  for (;;) {
    throwIfCancelled(context.cancellation);
    const rows = await readRows(store, 'api_keys', after, batchSize);
    if (rows.ids.length === 0) break;
    const plains = plaintextsOf(rows.values.map((value, i) => ({ key_value: value, key_hash: rows.hashes[i] })), codec);
    plains.forEach((plain, i) => {
      if (plain !== null) redactor.add(plain);
      else if (rows.values[i] !== '') unopened++;
    });
    done += rows.ids.length;
    report(done);
    after = rows.ids[rows.ids.length - 1];
    if (rows.ids.length < batchSize) break;
  }
  report(done, true);
  return unopened;
}

/**
 * One keyset pass over the rows with an error_message: each redacted with the pool and its own key;
 * `changed` gets the rows whose text changes (awaited before the next batch is read).
 */
async function pass(
  runner: SqlRunner,
  redactor: KeyRedactor,
  codec: ReturnType<typeof codecFor>,
  batchSize: number,
  phase: string,
  total: number,
  context: OperationContext,
  changed: (ids: Array<number | string>, texts: string[], occurrences: number) => Promise<void>,
): Promise<number> {
  let after: string | null = null;
  let scanned = 0;
  const report = phaseReporter(context, phase, total);
  for (;;) {
    throwIfCancelled(context.cancellation);
    const batch = await readMessages(runner, after, batchSize);
    if (batch.ids.length === 0) break;
    const own = plaintextsOf(batch.values.map((value, i) => ({ key_value: value, key_hash: batch.hashes[i] })), codec);
    const ids: Array<number | string> = [];
    const texts: string[] = [];
    let occurrences = 0;
    batch.messages.forEach((message, i) => {
      const { text, masked } = redactor.redact(message, own[i]);
      if (masked === 0) return;
      ids.push(batch.ids[i]);
      texts.push(text);
      occurrences += masked;
    });
    if (ids.length > 0) await changed(ids, texts, occurrences);
    scanned += batch.ids.length;
    report(scanned);
    after = String(batch.ids[batch.ids.length - 1]);
    if (batch.ids.length < batchSize) break;
  }
  report(scanned, true);
  return scanned;
}

function changedUnderUs(what: Localized): KeystoreError {
  return new KeystoreError('refused-by-check', {
    en: `request_logs changed while redacting (${what.en}): is GPT-Load or another tool writing to it? The transaction was rolled back; nothing changed.`,
    zh: `脱敏期间 request_logs 发生了变化（${what.zh}）：是否有 GPT-Load 或其他工具在写入？事务已回滚，未做任何改动。`,
  });
}

export async function redactLogs(params: RedactLogsParams, context: OperationContext = {}): Promise<RedactLogsResult> {
  const started = Date.now();
  const { deployment } = params;
  const codec = codecFor(deployment.encryptionKey);
  const store = await openStore(deployment.target, { timeoutMs: params.timeoutMs ?? 5000 });
  try {
    const batchSize = params.batchSize ?? DEFAULT_BATCH[store.kind];
    const service = await checkService(store, deployment);
    if (service.running && !params.force) throw serviceRunningError(service, restartHint(deployment.envDir).command);
    const notes: Localized[] = [];
    if (service.running) {
      const found = describeService(service);
      notes.push({ en: `--force: went on although ${found.en}`, zh: `--force：尽管${found.zh}，仍继续执行` });
    }

    const redactor = new KeyRedactor();
    const unopenedKeys = await readPool(store, redactor, codec, batchSize, context);
    const [{ n }] = await store.query<{ n: unknown }>(`SELECT COUNT(*) AS n FROM request_logs WHERE error_message IS NOT NULL AND error_message <> ''`);
    const withMessage = Number(n);
    let rows = 0;
    let occurrences = 0;
    const scanned = await pass(store, redactor, codec, batchSize, 'scan request_logs', withMessage, context, async (ids, _texts, found) => {
      rows += ids.length;
      occurrences += found;
    });
    const plan: RedactLogsPlan = {
      target: deployment.targetLabel,
      poolKeys: redactor.size,
      unopenedKeys,
      scanned,
      rows,
      occurrences,
      tempMigration: await findTempMigration(store),
      service,
      forced: service.running,
    };
    if (unopenedKeys > 0) {
      notes.push({
        en: `${unopenedKeys.toLocaleString('en-US')} api_keys rows do not open with the configured ENCRYPTION_KEY: their keys were not looked for (gpt-load-keystore keys list --undecryptable)`,
        zh: `api_keys 中有 ${unopenedKeys.toLocaleString('en-US')} 行无法用当前 ENCRYPTION_KEY 打开：未查找这些密钥（gpt-load-keystore keys list --undecryptable）`,
      });
    }
    const result: RedactLogsResult = { ...plan, dryRun: params.dryRun ?? false, rowsChanged: 0, tempMigrationDropped: false, backup: null, durationMs: 0, rate: null, notes };
    if (params.dryRun || (rows === 0 && !plan.tempMigration)) {
      result.durationMs = Date.now() - started;
      return result;
    }

    if (params.hooks?.confirm && !(await params.hooks.confirm(plan))) {
      throw new KeystoreError('cancelled', { en: 'not confirmed: nothing was written', zh: '未确认：未写入任何内容' });
    }
    throwIfCancelled(context.cancellation);
    if (params.hooks?.beforeWrite) result.backup = (await params.hooks.beforeWrite(plan, store)) ?? null;
    if (!params.force && (await checkService(store, deployment)).running) throw serviceRunningError(service, restartHint(deployment.envDir).command);

    // Overwrite freed pages: the old texts must not stay readable in the file.
    if (store.kind === 'sqlite') await store.query('PRAGMA secure_delete = ON');
    const writeStarted = Date.now();
    try {
      await store.transaction(async (tx) => {
        await lockForWrite(tx, ['request_logs'], LOCK_TIMEOUT_MS);
        let changed = 0;
        await pass(tx, redactor, codec, batchSize, 'redact request_logs', withMessage, context, async (ids, texts) => {
          for (let i = 0; i < ids.length; i++) {
            changed += await tx.execute(`UPDATE request_logs SET error_message = ${tx.p(1)} WHERE id = ${tx.p(2)}`, [texts[i], ids[i]]);
          }
        });
        if (changed !== rows) {
          throw changedUnderUs({ en: `${changed} rows to mask now, ${rows} at the check`, zh: `现在需脱敏 ${changed} 行，检查时为 ${rows} 行` });
        }
        // DDL is transactional on SQLite and PostgreSQL; MySQL would commit here, so it drops after.
        if (plan.tempMigration && tx.kind !== 'mysql') await dropTempMigration(tx);
        throwIfCancelled(context.cancellation);
        result.rowsChanged = changed;
      });
    } catch (err) {
      await truncateSqliteWal(store).catch(() => undefined);
      throw err;
    }
    if (plan.tempMigration && store.kind === 'mysql') await dropTempMigration(store);
    await truncateSqliteWal(store);
    result.tempMigrationDropped = plan.tempMigration !== null;
    if (plan.tempMigration) notes.push({ en: `${describeTempMigration(plan.tempMigration).en}: dropped`, zh: `${describeTempMigration(plan.tempMigration).zh}：已删除` });
    const seconds = (Date.now() - writeStarted) / 1000;
    result.rate = seconds > 0 ? Math.round(scanned / seconds) : null;
    result.durationMs = Date.now() - started;
    return result;
  } finally {
    await store.close();
  }
}
