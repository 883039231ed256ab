/**
 * `.gpt-load-keystore.json` beside GPT-Load's `.env`: when AUTH_KEY was last rotated and when copies
 * of ENCRYPTION_KEY were last checked, by fingerprint and date only — nothing secret, so it may be
 * read by anyone who may read the folder. `audit` and the extension read it; `rotate-auth-key` and
 * `keys check-copies` write it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyFingerprint } from '../../core/crypto';
import { writeFileAtomic } from '../../core/fs';
import { KeystoreError } from '../../core/errors';

const RECORD_FILE = '.gpt-load-keystore.json';
const FORMAT = 'gpt-load-keystore-record';
/** Entries kept per list: the history a reminder needs, not a log. */
const KEEP = 20;

export interface RecordEntry {
  /** keyFingerprint of the secret (one-way, slow: PBKDF2 then HMAC). */
  fingerprint: string;
  /** ISO 8601 UTC. */
  date: string;
}

export interface DeploymentRecord {
  format: typeof FORMAT;
  authKeyRotations: RecordEntry[];
  encryptionKeyChecks: RecordEntry[];
}

function recordPath(envDir: string): string {
  return join(envDir, RECORD_FILE);
}

function empty(): DeploymentRecord {
  return { format: FORMAT, authKeyRotations: [], encryptionKeyChecks: [] };
}

function entries(value: unknown): RecordEntry[] {
  if (!Array.isArray(value)) return [];
  return (value as Array<{ fingerprint?: unknown; date?: unknown } | null>).filter((e): e is RecordEntry => typeof e?.fingerprint === 'string' && typeof e?.date === 'string' && !Number.isNaN(Date.parse(e.date)));
}

/** The record beside the `.env`; an empty one when there is none. A damaged one is an error naming the file. */
export function readRecord(envDir: string): DeploymentRecord {
  const path = recordPath(envDir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return empty();
    throw new KeystoreError('io', { en: `cannot read ${path} (${(err as NodeJS.ErrnoException).code})`, zh: `无法读取 ${path}（${(err as NodeJS.ErrnoException).code}）` });
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new KeystoreError('io', { en: `${path} is not valid JSON: fix or delete it`, zh: `${path} 不是有效的 JSON：请修复或删除` });
  }
  return { format: FORMAT, authKeyRotations: entries(parsed?.authKeyRotations), encryptionKeyChecks: entries(parsed?.encryptionKeyChecks) };
}

/** The newest entry for this secret, if the record has one. */
export function lastEntryFor(list: readonly RecordEntry[], secret: string): RecordEntry | null {
  const fingerprint = keyFingerprint(secret);
  return list.filter((e) => e.fingerprint === fingerprint).sort((a, b) => b.date.localeCompare(a.date))[0] ?? null;
}

/** Appends an entry for `secret` (its fingerprint) dated `now`, keeping the newest ones. */
export function appendRecord(envDir: string, list: 'authKeyRotations' | 'encryptionKeyChecks', secret: string, now = new Date()): RecordEntry {
  const record = readRecord(envDir);
  const entry = { fingerprint: keyFingerprint(secret), date: now.toISOString() };
  record[list] = [...record[list], entry].slice(-KEEP);
  writeFileAtomic(recordPath(envDir), JSON.stringify(record, null, 2) + '\n');
  return entry;
}

/**
 * After `keys check-copies`: a copy that is the `.env`'s ENCRYPTION_KEY and opens the stored keys
 * (or, with none encrypted yet, matches by fingerprint) is recorded for `encryption-key-copies`.
 */
export function recordKeyCopyCheck(envDir: string, envKey: string, results: ReadonlyArray<{ matchesEnv: boolean; works: boolean; sampled: number }>, now = new Date()): boolean {
  if (envKey === '' || !results.some((r) => r.matchesEnv && (r.sampled === 0 || r.works))) return false;
  appendRecord(envDir, 'encryptionKeyChecks', envKey, now);
  return true;
}
