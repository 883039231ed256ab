/**
 * Encryption status: GPT-Load's own dashboard verdict (same sample, same thresholds) and, beyond
 * it, the exact state of every row, which GPT-Load's 20-row sample cannot see.
 */
import { dirname } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { classifyRows, codecFor, codecFromDerivedKey, deriveKeyAsync, keyFingerprint, type KeyCodec } from '../core/crypto';
import { throwIfCancelled, type Localized } from '../core/errors';
import type { Store } from '../store/connect';
import { describeTarget } from '../store/dsn';
import type { DashboardCheck, DashboardVerdict, GroupSummary, KeySource, OverallState, RowCounts, StatusReport as WireStatusReport, StatusSummary } from '../../shared/types';
import { countRows, iterateKeyRows, iterateLogRows, listGroups, sampleHashedKeys } from '../store/rows';
import { explainJournal, readJournal, type JournalDatabaseState, type MigrationJournal } from './journal';
import { readFileEncryptionKey, readPendingKey } from './migrate/env';
import { createKeyRunner, OrderedResults, type CryptoRunner } from './cryptoPool';
import { kindUnderKey, type RowsIn } from './migrate/crypto';
import { describeTempMigration, findTempMigration } from './history/tempMigration';
import { phaseReporter, type OperationContext } from './operation';

// The report's shape is the wire contract (shared/types.ts); the daemon sends it as it is.
export type { DashboardCheck, GroupSummary, OverallState, RowCounts, StatusSummary };

export interface StatusReport extends WireStatusReport {
  /** An interrupted migrate-keys run found beside the .env (only when `envPath` was given). */
  migration?: InterruptedMigration | null;
}

interface InterruptedMigration {
  journal: MigrationJournal;
  /** The database relative to that run: all under its old key, all under its new key, or neither. */
  database: JournalDatabaseState;
  explanation: Localized;
}

const SAMPLE_SIZE = 20;

/** GPT-Load's dashboard rule, on its own 20-row sample. */
export function dashboardVerdict(sample: Array<{ key_value: string; key_hash: string }>, codec: KeyCodec): DashboardCheck {
  const n = sample.length;
  if (n === 0) return { verdict: null, sampled: 0, plaintextShare: 0, decryptShare: 0 };
  const states = classifyRows(sample, codec);
  const u = states.filter((state) => state === 'plaintext').length / n;
  const c = states.filter((state) => state === 'encrypted').length / n;
  let verdict: DashboardVerdict = null;
  if (codec.enabled && u > 0.8) verdict = 'data_not_encrypted';
  else if (!codec.enabled && u < 0.2) verdict = 'key_not_configured';
  else if (codec.enabled && u < 0.2 && c < 0.2) verdict = 'key_mismatch';
  return { verdict, sampled: n, plaintextShare: u, decryptShare: c };
}

function emptyCounts(): RowCounts {
  return { total: 0, plaintext: 0, encrypted: 0, unknown: 0, empty: 0, unknownIds: [], noHash: 0, wrongHash: 0, exampleIds: { plaintext: [], noHash: [], wrongHash: [] } };
}

const EXAMPLE_IDS = 10;

/**
 * The state of the rows of one or more tables (status passes both): `ok` only when every keyed row
 * is encrypted with the configured key and hashed as GPT-Load hashes it. With encryption disabled
 * the best there is, `not-encrypted`, still needs attention, as GPT-Load's dashboard says.
 */
export function overallState(tables: RowCounts | RowCounts[], encryptionEnabled: boolean): OverallState {
  const all = Array.isArray(tables) ? tables : [tables];
  const sum = (pick: (c: RowCounts) => number | undefined) => all.reduce((total, c) => total + (pick(c) ?? 0), 0);
  const rows = sum((c) => c.total) - sum((c) => c.empty);
  if (rows === 0) return 'empty';
  const plaintext = sum((c) => c.plaintext);
  const unknown = sum((c) => c.unknown);
  const noHash = sum((c) => c.noHash);
  if (encryptionEnabled) {
    if (sum((c) => c.encrypted) === rows) return 'ok';
    if (plaintext + noHash === rows) return 'needs-migration';
    if (unknown === rows) return 'wrong-key';
  } else {
    if (plaintext + noHash === rows) return 'not-encrypted';
    if (unknown === rows) return 'key-missing';
  }
  return 'mixed';
}

