/**
 * redact-logs: masks the upstream keys GPT-Load stored in request_logs.error_message before v1.4.9
 * (transport errors quoted the upstream URL; the Gemini channel puts the key in its query), exactly
 * as GPT-Load v1.4.9 masks them when it writes (core/redact.ts). The pool is every api_keys value
 * the configured ENCRYPTION_KEY opens (plaintext rows included) and each log row's own key.
 * Nothing else changes: only error_message, only where a key occurs. A leftover temp_migration goes.
 *
 * 1. Checks, writing nothing: GPT-Load stopped (or --force); the pool read; a read-only keyset pass
 *    counting the rows and occurrences to mask (all a dry run does).
 * 2. Confirmation and backup (hooks), then one transaction: the rows step 1 found re-read under
 *    the lock, redacted again and updated; each must still change and their number must equal
 *    step 1's before COMMIT, else it rolls back. SQLite runs with secure_delete and truncates its WAL after, so the old texts do
 *    not linger in free pages or the log.
 */
import { KeyRedactor } from '../../core/redact';
import { codecFor } from '../../core/crypto';
import { KeystoreError, throwIfCancelled, type Localized } from '../../core/errors';
import { openStore, type SqlRunner, type Store } from '../../store/connect';
import { countRows } from '../../store/rows';
import type { Deployment } from '../deployment';
import { plaintextsOf } from '../keys';
import { restartHint } from '../migrate/env';
import { lockForWrite, readRows, truncateSqliteWal } from '../migrate/sql';
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

