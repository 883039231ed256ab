/**
 * Encryption status: GPT-Load's own dashboard verdict (same sample, same thresholds) and, beyond
 * it, the exact state of every row, which GPT-Load's 20-row sample cannot see.
 */
import { dirname } from 'node:path';
import { classifyRow, codecFor, keyFingerprint, sha256Hex, type KeyCodec } from '../core/crypto';
import { throwIfCancelled, type Localized } from '../core/errors';
import type { Store } from '../store/connect';
import { describeTarget } from '../store/dsn';
import { countRows, iterateKeyRows, iterateLogRows, listGroups, sampleHashedKeys } from '../store/rows';
import { explainJournal, readJournal, type JournalDatabaseState, type MigrationJournal } from './journal';
import { readFileEncryptionKey, readPendingKey } from './migrateEnv';
import { phaseReporter, type OperationContext } from './operation';

export type DashboardVerdict = 'data_not_encrypted' | 'key_not_configured' | 'key_mismatch' | null;

export interface DashboardCheck {
  verdict: DashboardVerdict;
  sampled: number;
  /** Share of sampled rows whose key_hash is SHA-256(key_value). */
  plaintextShare: number;
  /** Share of sampled rows the configured key decrypts and re-hashes. */
  decryptShare: number;
}

export interface RowCounts {
  total: number;
  plaintext: number;
  encrypted: number;
  unknown: number;
  /** Rows with no key at all (request logs of requests that never got one). */
  empty: number;
  /** A few ids of unknown rows, to point at. */
  unknownIds: Array<number | string>;
}

/**
 * ok: every row is as the configured key says. needs-migration: key set, rows plaintext.
 * key-missing: rows encrypted, no key set. wrong-key: no row decrypts with the key.
 * mixed: rows in more than one state (an interrupted or hand-made change; needs attention).
 */
export type OverallState = 'empty' | 'ok' | 'needs-migration' | 'key-missing' | 'wrong-key' | 'mixed';

export interface GroupSummary {
  id: number;
  name: string;
  displayName: string;
  channelType: string;
  groupType: string;
  active: number;
  invalid: number;
}

export interface StatusReport {
  target: string;
  engine: string;
  encryptionEnabled: boolean;
  /** Non-reversible fingerprint of the configured key ("plaintext" when disabled). */
  keyFingerprint: string;
  dashboard: DashboardCheck;
  state: OverallState;
  apiKeys: RowCounts;
  requestLogs: RowCounts;
  groups: GroupSummary[];
  /** An interrupted migrate-keys run found beside the .env (only when `envPath` was given). */
  migration?: InterruptedMigration | null;
}

export interface InterruptedMigration {
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
  let plain = 0;
  let decrypts = 0;
  for (const row of sample) {
    if (sha256Hex(row.key_value) === row.key_hash) plain++;
    else if (codec.enabled && classifyRow(row.key_value, row.key_hash, codec) === 'encrypted') decrypts++;
  }
  const u = plain / n;
  const c = decrypts / n;
  let verdict: DashboardVerdict = null;
  if (codec.enabled && u > 0.8) verdict = 'data_not_encrypted';
  else if (!codec.enabled && u < 0.2) verdict = 'key_not_configured';
  else if (codec.enabled && u < 0.2 && c < 0.2) verdict = 'key_mismatch';
  return { verdict, sampled: n, plaintextShare: u, decryptShare: c };
}

function emptyCounts(): RowCounts {
  return { total: 0, plaintext: 0, encrypted: 0, unknown: 0, empty: 0, unknownIds: [] };
}

function tally(counts: RowCounts, id: number | string, keyValue: string, keyHash: string, codec: KeyCodec): void {
  counts.total++;
  if (keyValue === '' && keyHash === '') {
    counts.empty++;
    return;
  }
  const state = classifyRow(keyValue, keyHash, codec);
  counts[state]++;
  if (state === 'unknown' && counts.unknownIds.length < 10) counts.unknownIds.push(id);
}

export function overallState(keys: RowCounts, encryptionEnabled: boolean): OverallState {
  const rows = keys.total - keys.empty;
  if (rows === 0) return 'empty';
  if (encryptionEnabled) {
    if (keys.encrypted === rows) return 'ok';
    if (keys.plaintext === rows) return 'needs-migration';
    if (keys.unknown === rows) return 'wrong-key';
  } else {
    if (keys.plaintext === rows) return 'ok';
    if (keys.unknown === rows) return 'key-missing';
  }
  return 'mixed';
}

export interface StatusParams {
  encryptionKey: string;
  /** Skip the exact per-row pass of request_logs (it can hold millions of rows). */
  skipLogs?: boolean;
  codec?: KeyCodec;
  /** GPT-Load's .env: an interrupted migration journaled beside it is reported and explained. */
  envPath?: string;
}

export async function readStatus(store: Store, params: StatusParams, context: OperationContext = {}): Promise<StatusReport> {
  const codec = params.codec ?? codecFor(params.encryptionKey);
  const dashboard = dashboardVerdict(await sampleHashedKeys(store, SAMPLE_SIZE), codec);

  const apiKeys = emptyCounts();
  const keyTotal = await countRows(store, 'api_keys');
  const reportKeys = phaseReporter(context, 'classify api_keys', keyTotal);
  for await (const batch of iterateKeyRows(store, { batchSize: 2000 })) {
    throwIfCancelled(context.cancellation);
    for (const row of batch) tally(apiKeys, row.id, row.key_value, row.key_hash, codec);
    reportKeys(apiKeys.total);
  }
  reportKeys(apiKeys.total, true);

  const requestLogs = emptyCounts();
  if (!params.skipLogs) {
    const logTotal = await countRows(store, 'request_logs');
    const reportLogs = phaseReporter(context, 'classify request_logs', logTotal);
    for await (const batch of iterateLogRows(store, { batchSize: 2000 })) {
      throwIfCancelled(context.cancellation);
      for (const row of batch) tally(requestLogs, row.id, row.key_value, row.key_hash, codec);
      reportLogs(requestLogs.total);
    }
    reportLogs(requestLogs.total, true);
  }

  const groups = (await listGroups(store)).map((g) => ({
    id: g.id,
    name: g.name,
    displayName: g.display_name,
    channelType: g.channel_type,
    groupType: g.group_type,
    active: g.active,
    invalid: g.invalid,
  }));

  const migration = params.envPath ? await interruptedMigration(store, params.envPath, codec, apiKeys, context) : undefined;

  return {
    target: describeTarget(store.target),
    engine: store.kind,
    encryptionEnabled: codec.enabled,
    keyFingerprint: codec.fingerprint,
    dashboard,
    state: overallState(apiKeys, codec.enabled),
    apiKeys,
    requestLogs,
    groups,
    ...(migration !== undefined ? { migration } : {}),
  };
}

/**
 * Where the database stands relative to a journaled run: the configured key's counts usually
 * tell; when they do not (the run committed, .env still names the old key), the key the run
 * parked in .env is tried on every api_keys row.
 */
async function interruptedMigration(store: Store, envPath: string, codec: KeyCodec, apiKeys: RowCounts, context: OperationContext): Promise<InterruptedMigration | null> {
  const journal = readJournal(dirname(envPath));
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
        for (const row of batch) if (classifyRow(row.key_value, row.key_hash, parkedCodec) === 'encrypted') under++;
      }
      if (under === rows) database = 'new';
    }
  }
  const explanation = explainJournal(journal, database, keyFingerprint(readFileEncryptionKey(envPath)));
  return { journal, database, explanation };
}