/** How Docker Compose hands GPT-Load's container its ENCRYPTION_KEY. */
export const CONTAINER_KEY_VIA: Record<NonNullable<KeySource['container']>['via'], Localized> = {
  environment: { en: 'Compose environment:', zh: 'Compose 的 environment:' },
  env_file: { en: 'Compose env_file:', zh: 'Compose 的 env_file:' },
  'mounted-env': { en: 'a .env mounted as /app/.env', zh: '挂载为 /app/.env 的 .env' },
};

/** The command that resolves each finding of a status report (empty when nothing needs attention). */
function attentionItems(report: Omit<WireStatusReport, 'attention'>): Localized[] {
  const out: Localized[] = [];
  const tables = [['api_keys', report.apiKeys], ['request_logs', report.requestLogs]] as const;
  const count = (pick: (c: RowCounts) => number | undefined) => tables.reduce((total, [, c]) => total + (pick(c) ?? 0), 0);
  const where = (pick: (c: RowCounts) => number | undefined) =>
    tables
      .filter(([, c]) => (pick(c) ?? 0) > 0)
      .map(([table, c]) => `${table} ${(pick(c) ?? 0).toLocaleString('en-US')}`)
      .join(', ');
  const plaintext = count((c) => c.plaintext);
  const noHash = count((c) => c.noHash);
  const wrongHash = count((c) => c.wrongHash);
  const unknown = count((c) => c.unknown);
  const encrypted = count((c) => c.encrypted);
  const toConfigured = 'gpt-load-keystore migrate-keys --to-prompt';
  const shown = (fingerprint: string): Localized => (fingerprint === 'plaintext' ? { en: 'empty', zh: '空值' } : { en: `fingerprint ${fingerprint}`, zh: `指纹 ${fingerprint}` });
  const hidden = report.keySource?.hiddenEnvFileKey;
  if (hidden) {
    const shell = shown(report.keyFingerprint);
    const file = shown(hidden.fingerprint);
    out.push({
      en: `ENCRYPTION_KEY in this shell's environment (${shell.en}) differs from the one in .env line ${hidden.line} (${file.en}): a variable set in the environment wins over .env, for GPT-Load started from this shell too, so this report judged the shell's key. If the .env is right, run "unset ENCRYPTION_KEY" and check again; if the shell's key is right, the .env is stale: put that key into it`,
      zh: `当前 shell 环境变量中的 ENCRYPTION_KEY（${shell.zh}）与 .env 第 ${hidden.line} 行的（${file.zh}）不同：环境变量优先于 .env，从此 shell 启动的 GPT-Load 也是如此，因此本报告按 shell 中的密钥判断。若 .env 正确，请运行 "unset ENCRYPTION_KEY" 后重新检查；若 shell 中的密钥正确，则 .env 已过时：请把该密钥写入 .env`,
    });
  }
  const container = report.keySource?.container;
  if (container && container.fingerprint !== report.keyFingerprint) {
    const theirs = shown(container.fingerprint);
    const judged = shown(report.keyFingerprint);
    const via = CONTAINER_KEY_VIA[container.via];
    const from = report.keySource!.from === 'environment' ? { en: ', from the environment', zh: '，来自环境变量' } : report.keySource!.from === 'env-file' ? { en: ', from .env', zh: '，来自 .env' } : { en: '', zh: '' };
    out.push({
      en: `Docker Compose gives GPT-Load's container (service ${container.service}) another ENCRYPTION_KEY (${theirs.en}; ${via.en} at ${container.file}:${container.line}) than the one this report judged (${judged.en}${from.en}): GPT-Load in the container reads the data with that one. Make the two the same (one of them is stale), then check again`,
      zh: `Docker Compose 给 GPT-Load 容器（服务 ${container.service}）的 ENCRYPTION_KEY（${theirs.zh}；${via.zh}，位于 ${container.file}:${container.line}）与本报告判断所用的（${judged.zh}${from.zh}）不同：容器中的 GPT-Load 用前者读取数据。请让两者一致（其中一个已过时），然后重新检查`,
    });
  }
  if (!report.encryptionEnabled && unknown === 0 && count((c) => c.total - c.empty) > 0) {
    out.push({
      en: `encryption is disabled: every key is stored in plaintext (GPT-Load's dashboard: sensitive data will be stored in plain text). Enable it: gpt-load-keystore migrate-keys --generate --update-env`,
      zh: `未启用加密：所有密钥均以明文存储（GPT-Load 仪表盘：敏感数据将以明文存储）。启用加密：gpt-load-keystore migrate-keys --generate --update-env`,
    });
  } else if (report.encryptionEnabled && plaintext + noHash > 0) {
    out.push({
      en: `plaintext keys although ENCRYPTION_KEY is set (${where((c) => c.plaintext + (c.noHash ?? 0))}): bring them under it with ${toConfigured} (give the configured ENCRYPTION_KEY)`,
      zh: `已设置 ENCRYPTION_KEY，但仍有明文密钥（${where((c) => c.plaintext + (c.noHash ?? 0))}）：运行 ${toConfigured}（输入当前的 ENCRYPTION_KEY）将其加密`,
    });
  }
  if (!report.encryptionEnabled && noHash > 0) {
    out.push({
      en: `plaintext rows without key_hash (${where((c) => c.noHash)}), from GPT-Load before v1.1.0: enabling encryption (gpt-load-keystore migrate-keys --generate --update-env) brings them along`,
      zh: `无 key_hash 的明文行（${where((c) => c.noHash)}），来自 v1.1.0 之前的 GPT-Load：启用加密（gpt-load-keystore migrate-keys --generate --update-env）会一并处理`,
    });
  }
  if (wrongHash > 0) {
    out.push({
      en: `rows that decrypt but whose key_hash is wrong or missing (${where((c) => c.wrongHash)}): GPT-Load cannot find them by hash. Re-hash them with ${toConfigured} (give the configured ENCRYPTION_KEY)`,
      zh: `可解密但 key_hash 错误或缺失的行（${where((c) => c.wrongHash)}）：GPT-Load 无法按哈希找到它们。运行 ${toConfigured}（输入当前的 ENCRYPTION_KEY）重新计算哈希`,
    });
  }
  if (unknown > 0) {
    const hint: Localized =
      encrypted === 0 && plaintext === 0
        ? hidden
          ? // The shell's key was judged; the .env's may well be the right one (see the item above).
            { en: 'the ENCRYPTION_KEY this shell exports does not open them: try "unset ENCRYPTION_KEY" (the .env\'s key) and check again', zh: '此 shell 导出的 ENCRYPTION_KEY 无法解密它们：请先执行 "unset ENCRYPTION_KEY"（改用 .env 中的密钥）后重新检查' }
          : report.encryptionEnabled
            ? { en: 'the configured ENCRYPTION_KEY is wrong: put the right one into .env', zh: '当前 ENCRYPTION_KEY 错误：请把正确的密钥写回 .env' }
            : { en: 'the data is encrypted but ENCRYPTION_KEY is not set: put the key they were encrypted with into .env', zh: '数据已加密但未设置 ENCRYPTION_KEY：请把加密所用的密钥写回 .env' }
        : {
            en: 'migrate with the key they are under (--from), or leave them as they are with migrate-keys --leave-undecryptable',
            zh: '请用它们所用的密钥迁移（--from），或用 migrate-keys --leave-undecryptable 让它们保持原样',
          };
    out.push({
      en: `undecryptable rows (${where((c) => c.unknown)}): list them with gpt-load-keystore keys list --undecryptable; ${hint.en}`,
      zh: `无法解密的行（${where((c) => c.unknown)}）：可用 gpt-load-keystore keys list --undecryptable 列出；${hint.zh}`,
    });
  }
  if (report.tempMigration) {
    const found = describeTempMigration(report.tempMigration);
    out.push({
      en: `${found.en}: drop it with gpt-load-keystore redact-logs (or the next migrate-keys)`,
      zh: `${found.zh}：运行 gpt-load-keystore redact-logs（或下一次 migrate-keys）将其删除`,
    });
  }
  return out;
}

