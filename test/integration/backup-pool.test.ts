/**
 * backup create and check on tables large enough for the crypto worker pool: the same manifests and
 * the same check reports from the main thread and from the workers, on both layouts (SQLite and
 * portable); cancellation stops them, workers and all, and leaves no file behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { codecFor, sha256Hex } from '../../server/core/crypto';
import { createBackup, type BackupCreateResult } from '../../server/keystore/backup/create';
import { checkBackup, type BackupCheckParams } from '../../server/keystore/backup/check';
import { INLINE_BELOW_ROWS } from '../../server/keystore/cryptoPool';
import type { Store } from '../../server/store/connect';
import { createGptLoadDatabase, type Engine } from '../support/databases';

const KEY = 'backup-pool-Key-0123456789abcdef';
const OTHER = 'backup-pool-Other-0123456789abc';
const KEYS = INLINE_BELOW_ROWS + 500;

/** A few rows no key opens, plaintext and empty ones among the encrypted. */
async function mixRows(store: Store, plaintexts: Map<number, string>): Promise<void> {
  const key = codecFor(KEY);
  const other = codecFor(OTHER);
  const set = (id: number, value: string, hash: string) =>
    store.execute(`UPDATE api_keys SET key_value = ${store.p(1)}, key_hash = ${store.p(2)} WHERE id = ${store.p(3)}`, [value, hash, id]);
  const stored = String((await store.query(`SELECT key_value FROM api_keys WHERE id = 3`))[0].key_value);
  await set(3, stored.slice(0, -2) + (stored.endsWith('00') ? '11' : '00'), key.hash(plaintexts.get(3)!));
  await set(4, other.encrypt('sk-other'), other.hash('sk-other'));
  await set(5, plaintexts.get(5)!, sha256Hex(plaintexts.get(5)!));
  await set(6, '', '');
  await set(KEYS, 'zz', 'not-a-hash');
}

/** The parts of a manifest that are not the moment it was taken. */
function content(created: BackupCreateResult) {
  const { createdAt, seal, ...rest } = created.manifest;
  return rest;
}

for (const engine of ['sqlite', 'postgres'] as Engine[]) {
  test(`${engine}: backups are taken and checked the same in the main thread and in the worker pool`, async (t) => {
    const db = await createGptLoadDatabase(t, engine, { keys: KEYS, logs: 300, encryptionKey: KEY });
    if (!db) return;
    const store = await db.open();
    await mixRows(store, db.plaintexts);
    const now = new Date(Date.now() + 60_000);
    const fromMain = await createBackup(store, { encryptionKey: KEY, envDir: db.envDir, threads: 0 });
    const fromWorkers = await createBackup(store, { encryptionKey: KEY, envDir: db.envDir, threads: 2 });
    assert.deepEqual(content(fromWorkers), content(fromMain));
    assert.deepEqual(fromMain.manifest.encryption.apiKeys, { total: KEYS, plaintext: 1, encrypted: KEYS - 5, unknown: 3, empty: 1 });
    assert.deepEqual(fromMain.manifest.encryption.requestLogs, { total: 300, plaintext: 0, encrypted: 300, unknown: 0, empty: 0 });

    const checks: Array<[string, BackupCheckParams]> = [
      ['live by key_hash', { codec: codecFor(KEY), live: { store, codec: codecFor(KEY) } }],
      ['live under another key, by plaintext', { codec: codecFor(KEY), live: { store, codec: codecFor(OTHER) } }],
    ];
    const reports = [];
    for (const [what, params] of checks) {
      const [main, workers] = [await checkBackup(fromWorkers.file, { ...params, now, threads: 0 }), await checkBackup(fromWorkers.file, { ...params, now, threads: 2 })];
      assert.deepEqual(workers, main, what);
      assert.equal(main.verdict, 'needs-key', what);
      assert.deepEqual(main.key.failedIds, ['api_keys:3', 'api_keys:4', `api_keys:${KEYS}`], what);
      assert.equal(main.key.checked, KEYS - 1 + 300, what);
      reports.push(main);
    }
    assert.equal(reports[0].live?.basis, 'key_hash');
    assert.equal(reports[0].live?.missing, 0);
    // Under the other key only row 4 opens, and the plaintext row 5 reads the same under any key.
    const { target, missingIds, ...live } = reports[1].live!;
    assert.deepEqual(live, { basis: 'plaintext', backupKeys: KEYS - 4, liveKeys: 2, missing: KEYS - 5, added: 1, addedIds: [4] });
    await store.close();
  });
}

test('backup create and check stop at the next batch when cancelled, workers and all', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: INLINE_BELOW_ROWS + 100, encryptionKey: KEY });
  if (!db) return;
  const store = await db.open();
  const kept = await createBackup(store, { encryptionKey: KEY, envDir: db.envDir, dir: join(db.envDir, 'kept') });
  for (const phase of ['back up api_keys', 'check rows']) {
    const cancellation = { cancelled: false };
    const context = { cancellation, progress: (p: { phase: string }) => (cancellation.cancelled ||= p.phase === phase) };
    const run = phase === 'check rows' ? checkBackup(kept.file, { codec: codecFor(KEY), threads: 2 }, context) : createBackup(store, { encryptionKey: KEY, envDir: db.envDir, threads: 2 }, context);
    await assert.rejects(run, (err: { code?: string }) => err.code === 'cancelled', phase);
  }
  assert.deepEqual(readdirSync(join(db.envDir, 'backups')), []);
  // Nothing was left running: the same backup checks whole afterwards.
  assert.equal((await checkBackup(kept.file, { codec: codecFor(KEY), threads: 2 })).verdict, 'ok');
  await store.close();
});
