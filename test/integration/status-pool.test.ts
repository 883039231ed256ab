/**
 * readStatus on a table large enough for the crypto worker pool: the same exact counts from the
 * main thread and from the workers, under a key and in disabled mode; cancellation stops it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codecFor, sha256Hex } from '../../server/core/crypto';
import { KeystoreError } from '../../server/core/errors';
import { INLINE_BELOW_ROWS } from '../../server/keystore/cryptoPool';
import { readStatus, type RowCounts } from '../../server/keystore/status';
import { createGptLoadDatabase } from '../support/databases';

const KEY = 'status-pool-Key-0123456789abcdef';
const OTHER = 'status-pool-Other-0123456789abcd';

test('status classifies the same in the main thread and in the worker pool (SQLite, above the pool threshold)', async (t) => {
  const keys = INLINE_BELOW_ROWS + 500;
  const db = await createGptLoadDatabase(t, 'sqlite', { keys, logs: 300, encryptionKey: KEY });
  if (!db) return;
  const store = await db.open();
  const codec = codecFor(KEY);
  const set = (id: number, value: string, hash: string) =>
    store.execute(`UPDATE api_keys SET key_value = ?, key_hash = ? WHERE id = ?`, [value, hash, id]);
  const stored = String((await store.query(`SELECT key_value FROM api_keys WHERE id = 3`))[0].key_value);
  await set(3, stored.slice(0, -2) + (stored.endsWith('00') ? '11' : '00'), codec.hash(db.plaintexts.get(3)!));
  await set(4, codecFor(OTHER).encrypt('sk-other'), codecFor(OTHER).hash('sk-other'));
  await set(5, db.plaintexts.get(5)!, sha256Hex(db.plaintexts.get(5)!));
  await set(6, '', '');
  const last = keys;
  await set(last, 'zz', 'not-a-hash');

  const none = { plaintext: [], noHash: [], wrongHash: [] };
  const withKey: RowCounts = { total: keys, plaintext: 1, encrypted: keys - 5, unknown: 3, empty: 1, unknownIds: [3, 4, last], noHash: 0, wrongHash: 0, exampleIds: { ...none, plaintext: [5] } };
  const withoutKey: RowCounts = { total: keys, plaintext: 1, encrypted: 0, unknown: keys - 2, empty: 1, unknownIds: [1, 2, 3, 4, 7, 8, 9, 10, 11, 12], noHash: 0, wrongHash: 0, exampleIds: none };
  for (const threads of [0, 2]) {
    const keyed = await readStatus(store, { encryptionKey: KEY, threads });
    assert.deepEqual(keyed.apiKeys, withKey, `threads ${threads}, with the key`);
    assert.deepEqual(
      { ...keyed.requestLogs, unknownIds: [] },
      { total: 300, plaintext: 0, encrypted: 300, unknown: 0, empty: 0, unknownIds: [], noHash: 0, wrongHash: 0, exampleIds: none },
      `threads ${threads}: logs`,
    );
    assert.equal(keyed.state, 'mixed');

    const keyless = await readStatus(store, { encryptionKey: '', threads, skipLogs: true });
    assert.deepEqual(keyless.apiKeys, withoutKey, `threads ${threads}, disabled mode`);
    assert.equal(keyless.dashboard.verdict, 'key_not_configured');
  }
  // The daemon hands its cached codec in: same result.
  assert.deepEqual((await readStatus(store, { encryptionKey: KEY, codec, skipLogs: true })).apiKeys, withKey);
});

test('status stops at the next batch when cancelled, workers and all', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: INLINE_BELOW_ROWS + 100, encryptionKey: KEY });
  if (!db) return;
  const store = await db.open();
  const cancellation = { cancelled: false };
  const phases: string[] = [];
  await assert.rejects(
    readStatus(store, { encryptionKey: KEY, threads: 2 }, {
      cancellation,
      progress: (p) => {
        phases.push(p.phase);
        cancellation.cancelled = true;
      },
    }),
    (err: unknown) => err instanceof KeystoreError && err.code === 'cancelled',
  );
  assert.deepEqual([...new Set(phases)], ['classify api_keys']);
  // The store is still usable: nothing was left running on it.
  assert.equal((await readStatus(store, { encryptionKey: KEY, skipLogs: true })).apiKeys.encrypted, INLINE_BELOW_ROWS + 100);
});