export interface StatusParams {
  encryptionKey: string;
  /** Skip the exact per-row pass of request_logs (it can hold millions of rows). */
  skipLogs?: boolean;
  /** The configured key's codec when the caller already derived it (the daemon caches them). */
  codec?: KeyCodec;
  /** Crypto worker threads for large tables (default: one per CPU, less one on MySQL/PostgreSQL; 0 = the main thread only). */
  threads?: number;
  /** GPT-Load's .env: an interrupted migration journaled beside it is reported and explained. */
  envPath?: string;
  /** Where `encryptionKey` came from (deployment.ts encryptionKeySource): reported, and a hidden .env key needs attention. */
  keySource?: KeySource;
}

/** How classification reads a table: rows per batch, and the first `limit` rows by id at most. */
interface TableReading {
  batchSize: number;
  limit: number;
}

const WHOLE_TABLE: TableReading = { batchSize: 5000, limit: Infinity };

/**
 * What classification reads: id, key_value and key_hash, keyset-paged. Not iterateKeyRows: its
 * other columns (notes, timestamps normalised row by row) cost four times the three we need.
 */
async function* keyColumns(store: Store, table: 'api_keys' | 'request_logs', { batchSize, limit }: TableReading): AsyncGenerator<RowsIn & { ids: Array<number | string> }> {
  let left = limit;
  if (table === 'request_logs') {
    for await (const page of iterateLogRows(store, { batchSize })) {
      const rows = page.slice(0, left);
      left -= rows.length;
      yield { ids: rows.map((r) => r.id), values: rows.map((r) => r.key_value), hashes: rows.map((r) => r.key_hash) };
      if (left === 0) return;
    }
    return;
  }
  let after = 0;
  while (left > 0) {
    const take = Math.min(batchSize, left);
    const rows = await store.query<{ id: number | string; key_value: unknown; key_hash: unknown }>(
      `SELECT id, key_value, key_hash FROM api_keys WHERE id > ${store.p(1)} ORDER BY id LIMIT ${store.p(2)}`,
      [after, take],
    );
    if (rows.length === 0) return;
    left -= rows.length;
    const text = (v: unknown) => (v === null || v === undefined ? '' : String(v));
    yield { ids: rows.map((r) => Number(r.id)), values: rows.map((r) => text(r.key_value)), hashes: rows.map((r) => text(r.key_hash)) };
    if (rows.length < take) return;
    after = Number(rows[rows.length - 1].id);
  }
}

