/**
 * `rotate-auth-key` through dist/cli.js on SQLite, MariaDB and PostgreSQL: a new AUTH_KEY that
 * passes GPT-Load's checks in .env, the old one gone from the global and group proxy keys (other
 * entries kept), the rotation on record for `audit`; a weak key or a Compose override changes
 * nothing. `keys check-copies` records a good check. No key is ever printed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyFingerprint } from '../../server/core/crypto';
import { parseDotenv } from '../../server/core/env/read';
import { assessSecret } from '../../server/core/secrets';
import { readRecord } from '../../server/keystore/audit/record';
import { createGptLoadDatabase, ENGINES, type GptLoadDatabase } from '../support/databases';
import { closedPort } from '../support/gptload';
import { REPO_ROOT } from '../support/paths';

const CLI = join(REPO_ROOT, 'dist', 'cli.js');
const OLD = 'Old-Ag7Rt5Yu9Io1Pa3Sd5Fg7Hj9Lz2Xc4V';
const OTHER = 'Px-4Jd8Kw2Lr6Ty9Uq3Mv7Nb1Hc5Gx0Zs';

function cli(db: GptLoadDatabase, args: string[], options: { input?: string; env?: Record<string, string>; secrets?: string[] } = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: db.envDir, input: options.input ?? '', encoding: 'utf8', timeout: 120_000, env: { PATH: process.env.PATH, LANG: 'C', ...options.env } });
  for (const secret of options.secrets ?? []) assert.ok(!(r.stdout + r.stderr).includes(secret), `${args.join(' ')}: a key is printed`);
  return r;
}

async function lists(db: GptLoadDatabase): Promise<{ global: string; groups: string[] }> {
  const store = await db.open();
  try {
    const [setting] = await store.query(`SELECT setting_value FROM system_settings WHERE setting_key = 'proxy_keys'`);
    const groups = await store.query(`SELECT proxy_keys FROM ${store.q('groups')} ORDER BY id`);
    return { global: String(setting.setting_value), groups: groups.map((g) => String(g.proxy_keys ?? '')) };
  } finally {
    await store.close();
  }
}

async function deployment(t: import('node:test').TestContext, engine: (typeof ENGINES)[number]): Promise<GptLoadDatabase | undefined> {
  const db = await createGptLoadDatabase(t, engine, { keys: 5, authKey: OLD, env: { PORT: String(await closedPort()) } });
  if (!db) return undefined;
  const store = await db.open();
  try {
    await store.execute(`UPDATE system_settings SET setting_value = ${store.p(1)} WHERE setting_key = 'proxy_keys'`, [`${OLD},${OTHER}`]);
    await store.execute(`UPDATE ${store.q('groups')} SET proxy_keys = ${store.p(1)} WHERE id = 2`, [` ${OLD} `]);
  } finally {
    await store.close();
  }
  return db;
}

for (const engine of ENGINES) {
  test(`rotate-auth-key: new key in .env, old one out of every proxy key list, rotation on record (${engine})`, async (t) => {
    const db = await deployment(t, engine);
    if (!db) return;
    const r = cli(db, ['rotate-auth-key', '--yes'], { secrets: [OLD] });
    assert.equal(r.status, 0, r.stderr);
    const newKey = parseDotenv(readFileSync(join(db.envDir, '.env'), 'utf8')).values!.AUTH_KEY;
    assert.notEqual(newKey, OLD);
    assert.deepEqual(assessSecret(newKey, 'AUTH_KEY'), []);
    assert.ok(!(r.stdout + r.stderr).includes(newKey), 'the new key is printed');
    assert.match(r.stdout, /Restart GPT-Load/);
    const after = await lists(db);
    assert.equal(after.global, OTHER);
    assert.equal(after.groups[1], '');
    const record = readRecord(db.envDir);
    assert.deepEqual(record.authKeyRotations.map((e) => e.fingerprint), [keyFingerprint(newKey)]);

    const audit = JSON.parse(cli(db, ['audit', '--json'], { secrets: [OLD, newKey] }).stdout) as { findings: Array<{ code: string; severity: string }> };
    const verdict = (code: string) => audit.findings.find((f) => f.code === code)?.severity;
    assert.equal(verdict('auth-key-stale'), 'pass');
    assert.equal(verdict('auth-key-is-proxy-key'), 'pass');
  });
}

test('rotate-auth-key: a weak key, a missing confirmation or a Compose override change nothing', async (t) => {
  const db = await deployment(t, 'sqlite');
  if (!db) return;
  const envBefore = readFileSync(join(db.envDir, '.env'), 'utf8');
  const listsBefore = await lists(db);
  const weak = cli(db, ['rotate-auth-key', '--yes', '--new-key-env', 'NEW'], { env: { NEW: 'admin-Xy7-Kq2Wm9Xz4Lp8Rt5Yv3Nb6Cd1' }, secrets: [OLD, 'admin-Xy7'] });
  assert.equal(weak.status, 2);
  assert.match(weak.stderr, /weak password patterns: admin/);
  const unconfirmed = cli(db, ['rotate-auth-key'], { secrets: [OLD] });
  assert.equal(unconfirmed.status, 5);
  writeFileSync(join(db.envDir, 'docker-compose.yml'), `services:\n  gpt-load:\n    image: ghcr.io/tbphp/gpt-load:latest\n    environment:\n      AUTH_KEY: ${OLD}\n`);
  const overridden = cli(db, ['rotate-auth-key', '--yes'], { secrets: [OLD] });
  assert.equal(overridden.status, 5);
  assert.match(overridden.stderr, /docker-compose\.yml:5 sets AUTH_KEY literally under environment:/);
  assert.equal(readFileSync(join(db.envDir, '.env'), 'utf8'), envBefore);
  assert.deepEqual(await lists(db), listsBefore);
  assert.deepEqual(readRecord(db.envDir).authKeyRotations, []);
});

test('keys check-copies records a copy that opens the stored keys; audit then passes encryption-key-copies', async (t) => {
  const key = 'Enc-9Hq4Lx7Wp2Zr5Tm8Vb3Nc6Kd1Gf0Sa';
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 10, encryptionKey: key, env: true });
  if (!db) return;
  const wrong = cli(db, ['keys', 'check-copies'], { input: 'Wrong-4Jd8Kw2Lr6Ty9Uq3Mv7Nb1Hc5Gx0\n', secrets: [key] });
  assert.equal(wrong.status, 1);
  assert.deepEqual(readRecord(db.envDir).encryptionKeyChecks, []);
  const good = cli(db, ['keys', 'check-copies'], { input: `${key}\n`, secrets: [key] });
  assert.equal(good.status, 0, good.stderr);
  assert.deepEqual(readRecord(db.envDir).encryptionKeyChecks.map((e) => e.fingerprint), [keyFingerprint(key)]);
  const audit = JSON.parse(cli(db, ['audit', '--json'], { secrets: [key] }).stdout) as { findings: Array<{ code: string; severity: string }> };
  assert.equal(audit.findings.find((f) => f.code === 'encryption-key-copies')?.severity, 'pass');
});
