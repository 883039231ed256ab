/**
 * Plaintext backups and `gptLoad/backup/prune` through the daemon (#13 item 6): the migrate summary
 * names the plaintext copy and what to do, the list and the check mark it, and prune previews,
 * refuses to delete the last backup of the current data unconfirmed, then deletes it.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BackupCheckRequest, BackupCreateRequest, BackupListRequest, BackupPruneRequest, MigrateRequest } from '../../shared/protocol';
import { createGptLoadDatabase } from '../support/databases';
import { closedPort } from '../support/gptload';
import { startDaemon } from './daemon';

const NEW = 'prune-Protocol-Kv-7Hq2-Wd90-Ux31';

test('enable encryption: the plaintext pre-write backup is a risk in the summary, list and check; prune deletes it once a backup under the new key exists', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 1200, logs: 300, env: { PORT: String(await closedPort()) } });
  assert.ok(db);
  const daemon = await startDaemon(t);
  const deployment = { envFile: join(db.envDir, '.env') };

  const summary = await daemon.rpc.sendRequest(MigrateRequest.type, { deployment, toKey: NEW, updateEnv: true });
  assert.ok(summary.backupFile && existsSync(summary.backupFile));
  assert.deepEqual(summary.backupPlaintext, { apiKeys: 1200, requestLogs: 300 });
  const note = summary.notes.find((n) => n.includes('PLAINTEXT'));
  assert.ok(note, summary.notes.join('\n'));
  assert.match(note, /PLAINTEXT copy of 1,200 keys and 300 request logs/);
  assert.match(note, /backup prune --plaintext/);

  const list = await daemon.rpc.sendRequest(BackupListRequest.type, { deployment });
  assert.deepEqual(list.checks?.map((c) => [c.path, c.verdict, c.plaintext]), [[summary.backupFile, 'ok', { apiKeys: 1200, requestLogs: 300 }]]);
  const check = await daemon.rpc.sendRequest(BackupCheckRequest.type, { path: summary.backupFile, deployment });
  assert.deepEqual(check.plaintext, { apiKeys: 1200, requestLogs: 300 });
  assert.ok(check.problems.some((p) => p.includes('1,200 keys and 300 request logs in PLAINTEXT')), check.problems.join('\n'));

  const preview = await daemon.rpc.sendRequest(BackupPruneRequest.type, { deployment, plaintext: true, dryRun: true });
  assert.deepEqual(preview.deleted.map((e) => [e.path, e.reason]), [[summary.backupFile, 'plaintext']]);
  assert.equal(preview.warnings.length, 1);
  assert.match(preview.warnings[0], /no backup is left that restores the current data/);
  await assert.rejects(daemon.rpc.sendRequest(BackupPruneRequest.type, { deployment, plaintext: true }), (err: { data?: { code?: string } }) => err.data?.code === 'refused-by-check');
  assert.ok(existsSync(summary.backupFile), 'refused: nothing deleted');
  await assert.rejects(daemon.rpc.sendRequest(BackupPruneRequest.type, { deployment }), (err: { data?: { code?: string } }) => err.data?.code === 'usage');

  const fresh = await daemon.rpc.sendRequest(BackupCreateRequest.type, { deployment });
  const pruned = await daemon.rpc.sendRequest(BackupPruneRequest.type, { deployment, plaintext: true });
  assert.deepEqual(pruned.warnings, []);
  assert.deepEqual(pruned.deleted.map((e) => e.path), [summary.backupFile]);
  assert.deepEqual(pruned.kept.map((e) => [e.path, e.reason]), [[fresh.path, 'newest-for-key']]);
  assert.ok(!existsSync(summary.backupFile) && !existsSync(`${summary.backupFile}.sha256`));
  const after = await daemon.rpc.sendRequest(BackupListRequest.type, { deployment });
  assert.deepEqual(after.checks?.map((c) => [c.path, c.verdict, c.plaintext]), [[fresh.path, 'ok', null]]);
});