/**
 * Rows of a table classified by the crypto runner (worker threads on large tables), batches kept
 * in flight so the database read and the crypto overlap; results are tallied in id order. The
 * event loop runs between batches: the daemon answers its editor while a table is classified.
 */
async function classifyTable(
  store: Store,
  table: 'api_keys' | 'request_logs',
  reading: TableReading & { rows: number },
  crypto: CryptoRunner,
  encryptionEnabled: boolean,
  context: OperationContext,
): Promise<RowCounts> {
  const counts = emptyCounts();
  const report = phaseReporter(context, `classify ${table}`, Math.min(reading.rows, reading.limit));
  const batches = new OrderedResults(crypto);
  for await (const batch of keyColumns(store, table, reading)) {
    throwIfCancelled(context.cancellation);
    batches.push(crypto.classify(batch), (codes) => {
      for (let i = 0; i < codes.length; i++) {
        const kind = kindUnderKey(codes[i], encryptionEnabled);
        counts.total++;
        counts[kind] = (counts[kind] ?? 0) + 1;
        if (kind === 'unknown' && counts.unknownIds.length < EXAMPLE_IDS) counts.unknownIds.push(batch.ids[i]);
        // Plaintext needs attention only where a key is configured.
        const examples = kind === 'plaintext' && !encryptionEnabled ? undefined : kind === 'plaintext' || kind === 'noHash' || kind === 'wrongHash' ? counts.exampleIds![kind] : undefined;
        if (examples && examples.length < EXAMPLE_IDS) examples.push(batch.ids[i]);
      }
      report(counts.total);
    });
    await batches.settle();
    await yieldToEventLoop();
  }
  await batches.settle(0);
  report(counts.total, true);
  return counts;
}

/** The first api_keys rows by id, classified as readStatus classifies every row. */
export interface FirstKeysStatus {
  /** api_keys rows in the table. */
  totalKeys: number;
  /** The classified rows' counts (total: how many were classified). */
  counts: RowCounts;
  /** overallState of those rows: exact when they are the whole table. */
  state: OverallState;
}

/**
 * The state of the first `limit` api_keys rows by id, in batches of `batchSize`: a bounded look
 * for callers that must answer quickly (the daemon's check of an open .env); readStatus gives the
 * exact figures of both tables.
 */
export async function readFirstKeysStatus(store: Store, params: TableReading & { codec: KeyCodec }, context: OperationContext = {}): Promise<FirstKeysStatus> {
  const totalKeys = await countRows(store, 'api_keys');
  const reading = { batchSize: params.batchSize, limit: params.limit, rows: totalKeys };
  const crypto = await createKeyRunner(params.codec, { rows: Math.min(totalKeys, params.limit) });
  try {
    const counts = await classifyTable(store, 'api_keys', reading, crypto, params.codec.enabled, context);
    return { totalKeys, counts, state: overallState(counts, params.codec.enabled) };
  } finally {
    await crypto.close();
  }
}

/**
 * GPT-Load's dashboard verdict and row counts. readStatus classifies every api_keys row even with
 * skipLogs (seconds on a million keys); this reads 20 rows and two COUNT(*)s.
 */
