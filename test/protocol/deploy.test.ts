/**
 * The daemon's side of #13: a weak new key refused by gptLoad/migrate unless `allowWeakKey`
 * (error `weak-key`, the dashboard's warning codes in details), and `.env` writes of AUTH_KEY that
 * a Docker Compose setting would defeat refused with `compose-override` (file and line).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { EnvWriteRequest, KeystoreErrorCodes, MigrateRequest, type ErrorData } from '../../shared/protocol';
import { createGptLoadDatabase } from '../support/databases';
import { closedPort } from '../support/gptload';
import { startDaemon } from './daemon';

const OLD = 'Old-daemon-round-7Hq2-xP9w-ZZ41-Lm';
const WEAK = 'GptLoad-encryption-key-2026';

test("migrate: a new key GPT-Load's dashboard would flag fails with weak-key (nothing done) unless allowWeakKey", async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 30, encryptionKey: OLD, env: { PORT: String(await closedPort()) } });
  assert.ok(db);
  const daemon = await startDaemon(t);
  const envFile = join(db.envDir, '.env');
  const dbFile = join(db.envDir, 'data', 'gpt-load.db');
  const before = { env: readFileSync(envFile), db: readFileSync(dbFile) };
  await assert.rejects(
    daemon.rpc.sendRequest(MigrateRequest.type, { deployment: { envFile }, toKey: WEAK, updateEnv: true, backup: false }),
    (err: { code: number; message: string; data: ErrorData }) => {
      assert.equal(err.code, KeystoreErrorCodes['weak-key']);
      assert.equal(err.data.code, 'weak-key');
      assert.deepEqual(err.data.details, { warnings: ['secret-short', 'secret-weak-pattern'] });
      assert.match(err.message, /GPT-Load's dashboard would flag: ENCRYPTION_KEY is short \(27 characters\)/);
      assert.ok(!err.message.includes(WEAK));
      return true;
    },
  );
  assert.ok(readFileSync(envFile).equals(before.env) && readFileSync(dbFile).equals(before.db), 'nothing written');

  const summary = await daemon.rpc.sendRequest(MigrateRequest.type, { deployment: { envFile }, toKey: WEAK, updateEnv: true, backup: false, allowWeakKey: true });
  assert.equal(summary.outcome, 'migrated');
});

test('env/write: AUTH_KEY rotation that a literal under environment: would defeat fails with compose-override, nothing written', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 0, env: true });
  assert.ok(db);
  const daemon = await startDaemon(t);
  const envFile = join(db.envDir, '.env');
  writeFileSync(
    join(db.envDir, 'compose.yaml'),
    'services:\n  gpt-load:\n    image: tbphp/gpt-load:latest\n    env_file: .env\n    environment:\n      AUTH_KEY: "old-admin-login-Wq3-Zr8-Tn5-Yk2"\n',
  );
  const before = readFileSync(envFile);
  await assert.rejects(
    daemon.rpc.sendRequest(EnvWriteRequest.type, { envFile, key: 'AUTH_KEY', value: 'Nw8-rotated.Bc5-Vx2-Hq9-Lm4-Rt7' }),
    (err: { code: number; message: string; data: ErrorData }) => {
      assert.equal(err.code, KeystoreErrorCodes['compose-override']);
      assert.deepEqual(err.data.details, { variable: 'AUTH_KEY', file: join(db.envDir, 'compose.yaml'), line: 6, kind: 'environment' });
      assert.match(err.message, /^compose\.yaml:6 sets AUTH_KEY literally under environment: of service gpt-load/);
      return true;
    },
  );
  assert.ok(readFileSync(envFile).equals(before), '.env unchanged');
  // Referencing .env instead: the write goes through.
  writeFileSync(join(db.envDir, 'compose.yaml'), 'services:\n  gpt-load:\n    image: tbphp/gpt-load:latest\n    environment:\n      - AUTH_KEY=${AUTH_KEY}\n');
  const written = await daemon.rpc.sendRequest(EnvWriteRequest.type, { envFile, key: 'AUTH_KEY', value: 'Nw8-rotated.Bc5-Vx2-Hq9-Lm4-Rt7' });
  assert.equal(written.changed, true);
});