interface RedactLogsHooks {
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
  /** Rows masked per second in the write transaction. */
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

/**
 * request_logs rows after `after` in keyset order, key and text only where there is an
 * error_message. Over every row rather than filtered: the filter would scan the table anyway (no
 * index on error_message), and this way progress counts the table's rows. SQLite pages by rowid, in
 * the table's own order (request_logs' text primary key is a separate index: following it costs a
 * random lookup per row, five times slower on a million rows); the other engines by id.
 */
async function readMessages(runner: SqlRunner, after: string | number | null, limit: number): Promise<LogBatch & { last: string | number | null; read: number }> {
  const key = runner.kind === 'sqlite' ? 'rowid' : 'id';
  const where = after === null ? '' : ` WHERE ${key} > ${runner.p(1)}`;
  const raw = await runner.query<{ k: string | number; id: string; key_value: string | null; key_hash: string | null; error_message: string | null }>(
    `SELECT ${key} AS k, id, CASE WHEN error_message <> '' THEN key_value END AS key_value, CASE WHEN error_message <> '' THEN key_hash END AS key_hash, ` +
      `CASE WHEN error_message <> '' THEN error_message END AS error_message FROM request_logs${where} ORDER BY ${key} LIMIT ${Math.floor(limit)}`,
    after === null ? [] : [after],
  );
  const batch: LogBatch & { last: string | number | null; read: number } = { ids: [], values: [], hashes: [], messages: [], last: raw.length ? raw[raw.length - 1].k : null, read: raw.length };
  for (const r of raw) {
    if (r.error_message === null) continue;
    batch.ids.push(r.id);
    batch.values.push(r.key_value ?? '');
    batch.hashes.push(r.key_hash ?? '');
    batch.messages.push(r.error_message);
  }
  return batch;
}

/** Every key of api_keys the configured key opens, in keyset batches. */
async function readPool(store: Store, redactor: KeyRedactor, codec: ReturnType<typeof codecFor>, batchSize: number, context: OperationContext): Promise<number> {
  let unopened = 0;
  let after: number | string | null = null;
  let done = 0;
  const report = phaseReporter(context, 'read api_keys', await countRows(store, 'api_keys'));
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

interface Redacted {
  ids: Array<number | string>;
  texts: string[];
  occurrences: number;
}

/** A batch's error messages redacted with the pool and each row's own key: the rows whose text changes. */
function redactBatch(batch: LogBatch, redactor: KeyRedactor, codec: ReturnType<typeof codecFor>): Redacted {
  const own = plaintextsOf(batch.values.map((value, i) => ({ key_value: value, key_hash: batch.hashes[i] })), codec);
  const out: Redacted = { ids: [], texts: [], occurrences: 0 };
  batch.messages.forEach((message, i) => {
    const { text, masked } = redactor.redact(message, own[i]);
    if (masked === 0) return;
    out.ids.push(batch.ids[i]);
    out.texts.push(text);
    out.occurrences += masked;
  });
  return out;
}

/**
 * The read-only pass: every row in keyset batches; returns the rows with an error_message, the ids
 * of those whose text changes (memory grows with them, not with the table) and the occurrences.
 */
async function scan(
  store: Store,
  redactor: KeyRedactor,
  codec: ReturnType<typeof codecFor>,
  batchSize: number,
  total: number,
  context: OperationContext,
): Promise<{ scanned: number; ids: Array<number | string>; occurrences: number }> {
  let after: string | number | null = null;
  let read = 0;
  const found = { scanned: 0, ids: [] as Array<number | string>, occurrences: 0 };
  const report = phaseReporter(context, 'scan request_logs', total);
  for (;;) {
    throwIfCancelled(context.cancellation);
    const batch = await readMessages(store, after, batchSize);
    if (batch.read === 0) break;
    const redacted = redactBatch(batch, redactor, codec);
    for (const id of redacted.ids) found.ids.push(id);
    found.occurrences += redacted.occurrences;
    found.scanned += batch.ids.length;
    read += batch.read;
    report(read);
    after = batch.last;
    if (batch.read < batchSize) break;
  }
  report(read, true);
  return found;
}

/** The rows of `ids`, as readMessages gives them (inside the write transaction). */
async function readByIds(runner: SqlRunner, ids: ReadonlyArray<number | string>): Promise<LogBatch> {
  const raw = await runner.query<{ id: string; key_value: string | null; key_hash: string | null; error_message: string | null }>(
    `SELECT id, key_value, key_hash, error_message FROM request_logs WHERE id IN (${ids.map((_, i) => runner.p(i + 1)).join(', ')}) ORDER BY id`,
    [...ids],
  );
  return {
    ids: raw.map((r) => r.id),
    values: raw.map((r) => r.key_value ?? ''),
    hashes: raw.map((r) => r.key_hash ?? ''),
    messages: raw.map((r) => r.error_message ?? ''),
  };
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
    const logRows = await countRows(store, 'request_logs');
    const found = await scan(store, redactor, codec, batchSize, logRows, context);
    const { scanned, occurrences } = found;
    const rows = found.ids.length;
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
        // Only the rows the scan found, re-read and redacted again under the lock: each must still change.
        let changed = 0;
        const report = phaseReporter(context, 'redact request_logs', rows);
        const chunk = Math.min(500, tx.maxParams);
        for (let start = 0; start < rows; start += chunk) {
          throwIfCancelled(context.cancellation);
          const wanted = found.ids.slice(start, start + chunk);
          const again = redactBatch(await readByIds(tx, wanted), redactor, codec);
          if (again.ids.length !== wanted.length) {
            throw changedUnderUs({ en: `${wanted.length - again.ids.length} rows found by the check no longer quote a key`, zh: `检查时发现的行中有 ${wanted.length - again.ids.length} 行已不再含有密钥` });
          }
          for (let i = 0; i < again.ids.length; i++) {
            changed += await tx.execute(`UPDATE request_logs SET error_message = ${tx.p(1)} WHERE id = ${tx.p(2)}`, [again.texts[i], again.ids[i]]);
          }
          report(changed);
        }
        report(changed, true);
        if (changed !== rows) {
          throw changedUnderUs({ en: `${changed} rows masked now, ${rows} at the check`, zh: `现在脱敏 ${changed} 行，检查时为 ${rows} 行` });
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
    result.rate = seconds > 0 ? Math.round(rows / seconds) : null;
    result.durationMs = Date.now() - started;
    return result;
  } finally {
    await store.close();
  }
}
