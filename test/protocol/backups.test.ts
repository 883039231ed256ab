/** Backup requests and the key-copy check through the daemon (operations by the backups module). */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { BackupCheckRequest, BackupCreateRequest, BackupListRequest, BackupRestoreRequest, KeyBackupsRequest, StatusRequest } from '../../shared/protocol';
import { codecFor } from '../../server/core/crypto';
import { createGptLoadDatabase } from '../support/databases';
import { CLI } from '../support/auditDeployments';
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
  assert.deepEqual(check.live, { missing: 0, added: 0, backupKeys: 40, liveKeys: 40 });
  assert.ok(typeof check.ageMs === 'number' && check.ageMs >= 0);
  assert.ok(check.keyCheck && check.keyCheck.checked >= 40 && check.keyCheck.failed === 0, JSON.stringify(check.keyCheck));
  assert.deepEqual(check.notes, []);
  const wrong = await daemon.rpc.sendRequest(BackupCheckRequest.type, { path: info.path, encryptionKey: 'not-the-backup-key-0000000000000' });
  assert.equal(wrong.decryptsWithKey, false);

  const copies = await daemon.rpc.sendRequest(KeyBackupsRequest.type, { deployment, candidates: ['a-wrong-copy-of-the-key-123456', KEY], backups: [info.path] });
  assert.deepEqual(copies.results.map((r) => [r.works, r.matchesEnv, r.matchesBackups]), [[false, false, []], [true, true, [info.path]]]);
  // Without `backups`: every backup in the backups folder beside the .env.
  const byDefault = await daemon.rpc.sendRequest(KeyBackupsRequest.type, { deployment, candidates: [KEY] });
  assert.deepEqual(byDefault.results[0].matchesBackups, [info.path]);

  // Damage the data, then restore.
  const store = await db.open();
  await store.execute('DELETE FROM api_keys WHERE id > 10');
  const codec = codecFor(KEY);
  await store.execute(`INSERT INTO api_keys (key_value, key_hash, group_id, status) VALUES (${store.p(1)}, ${store.p(2)}, 2, 'active')`, [codec.encrypt('sk-added'), codec.hash('sk-added')]);
  await store.close();
  assert.equal((await daemon.rpc.sendRequest(StatusRequest.type, { deployment, skipLogs: true })).apiKeys.total, 11);
  const plan = await daemon.rpc.sendRequest(BackupRestoreRequest.type, { deployment, path: info.path, dryRun: true });
  assert.equal(plan.restored.api_keys, 40);
  const since = plan.keysSinceBackup!;
  assert.deepEqual([since.added, since.addedIds.length], [1, 1], 'the key added since the backup, which the restore drops');
  assert.equal(since.gone, 30, 'the keys deleted since the backup, which the restore brings back');
  assert.ok(since.goneIds.length > 0 && since.goneIds.every((id) => id > 10));
  assert.equal(plan.current?.api_keys, 11, 'the preview counts the live rows now');
  assert.equal(plan.current?.request_logs, 10);
  assert.deepEqual(Object.keys(plan.current ?? {}).sort(), Object.keys(plan.restored).sort());
  assert.deepEqual([plan.untouched, plan.reencrypted, plan.cacheCleared, plan.safetyBackup, plan.warnings], [[], null, null, null, []]);
  const restored = await daemon.rpc.sendRequest(BackupRestoreRequest.type, { deployment, path: info.path, workDoneToken: 'restore-1' });
  assert.equal(restored.restored.api_keys, 40);
  assert.ok(restored.safetyBackup, 'a safety backup of the state before');
  assert.equal(restored.current, undefined, 'live counts belong to the preview only');
  assert.deepEqual(restored.warnings, []);
  const after = await daemon.rpc.sendRequest(StatusRequest.type, { deployment });
  assert.equal(after.state, 'ok');
  assert.equal(after.apiKeys.encrypted, 40);
});