export async function readStatusSummary(store: Store, params: { codec: KeyCodec; skipLogs?: boolean }): Promise<StatusSummary> {
  const { codec } = params;
  return {
    target: describeTarget(store.target),
    engine: store.kind,
    encryptionEnabled: codec.enabled,
    keyFingerprint: codec.fingerprint,
    dashboard: dashboardVerdict(await sampleHashedKeys(store, SAMPLE_SIZE), codec),
    apiKeys: await countRows(store, 'api_keys'),
    requestLogs: params.skipLogs ? null : await countRows(store, 'request_logs'),
  };
}

/** The groups with their key counts by status, as the wire and GPT-Load's UI name them. */
export async function readGroups(store: Store): Promise<GroupSummary[]> {
  return (await listGroups(store)).map((g) => ({
    id: g.id,
    name: g.name,
    displayName: g.display_name,
    channelType: g.channel_type,
    groupType: g.group_type,
    active: g.active,
    invalid: g.invalid,
  }));
}

export async function readStatus(store: Store, params: StatusParams, context: OperationContext = {}): Promise<StatusReport> {
  // Derived off the event loop, unless the caller holds the codec already.
  const codec = params.codec ?? codecFromDerivedKey(params.encryptionKey === '' ? null : await deriveKeyAsync(params.encryptionKey));
  const dashboard = dashboardVerdict(await sampleHashedKeys(store, SAMPLE_SIZE), codec);

  const keyRows = await countRows(store, 'api_keys');
  const logRows = params.skipLogs ? 0 : await countRows(store, 'request_logs');
  // Classified as a migration from the configured key to none would see them (see stateUnderKey).
  const crypto = await createKeyRunner(codec, { rows: keyRows + logRows, threads: params.threads, engine: store.kind });
  let apiKeys: RowCounts;
  let requestLogs = emptyCounts();
  try {
    apiKeys = await classifyTable(store, 'api_keys', { ...WHOLE_TABLE, rows: keyRows }, crypto, codec.enabled, context);
    if (!params.skipLogs) requestLogs = await classifyTable(store, 'request_logs', { ...WHOLE_TABLE, rows: logRows }, crypto, codec.enabled, context);
  } finally {
    await crypto.close();
  }

  const groups = await readGroups(store);
  const tempMigration = await findTempMigration(store);

  const migration = params.envPath ? await interruptedMigration(store, params.envPath, codec, apiKeys, context) : undefined;

  const report = {
    target: describeTarget(store.target),
    engine: store.kind,
    encryptionEnabled: codec.enabled,
    keyFingerprint: codec.fingerprint,
    dashboard,
    state: overallState([apiKeys, requestLogs], codec.enabled),
    apiKeys,
    requestLogs,
    groups,
    tempMigration,
    ...(params.keySource ? { keySource: params.keySource } : {}),
    ...(migration !== undefined ? { migration } : {}),
  };
  return { ...report, attention: attentionItems(report) };
}

/**
 * Where the database stands relative to a journaled run: the configured key's counts usually
 * tell; when they do not (the run committed, .env still names the old key), the key the run
 * parked in .env is tried on every api_keys row.
 */
async function interruptedMigration(store: Store, envPath: string, codec: KeyCodec, apiKeys: RowCounts, context: OperationContext): Promise<InterruptedMigration | null> {
  let journal: MigrationJournal | null;
  try {
    journal = readJournal(dirname(envPath));
  } catch {
    // An unreadable journal is migrate-keys' to report; status still shows the database.
    return null;
  }
  if (!journal) return null;
  const rows = apiKeys.total - apiKeys.empty;
  const allConfigured = rows === (codec.enabled ? apiKeys.encrypted : apiKeys.plaintext);
  let database: JournalDatabaseState = 'other';
  if (allConfigured && codec.fingerprint === journal.from) database = 'old';
  else if (allConfigured && codec.fingerprint === journal.to) database = 'new';
  else if (apiKeys.plaintext === rows) database = journal.to === 'plaintext' ? 'new' : journal.from === 'plaintext' ? 'old' : 'other';
  else {
    const parked = readPendingKey(envPath);
    const parkedCodec = parked !== null ? codecFor(parked) : null;
    if (parkedCodec && parkedCodec.fingerprint === journal.to) {
      let under = 0;
      for await (const batch of iterateKeyRows(store, { batchSize: 2000 })) {
        throwIfCancelled(context.cancellation);
        under += classifyRows(batch, parkedCodec).filter((state) => state === 'encrypted').length;
      }
      if (under === rows) database = 'new';
    }
  }
  const explanation = explainJournal(journal, database, keyFingerprint(readFileEncryptionKey(envPath)));
  return { journal, database, explanation };
}
