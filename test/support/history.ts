/**
 * A database as GPT-Load's own history leaves it after months in production (see
 * docs/design/gpt-load-facts.md, "What a real deployment's database carries"), on any engine:
 *
 * - api_keys under the deployment's key (GPT-Load's exact ciphertexts from the vectors), plus a
 *   plaintext row with its SHA-256 hash, a row under the key with a NULL key_hash and one with a
 *   wrong key_hash;
 * - request_logs: old plaintext rows (SHA-256 hash, written while encryption was off), rows from
 *   before v1.1.0 (plaintext, NULL or empty hash), rows under the key, one with a wrong hash, a row
 *   without any key; error_message texts quoting upstream keys (a Gemini URL, before v1.4.9);
 * - optionally undecryptable rows (GPT-Load ciphertexts under another key) in both tables, and a
 *   temp_migration table left by an interrupted GPT-Load migrate-keys (plaintext copies).
 *
 * `expected` holds every key row's plaintext, so tests check each row with `openIndependently`:
 * Node's own PBKDF2 and AES-GCM, not the code under test.
 */
import assert from 'node:assert/strict';
import { createDecipheriv, createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import type { TestContext } from 'node:test';
import type { Store } from '../../server/store/connect';
import { createGptLoadDatabase, type Engine, type GptLoadDatabase } from './databases';
import { gptLoadVectors, type CryptoVector } from './gptload';

/** The vectors' key the history database is under (GPT-Load's own ciphertexts). */
export const HISTORY_KEY = 'my-32-char-secret-key-AbCdEf012345!';
/** Another vectors' key: its ciphertexts are undecryptable here. */
export const OTHER_KEY = 'Zx9!qT7#mR2$wL5^vB8&nK3*hJ6(pF1)';

export interface HistoryOptions {
  /** '' : a deployment that never encrypted (plaintext history); default HISTORY_KEY. */
  encryptionKey?: string;
  /** Add rows under OTHER_KEY to both tables. */
  undecryptable?: boolean;
  /** Leave a temp_migration table with plaintext copies of keys. */
  tempMigration?: boolean;
  /** Generated api_keys rows besides the history rows (default 40). */
  keys?: number;
  /** Generated request_logs rows under the key besides the history rows (default 0). */
  logs?: number;
  /** Extra env entries (PORT of a closed port, …). */
  env?: Record<string, string>;
}

export type HistoryKind = 'current' | 'plaintext' | 'noHash' | 'emptyHash' | 'wrongHash' | 'undecryptable' | 'empty';

export interface HistoryRow {
  table: 'api_keys' | 'request_logs';
  id: string;
  kind: HistoryKind;
  /** The API key the row carries ('' for a row without key). */
  plaintext: string;
  /** As stored at build time. */
  keyValue: string;
  keyHash: string | null;
}

export interface HistoryDatabase extends GptLoadDatabase {
  rows: HistoryRow[];
  /** request_logs ids whose error_message quotes a pool key, with that key. */
  leakedKeys: Map<string, string[]>;
}

const sha256 = (text: string) => (text === '' ? '' : createHash('sha256').update(text, 'utf8').digest('hex'));

const derived = new Map<string, Buffer>();
function derive(encryptionKey: string): Buffer {
  let key = derived.get(encryptionKey);
  if (!key) derived.set(encryptionKey, (key = pbkdf2Sync(Buffer.from(encryptionKey, 'utf8'), 'gpt-load-encryption-v1', 100_000, 32, 'sha256')));
  return key;
}

/** GPT-Load's cipher and hash re-derived with Node's primitives only: plaintext, or null when the value does not open. */
export function openIndependently(encryptionKey: string, value: string): string | null {
  const key = derive(encryptionKey);
  if (!/^[0-9a-f]*$/.test(value) || value.length < 56 || value.length % 2) return null;
  const raw = Buffer.from(value, 'hex');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(raw.length - 16));
  try {
    return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

export function hashIndependently(encryptionKey: string, plaintext: string): string {
  if (plaintext === '') return '';
  if (encryptionKey === '') return sha256(plaintext);
  const key = derive(encryptionKey);
  return createHmac('sha256', key).update(plaintext, 'utf8').digest('hex');
}

function vectorsOf(password: string): CryptoVector[] {
  return gptLoadVectors().filter((v) => v.password === password && v.plaintext !== '');
}

function timeValue(kind: Store['kind'], ms: number): string {
  const iso = new Date(ms).toISOString();
  if (kind === 'postgres') return iso;
  return kind === 'sqlite' ? `${iso.slice(0, 10)} ${iso.slice(11, 23)}+00:00` : `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

/** What a Gemini transport error looked like in request_logs before v1.4.9: the URL with the key in its query. */
export function geminiError(key: string): string {
  return `Post "https://generativelanguage.googleapis.com/v1beta/models/gemini-1.5-pro:generateContent?key=${key}": dial tcp 142.250.72.10:443: i/o timeout`;
}

export async function createHistoryDatabase(t: TestContext, engine: Engine, options: HistoryOptions = {}): Promise<HistoryDatabase | undefined> {
  const encryptionKey = options.encryptionKey ?? HISTORY_KEY;
  const db = await createGptLoadDatabase(t, engine, {
    keys: options.keys ?? 40,
    logs: options.logs ?? 0,
    encryptionKey,
    includeVectorRows: encryptionKey !== '',
    env: options.env ?? true,
  });
  if (!db) return undefined;
  const store = await db.open();
  const rows: HistoryRow[] = [];
  const leakedKeys = new Map<string, string[]>();
  const own = encryptionKey === '' ? [] : vectorsOf(encryptionKey);
  const other = vectorsOf(OTHER_KEY);
  const bool = (b: boolean) => (store.kind === 'postgres' ? b : b ? 1 : 0);
  try {
    for (const [id, plaintext] of db.plaintexts) {
      const [row] = await store.query<{ key_value: string; key_hash: string }>(`SELECT key_value, key_hash FROM api_keys WHERE id = ${store.p(1)}`, [id]);
      rows.push({ table: 'api_keys', id: String(id), kind: encryptionKey === '' ? 'plaintext' : 'current', plaintext, keyValue: row.key_value, keyHash: row.key_hash });
    }
    let nextKeyId = Math.max(0, ...db.plaintexts.keys()) + 1;
    const addKey = async (kind: HistoryKind, plaintext: string, keyValue: string, keyHash: string | null) => {
      const id = nextKeyId++;
      const now = timeValue(store.kind, Date.UTC(2026, 0, 1));
      await store.execute(
        `INSERT INTO api_keys (id, key_value, key_hash, group_id, status, notes, request_count, failure_count, created_at, updated_at) VALUES (${store.params(10)})`,
        [id, keyValue, keyHash, 1, 'active', '', 0, 0, now, now],
      );
      rows.push({ table: 'api_keys', id: String(id), kind, plaintext, keyValue, keyHash });
    };
    // api_keys leftovers: a key added while the dashboard said data_not_encrypted, and rows whose hash GPT-Load cannot find.
    await addKey('plaintext', 'sk-left-plaintext-0123456789abcdefghij', 'sk-left-plaintext-0123456789abcdefghij', sha256('sk-left-plaintext-0123456789abcdefghij'));
    if (encryptionKey === '') {
      await addKey('noHash', 'sk-no-hash-api-key-0123456789abcdef', 'sk-no-hash-api-key-0123456789abcdef', null);
    } else {
      await addKey('noHash', own[0].plaintext, own[0].ciphertext, null);
      await addKey('wrongHash', own[1].plaintext, own[1].ciphertext, sha256(own[1].plaintext));
    }
    if (options.undecryptable) await addKey('undecryptable', other[2].plaintext, other[2].ciphertext, other[2].hash);
    if (store.kind === 'postgres') await store.query(`SELECT setval(pg_get_serial_sequence('api_keys', 'id'), (SELECT MAX(id) FROM api_keys))`);

    // request_logs, oldest first.
    let logNumber = 0;
    const pool = [...db.plaintexts.values()];
    const addLog = async (kind: HistoryKind, plaintext: string, keyValue: string, keyHash: string | null, leaks: string[] = []) => {
      logNumber++;
      const id = `00000000-0000-4000-8000-${String(logNumber).padStart(12, '0')}`;
      const error = leaks.length ? leaks.map(geminiError).join(' | ') : logNumber % 3 === 0 ? 'rate limited' : null;
      await store.execute(
        `INSERT INTO request_logs (id, timestamp, group_id, group_name, key_value, key_hash, model, is_success, status_code, request_path, duration, error_message, request_type, is_stream) VALUES (${store.params(14)})`,
        [id, timeValue(store.kind, Date.UTC(2025, 6, 1) + logNumber * 60_000), 1, 'openai', keyValue, keyHash, 'gpt-4o', bool(error === null), error === null ? 200 : 500, '/proxy/openai/v1/chat/completions', 120, error, 'final', bool(false)],
      );
      rows.push({ table: 'request_logs', id, kind, plaintext, keyValue, keyHash });
      if (leaks.length) leakedKeys.set(id, leaks);
    };
    // Before v1.1.0: plaintext, no hash (NULL, and empty as some drivers wrote it); a transport error quoting the key.
    await addLog('noHash', pool[0], pool[0], null, [pool[0]]);
    await addLog('emptyHash', pool[1], pool[1], '');
    // Encryption off, later turned on with GPT-Load's migrate-keys, which never touched request_logs.
    for (let i = 2; i < 8; i++) await addLog('plaintext', pool[i], pool[i], sha256(pool[i]), i === 3 ? [pool[i], pool[4]] : []);
    await addLog('empty', '', '', '');
    if (encryptionKey !== '') {
      // After the switch: GPT-Load's ciphertexts; one with a hash that does not match; one before v1.4.9 quoting its key.
      for (const v of own) await addLog('current', v.plaintext, v.ciphertext, v.hash, v === own[2] ? [v.plaintext] : []);
      await addLog('wrongHash', own[3].plaintext, own[3].ciphertext, sha256(own[3].plaintext));
    }
    if (options.undecryptable) await addLog('undecryptable', other[3].plaintext, other[3].ciphertext, other[3].hash);
    if (options.tempMigration) {
      await store.execute(`CREATE TABLE temp_migration (id bigint PRIMARY KEY, key_value_new text, key_hash_new varchar(255))`);
      for (const [id, plaintext] of [...db.plaintexts].slice(0, 5)) {
        await store.execute(`INSERT INTO temp_migration (id, key_value_new, key_hash_new) VALUES (${store.params(3)})`, [id, plaintext, sha256(plaintext)]);
      }
    }
  } finally {
    await store.close();
  }
  return { ...db, rows, leakedKeys };
}

/** `fn` on a store of the database, closed after. */
export async function withOpenStore<T>(db: GptLoadDatabase, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await db.open();
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/**
 * Every history row as GPT-Load reads it under `encryptionKey` (checked with Node's primitives),
 * except the undecryptable ones, which must be byte for byte as built. Returns rows checked.
 */
export async function assertHistoryUnder(store: Store, history: HistoryDatabase, encryptionKey: string): Promise<number> {
  let checked = 0;
  for (const row of history.rows) {
    const [stored] = await store.query<{ key_value: string | null; key_hash: string | null }>(
      `SELECT key_value, key_hash FROM ${row.table} WHERE id = ${store.p(1)}`,
      [row.table === 'api_keys' ? Number(row.id) : row.id],
    );
    const label = `${row.table} ${row.id} (${row.kind})`;
    assert.ok(stored, `${label}: row lost`);
    if (row.kind === 'undecryptable') {
      assert.deepEqual([stored.key_value, stored.key_hash], [row.keyValue, row.keyHash], `${label}: left exactly as it was`);
    } else if (row.kind === 'empty') {
      assert.deepEqual([stored.key_value ?? '', stored.key_hash ?? ''], ['', ''], `${label}: still without key`);
    } else {
      const plain = encryptionKey === '' ? stored.key_value : openIndependently(encryptionKey, stored.key_value ?? '');
      assert.equal(plain, row.plaintext, `${label}: plaintext under the expected key`);
      assert.equal(stored.key_hash, hashIndependently(encryptionKey, row.plaintext), `${label}: key_hash as GPT-Load computes it`);
    }
    checked++;
  }
  return checked;
}
