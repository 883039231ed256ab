/**
 * GPT-Load deployments laid out on disk for the audit tests: one breaking every item of GPT-Load's
 * security best-practice list, one following every item (.env, Compose, nginx / Caddy configs,
 * GPT-Load's log, an access log, a database, backups, the rotation record).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { appendRecord } from '../../server/keystore/audit/record';
import { createGptLoadDatabase, type Engine, type GptLoadDatabase } from './databases';
import { REPO_ROOT } from './paths';

export const CLI = join(REPO_ROOT, 'dist', 'cli.js');
const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'audit');

export const STRONG_AUTH = 'Gh7-Kq2Wm9Xz4Lp8Rt5Yv3Nb6Cd1Fs0Ja';
export const STRONG_ENC = 'Enc-9Hq4Lx7Wp2Zr5Tm8Vb3Nc6Kd1Gf0Sa';
export const WEAK_AUTH = 'admin123456';
export const GEMINI_KEY = 'AIzaSyD3mo-Ke7yFo4rTe5tsOnLy0123456789x';
export const HEADER_SECRET = 'sk-live-Hd8Rt2Kp5Wm9Zx3Lq7Vb1Nc4';

/** Breaks the database side: AUTH_KEY still a proxy key (seeded), a leftover temp_migration, a Gemini key in an error text, credentials in group settings. */
async function breakDatabase(db: GptLoadDatabase): Promise<void> {
  const store = await db.open();
  try {
    await store.execute('CREATE TABLE temp_migration (id bigint PRIMARY KEY, key_value_new text, key_hash_new varchar(255))');
    await store.execute(`INSERT INTO temp_migration VALUES (1, 'sk-plain', '')`);
    const [log] = await store.query<{ id: string }>('SELECT id FROM request_logs ORDER BY id LIMIT 1');
    await store.execute(`UPDATE request_logs SET error_message = ${store.p(1)} WHERE id = ${store.p(2)}`, [
      `Post "https://generativelanguage.googleapis.com/v1beta/models/gemini-pro:generateContent?key=${GEMINI_KEY}": dial tcp: i/o timeout`,
      log.id,
    ]);
    await store.execute(`UPDATE ${store.q('groups')} SET header_rules = ${store.p(1)} WHERE id = 1`, [JSON.stringify([{ key: 'Authorization', value: `Bearer ${HEADER_SECRET}`, action: 'set' }])]);
  } finally {
    await store.close();
  }
}

/** Every item broken (run with `--access-log access.log` for client IPs); undefined when the engine's server is unreachable. */
export async function brokenDeployment(t: TestContext, engine: Engine): Promise<GptLoadDatabase | undefined> {
  const db = await createGptLoadDatabase(t, engine, { keys: 30, logs: 20, authKey: WEAK_AUTH, env: { HOST: '0.0.0.0', ENABLE_CORS: 'true', ALLOWED_ORIGINS: '*', REDIS_DSN: 'redis://10.0.0.5:6379/0' } });
  if (!db) return undefined;
  await breakDatabase(db);
  cpSync(join(FIXTURES, 'broken'), db.envDir, { recursive: true });
  chmodSync(join(db.envDir, '.env'), 0o644);
  spawnSync('git', ['init', '-q'], { cwd: db.envDir });
  spawnSync('git', ['add', '.env'], { cwd: db.envDir });
  // An AUTH_KEY rotated long ago.
  appendRecord(db.envDir, 'authKeyRotations', WEAK_AUTH, new Date(Date.now() - 200 * 86_400_000));

  return db;
}

/** A database encrypted under a strong key, AUTH_KEY removed from the global proxy keys. */
export async function soundDeployment(t: TestContext, engine: Engine): Promise<GptLoadDatabase | undefined> {
  const db = await createGptLoadDatabase(t, engine, { keys: 30, logs: 20, authKey: STRONG_AUTH, encryptionKey: STRONG_ENC, env: { ENABLE_CORS: 'false' } });
  if (!db) return undefined;
  const store = await db.open();
  try {
    await store.execute(`UPDATE system_settings SET setting_value = ${store.p(1)} WHERE setting_key = 'proxy_keys'`, ['Px-4Jd8Kw2Lr6Ty9Uq3Mv7Nb1Hc5Gx0Zs']);
  } finally {
    await store.close();
  }
  cpSync(join(FIXTURES, 'sound'), db.envDir, { recursive: true });
  chmodSync(join(db.envDir, '.env'), 0o600);
  appendRecord(db.envDir, 'authKeyRotations', STRONG_AUTH, new Date(Date.now() - 10 * 86_400_000));
  appendRecord(db.envDir, 'encryptionKeyChecks', STRONG_ENC, new Date(Date.now() - 5 * 86_400_000));
  const backup = spawnSync(process.execPath, [CLI, 'backup', 'create'], { cwd: db.envDir, encoding: 'utf8', env: { PATH: process.env.PATH, LANG: 'C' } });
  assert.equal(backup.status, 0, backup.stderr);
  return db;
}