test('backup create: two requests at once and a CLI run beside them all write a backup, under distinct names', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 40, encryptionKey: KEY, env: true });
  assert.ok(db);
  const daemon = await startDaemon(t);
  const deployment = { envFile: join(db.envDir, '.env') };
  const [one, two, cli] = await Promise.all([
    daemon.rpc.sendRequest(BackupCreateRequest.type, { deployment }),
    daemon.rpc.sendRequest(BackupCreateRequest.type, { deployment }),
    promisify(execFile)(process.execPath, [CLI, 'backup', 'create', '--json'], { cwd: db.envDir }),
  ]);
  const paths = [one.path, two.path, (JSON.parse(cli.stdout) as { file: string }).file];
  assert.equal(new Set(paths).size, 3, paths.join(', '));
  const list = await daemon.rpc.sendRequest(BackupListRequest.type, { deployment });
  assert.deepEqual(list.backups.map((b) => b.path).sort(), paths.sort());
  assert.deepEqual(list.checks?.map((c) => c.verdict), ['ok', 'ok', 'ok']);
});

test('backup check with the live database unreachable: the file is still checked, the comparison is skipped with the reason', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 12, encryptionKey: KEY, env: true });
  assert.ok(db);
  const daemon = await startDaemon(t);
  const envFile = join(db.envDir, '.env');
  const info = await daemon.rpc.sendRequest(BackupCreateRequest.type, { deployment: { envFile }, includeLogs: false });
  assert.equal(info.rows.request_logs ?? 0, 0);
  const unreachable = { envFile, dsn: 'postgres://nobody@127.0.0.1:1/none' };
  const check = await daemon.rpc.sendRequest(BackupCheckRequest.type, { path: info.path, deployment: unreachable });
  assert.equal(check.valid, true);
  assert.equal(check.decryptsWithKey, true, 'the .env\'s key was still tried on the backup');
  assert.equal(check.live, null);
  assert.equal(check.notes?.length, 1, JSON.stringify(check.notes));
  assert.match(check.notes[0], /not compared with the live database: .*127\.0\.0\.1/);
  // A backup that cannot be read still fails the request.
  await assert.rejects(daemon.rpc.sendRequest(BackupCheckRequest.type, { path: join(db.envDir, 'no-such-backup.db'), deployment: unreachable }), (err: { data?: { code?: string } }) => err.data?.code === 'io');
});

test('restore: an unreachable Redis is a localized warning, reached through redisHost; untouched tables are named', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 15, logs: 5, encryptionKey: KEY, env: { REDIS_DSN: 'redis://redis-compose-service:6379/0' } });
  assert.ok(db);
  const daemon = await startDaemon(t, { locale: 'zh-CN' });
  const deployment = { envFile: join(db.envDir, '.env') };
  const info = await daemon.rpc.sendRequest(BackupCreateRequest.type, { deployment, includeLogs: false });

  const plan = await daemon.rpc.sendRequest(BackupRestoreRequest.type, { deployment, path: info.path, dryRun: true, redisHost: '127.0.0.1:1' });
  assert.ok(plan.untouched?.includes('request_logs'), `untouched: ${plan.untouched}`);
  assert.equal(plan.current?.api_keys, 15);

  const restored = await daemon.rpc.sendRequest(BackupRestoreRequest.type, { deployment, path: info.path, redisHost: '127.0.0.1:1', safetyBackup: false });
  assert.equal(restored.restored.api_keys, 15);
  assert.equal(restored.cacheCleared, null);
  assert.equal(restored.warnings?.length, 1, JSON.stringify(restored.warnings));
  // In the client's language, naming the host actually tried (the override, not the Compose name).
  assert.match(restored.warnings[0], /Redis 缓存.*gpt-load:key:\*/);
  assert.match(restored.warnings[0], /127\.0\.0\.1:1/);

  const quiet = await daemon.rpc.sendRequest(BackupRestoreRequest.type, { deployment, path: info.path, clearCache: false, safetyBackup: false });
  assert.deepEqual(quiet.warnings, []);
});
