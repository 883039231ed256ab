/** Backup requests and the key-copy check through the daemon (operations by the backups module). */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { BackupCheckRequest, BackupCreateRequest, BackupListRequest, BackupRestoreRequest, KeyBackupsRequest, StatusRequest } from '../../shared/protocol';
import { codecFor } from '../../server/core/crypto';
import { createGptLoadDatabase } from '../support/databases';
import { startDaemon } from './daemon';

const KEY = 'backup-protocol-key-8Wn2-Qz71-Lk04';

test('backup create → list → check → restore, and key copies against data and backups', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 40, logs: 10, encryptionKey: KEY, env: true });
  assert.ok(db);
  const daemon = await startDaemon(t);
  const deployment = { envFile: join(db.envDir, '.env') };

  const info = await daemon.rpc.sendRequest(BackupCreateRequest.type, { deployment, workDoneToken: 'backup-1' });
  assert.equal(info.keyFingerprint, codecFor(KEY).fingerprint);
  assert.equal(info.rows.api_keys, 40);

  const list = await daemon.rpc.sendRequest(BackupListRequest.type, { deployment });
  assert.deepEqual(list.backups.map((b) => b.path), [info.path]);
  assert.equal(list.checks?.[0].verdict, 'ok');

  const check = await daemon.rpc.sendRequest(BackupCheckRequest.type, { path: info.path, deployment });
  assert.equal(check.valid, true);
  assert.equal(check.decryptsWithKey, true);
  assert.deepEqual(check.problems, []);
  const wrong = await daemon.rpc.sendRequest(BackupCheckRequest.type, { path: info.path, encryptionKey: 'not-the-backup-key-0000000000000' });
  assert.equal(wrong.decryptsWithKey, false);

  const copies = await daemon.rpc.sendRequest(KeyBackupsRequest.type, { deployment, candidates: ['a-wrong-copy-of-the-key-123456', KEY], backups: [info.path] });
  assert.deepEqual(copies.results.map((r) => [r.works, r.matchesEnv, r.matchesBackups]), [[false, false, []], [true, true, [info.path]]]);

  // Damage the data, then restore.
  const store = await db.open();
  await store.execute('DELETE FROM api_keys WHERE id > 10');
  await store.close();
  assert.equal((await daemon.rpc.sendRequest(StatusRequest.type, { deployment, skipLogs: true })).apiKeys.total, 10);
  const restored = await daemon.rpc.sendRequest(BackupRestoreRequest.type, { deployment, path: info.path, workDoneToken: 'restore-1' });
  assert.equal(restored.restored.api_keys, 40);
  assert.ok(restored.safetyBackup, 'a safety backup of the state before');
  const after = await daemon.rpc.sendRequest(StatusRequest.type, { deployment });
  assert.equal(after.state, 'ok');
  assert.equal(after.apiKeys.encrypted, 40);
});
