/**
 * gptLoad/migrate over the protocol: work-done progress on the client's token (phase, rows, rate),
 * and a cancel before the switch that leaves the database untouched and clean.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import { codecFor } from '../../server/core/crypto';
import { KeystoreErrorCodes, MigrateRequest, StatusRequest, type ErrorData, type KeystoreProgressReport } from '../../shared/protocol';
import { createGptLoadDatabase } from '../support/databases';
import { startDaemon, type Daemon } from './daemon';

const OLD = 'Old-migrate-test-key-7Hq2-xP9w-ZZ41';
const NEW = 'New-migrate-round-3Lm8-vQ0e-KK73';

type ProgressValue = KeystoreProgressReport | { kind: 'begin'; title: string } | { kind: 'end' };

function progressOf(daemon: Daemon, token: string): ProgressValue[] {
  const seen: ProgressValue[] = [];
  daemon.rpc.onNotification('$/progress', (p: { token: string; value: ProgressValue }) => {
    if (p.token === token) seen.push(p.value);
  });
  return seen;
}

function sqliteTables(path: string): string[] {
  const Database = require('better-sqlite3') as typeof import('better-sqlite3');
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as Array<{ name: string }>).map((r) => r.name);
  } finally {
    db.close();
  }
}

test('migrate reports work-done progress with phase, rows and rate, then the new state', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 3000, logs: 500, encryptionKey: OLD, env: true });
  assert.ok(db);
  const daemon = await startDaemon(t);
  const envFile = join(db.envDir, '.env');
  const progress = progressOf(daemon, 'migrate-1');
  const summary = await daemon.rpc.sendRequest(MigrateRequest.type, { deployment: { envFile }, toKey: NEW, updateEnv: true, workDoneToken: 'migrate-1' });
  assert.equal(summary.mode, 'change');
  assert.equal(summary.outcome, 'migrated');
  assert.equal(summary.apiKeys, 3000);
  assert.equal(summary.fromFingerprint, codecFor(OLD).fingerprint);
  assert.equal(summary.toFingerprint, codecFor(NEW).fingerprint);
  assert.equal(summary.envUpdated, true);
  assert.match(readFileSync(envFile, 'utf8'), new RegExp(`^ENCRYPTION_KEY=${NEW}$`, 'm'));

  assert.equal(progress[0].kind, 'begin');
  assert.equal(progress.at(-1)!.kind, 'end');
  const reports = progress.filter((p): p is KeystoreProgressReport => p.kind === 'report');
  assert.ok(reports.some((r) => r.phase.startsWith('write') && r.done === r.total && r.total > 0), 'a complete write phase');
  for (const r of reports) {
    assert.equal(typeof r.done, 'number');
    assert.equal(typeof r.total, 'number');
    assert.match(r.message!, new RegExp(`^${r.phase}: `));
  }
  assert.ok(reports.some((r) => typeof r.rate === 'number'), 'a rate');
  const after = await daemon.rpc.sendRequest(StatusRequest.type, { deployment: { envFile } });
  assert.equal(after.state, 'ok');
  assert.equal(after.apiKeys.encrypted, 3000);
});

test('in Chinese, progress messages name the phase in Chinese while `phase` stays the identifier', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 50, logs: 10, encryptionKey: OLD, env: true });
  assert.ok(db);
  const daemon = await startDaemon(t, { locale: 'zh-CN' });
  const progress = progressOf(daemon, 'migrate-zh');
  await daemon.rpc.sendRequest(MigrateRequest.type, { deployment: { envFile: join(db.envDir, '.env') }, toKey: NEW, workDoneToken: 'migrate-zh' });
  const reports = progress.filter((p): p is KeystoreProgressReport => p.kind === 'report');
  const write = reports.find((r) => r.phase === 'write api_keys');
  assert.ok(write, JSON.stringify(reports.map((r) => r.phase)));
  assert.match(write.message!, /^写入 api_keys: [\d,]+\/[\d,]+/);
  assert.match(reports.find((r) => r.phase === 'commit')!.message!, /^提交: /);
  for (const r of reports) assert.doesNotMatch(r.message!.replace(/api_keys|request_logs|system_settings|group_sub_groups|group_hourly_stats|groups/g, ''), /[A-Za-z]/, r.message);
});

test('a cancel before the switch leaves the database untouched and clean', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 40_000, encryptionKey: OLD, env: true });
  assert.ok(db);
  const daemon = await startDaemon(t);
  const envFile = join(db.envDir, '.env');
  const dbFile = join(db.envDir, 'data', 'gpt-load.db');
  const envBefore = readFileSync(envFile, 'utf8');
  const tablesBefore = sqliteTables(dbFile);

  const source = new CancellationTokenSource();
  daemon.rpc.onNotification('$/progress', (p: { token: string; value: ProgressValue }) => {
    // Cancel once rows are being written: the latest point before the switch.
    if (p.token === 'migrate-cancel' && p.value.kind === 'report' && p.value.phase.startsWith('write')) source.cancel();
  });
  await assert.rejects(
    daemon.rpc.sendRequest(MigrateRequest.type, { deployment: { envFile }, toKey: NEW, updateEnv: true, workDoneToken: 'migrate-cancel' }, source.token),
    (err: { code: number; data: ErrorData }) => {
      assert.equal(err.code, KeystoreErrorCodes.cancelled);
      assert.equal(err.data.code, 'cancelled');
      return true;
    },
  );
  assert.ok(source.token.isCancellationRequested, 'cancelled during the write phase');

  const status = await daemon.rpc.sendRequest(StatusRequest.type, { deployment: { envFile } });
  assert.equal(status.state, 'ok', 'every row still under the old key');
  assert.equal(status.apiKeys.encrypted, 40_000);
  assert.equal(status.keyFingerprint, codecFor(OLD).fingerprint);
  assert.deepEqual(sqliteTables(dbFile), tablesBefore, 'no side table left behind');
  assert.equal(readFileSync(envFile, 'utf8'), envBefore, '.env as it was (no parked key)');
  assert.ok(!existsSync(join(db.envDir, '.gpt-load-keystore', 'migration.json')), 'no journal left');
});
