/**
 * The audit request over JSON-RPC: the same findings and counts as `audit --json` for the same
 * deployment, messages in the daemon's language, and no secret in the result or the daemon's log.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { keyFingerprint } from '../../server/core/crypto';
import { readRecord } from '../../server/keystore/audit/record';
import { AuditRequest, EnvWriteRequest } from '../../shared/protocol';
import { brokenDeployment, CLI, GEMINI_KEY, HEADER_SECRET, STRONG_AUTH, WEAK_AUTH } from '../support/auditDeployments';
import { createGptLoadDatabase } from '../support/databases';
import { closedPort } from '../support/gptload';
import { startDaemon } from './daemon';

test('gptLoad/audit returns what audit --json prints, with counts per item', async (t) => {
  const db = await brokenDeployment(t, 'sqlite');
  assert.ok(db);
  const cli = spawnSync(process.execPath, [CLI, 'audit', '--json', '--access-log', 'access.log'], { cwd: db.envDir, encoding: 'utf8', env: { PATH: process.env.PATH, LANG: 'C' } });
  assert.equal(cli.status, 1, cli.stderr);
  const expected = JSON.parse(cli.stdout);

  const daemon = await startDaemon(t, { args: ['--log-level', 'trace'] });
  const result = await daemon.rpc.sendRequest(AuditRequest.type, { deployment: { envFile: join(db.envDir, '.env') }, accessLogs: ['access.log'] });
  assert.deepEqual(result, expected);
  assert.ok(result.items['https'].fail >= 1);
  assert.equal(Object.values(result.items).reduce((n, item) => n + item.warn + item.fail, 0), result.summary.warn + result.summary.fail);
  const wire = JSON.stringify(result) + daemon.stderr();
  for (const secret of [WEAK_AUTH, GEMINI_KEY, HEADER_SECRET]) assert.ok(!wire.includes(secret), 'a secret reached the client or the log');
});

test('env/write of a new AUTH_KEY (the extension\'s Rotate / Generate AUTH_KEY) puts the rotation on record for audit', async (t) => {
  const db = await brokenDeployment(t, 'sqlite');
  assert.ok(db);
  const daemon = await startDaemon(t);
  const envFile = join(db.envDir, '.env');
  const fresh = 'Rot-8Kq2Wm9Xz4Lp7Rt5Yv3Nb6Cd1Fs0Jh';
  await daemon.rpc.sendRequest(EnvWriteRequest.type, { envFile, key: 'AUTH_KEY', value: fresh });
  assert.deepEqual(readRecord(db.envDir).authKeyRotations.at(-1)?.fingerprint, keyFingerprint(fresh));
  const result = await daemon.rpc.sendRequest(AuditRequest.type, { deployment: { envFile } });
  assert.equal(result.findings.find((f) => f.code === 'auth-key-stale')?.severity, 'pass');
});

test('gptLoad/audit warns of a MySQL DATABASE_DSN with an empty password, naming the .env line', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 1, authKey: STRONG_AUTH, env: true });
  assert.ok(db);
  const envFile = join(db.envDir, '.env');
  writeFileSync(envFile, `AUTH_KEY=${STRONG_AUTH}\nDATABASE_DSN=root:@tcp(127.0.0.1:${await closedPort()})/gpt-load\n`, { mode: 0o600 });
  const daemon = await startDaemon(t);
  const result = await daemon.rpc.sendRequest(AuditRequest.type, { deployment: { envFile } });
  const empty = result.findings.filter((f) => f.code === 'db-password-empty');
  assert.deepEqual(empty.map((f) => [f.severity, f.item, f.line]), [['warn', 'infrastructure', 2]]);
  assert.match(empty[0].message, new RegExp(`^DATABASE_DSN at .*\\.env:2 logs in to MySQL at 127\\.0\\.0\\.1:\\d+ as root with an empty password`));
});
