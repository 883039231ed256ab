/**
 * `audit` through dist/cli.js on deployments laid out on disk (.env, docker-compose.yml, nginx and
 * Caddy configs, GPT-Load's log in text and JSON, an access log, a GPT-Load database): one that
 * breaks every item draws each finding code; one that follows every item draws no warning or
 * failure. The database checks run on SQLite, MariaDB and PostgreSQL. No secret is ever printed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appendRecord } from '../../server/keystore/audit/record';
import { runAudit } from '../../server/keystore/audit/runAudit';
import { resolveDeployment } from '../../server/keystore/deployment';
import { openStore } from '../../server/store/connect';
import { createGptLoadDatabase, ENGINES, type GptLoadDatabase } from '../support/databases';
import { REPO_ROOT } from '../support/paths';

const CLI = join(REPO_ROOT, 'dist', 'cli.js');
const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'audit');

const STRONG_AUTH = 'Gh7-Kq2Wm9Xz4Lp8Rt5Yv3Nb6Cd1Fs0Ja';
const STRONG_ENC = 'Enc-9Hq4Lx7Wp2Zr5Tm8Vb3Nc6Kd1Gf0Sa';
const WEAK_AUTH = 'admin123456';
const GEMINI_KEY = 'AIzaSyD3mo-Ke7yFo4rTe5tsOnLy0123456789x';
const HEADER_SECRET = 'sk-live-Hd8Rt2Kp5Wm9Zx3Lq7Vb1Nc4';

interface JsonFinding {
  code: string;
  severity: 'pass' | 'warn' | 'fail' | 'unknown';
  item: string;
  message: string;
  file?: string;
  line?: number;
}

function audit(db: GptLoadDatabase, args: string[] = [], secrets: string[] = []) {
  const r = spawnSync(process.execPath, [CLI, 'audit', '--json', ...args], { cwd: db.envDir, encoding: 'utf8', timeout: 120_000, env: { PATH: process.env.PATH, LANG: 'C' } });
  for (const secret of secrets) assert.ok(!(r.stdout + r.stderr).includes(secret), 'a secret is printed');
  assert.equal(r.stderr, '');
  const report = JSON.parse(r.stdout) as { findings: JsonFinding[]; summary: Record<string, number> };
  return { status: r.status, report, bad: report.findings.filter((f) => f.severity === 'warn' || f.severity === 'fail') };
}

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

for (const engine of ENGINES) {
  test(`audit: a deployment that breaks every item draws each code (${engine})`, async (t) => {
    const db = await createGptLoadDatabase(t, engine, { keys: 30, logs: 20, authKey: WEAK_AUTH, env: { HOST: '0.0.0.0', ENABLE_CORS: 'true', ALLOWED_ORIGINS: '*', REDIS_DSN: 'redis://10.0.0.5:6379/0' } });
    if (!db) return;
    await breakDatabase(db);
    cpSync(join(FIXTURES, 'broken'), db.envDir, { recursive: true });
    chmodSync(join(db.envDir, '.env'), 0o644);
    spawnSync('git', ['init', '-q'], { cwd: db.envDir });
    spawnSync('git', ['add', '.env'], { cwd: db.envDir });
    // An AUTH_KEY rotated long ago.
    appendRecord(db.envDir, 'authKeyRotations', WEAK_AUTH, new Date(Date.now() - 200 * 86_400_000));

    const { status, report, bad } = audit(db, ['--access-log', 'access.log'], [WEAK_AUTH, GEMINI_KEY, HEADER_SECRET]);
    assert.equal(status, 1);
    const codes = new Set(bad.map((f) => f.code));
    const expected = [
      'auth-key-weak', 'auth-key-stale', 'auth-key-is-proxy-key',
      'data-not-encrypted', 'plaintext-leftover', 'key-in-logs', 'secret-in-group-config',
      'backup-missing',
      'secret-in-compose', 'env-in-git', 'env-world-readable', 'db-password-weak',
      'no-https', 'admin-exposed', 'admin-ip-unrestricted',
      'login-failures', 'proxy-auth-failures',
      'redis-no-password', 'db-no-tls', 'cors-wildcard',
    ];
    for (const code of expected) assert.ok(codes.has(code), `${code} not reported: ${JSON.stringify(report.findings.filter((f) => f.code === code))}`);

    const at = (code: string) => bad.find((f) => f.code === code)!;
    assert.match(at('no-https').file!, /conf\.d[\\/]gpt-load\.conf$/);
    assert.equal(at('no-https').line, 6);
    assert.match(at('admin-exposed').file!, /docker-compose\.yml$/);
    assert.equal(at('admin-exposed').line, 7);
    assert.ok(bad.some((f) => f.code === 'secret-in-compose' && f.line === 23 && /MYSQL_ROOT_PASSWORD/.test(f.message)));
    assert.ok(bad.some((f) => f.code === 'secret-in-compose' && f.line === 11 && /DATABASE_DSN/.test(f.message)));
    assert.match(at('login-failures').message, /12 failed admin login.*3 failed admin API/);
    assert.match(at('login-failures').message, /2026-11-30 09:00:00 – 09:05:30 \(12\)/);
    assert.match(at('login-failures').message, /203\.0\.113\.7 \(12\)/);
    assert.match(at('proxy-auth-failures').message, /15 proxy request.*192\.0\.2\.55 \(15\)/);
    assert.match(at('auth-key-weak').message, /too short/);
    assert.match(at('auth-key-stale').message, /200 days ago/);
    assert.equal(report.summary.fail + report.summary.warn, bad.length);
  });
}

/** A database encrypted under a strong key, AUTH_KEY removed from the global proxy keys. */
async function soundDeployment(t: import('node:test').TestContext, engine: (typeof ENGINES)[number]): Promise<GptLoadDatabase | undefined> {
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

for (const engine of ENGINES) {
  test(`audit: a deployment that follows every item draws no warning or failure (${engine})`, async (t) => {
    const db = await soundDeployment(t, engine);
    if (!db) return;
    const { status, report, bad } = audit(db, [], [STRONG_AUTH, STRONG_ENC]);
    assert.deepEqual(bad, []);
    assert.equal(status, 0);
    assert.equal(report.summary.unknown, 0, JSON.stringify(report.findings.filter((f) => f.severity === 'unknown')));
    // Both proxies were found in the deployment folder and judged.
    assert.equal(report.findings.filter((f) => f.code === 'admin-ip-unrestricted').length, 2);
  });
}

test('audit: a wrong and weak ENCRYPTION_KEY, no AUTH_KEY, a backup the key does not open, Traefik without TLS or IP limits', async (t) => {
  const other = 'Oth-3Kd8Lw2Qr6Tz9Vp4Xm7Nb1Hc5Gj0Ys';
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 30, encryptionKey: other, env: true });
  if (!db) return;
  const backup = spawnSync(process.execPath, [CLI, 'backup', 'create'], { cwd: db.envDir, encoding: 'utf8', env: { PATH: process.env.PATH, LANG: 'C' } });
  assert.equal(backup.status, 0, backup.stderr);
  writeFileSync(join(db.envDir, '.env'), 'ENCRYPTION_KEY=weakkey\n', { mode: 0o600 });
  writeFileSync(
    join(db.envDir, 'compose.yaml'),
    [
      'services:',
      '  gpt-load:',
      '    image: ghcr.io/tbphp/gpt-load:latest',
      '    env_file: .env',
      '    labels:',
      '      - traefik.enable=true',
      '      - traefik.http.routers.gptload.rule=Host(`gpt.example.com`)',
      '      - traefik.http.routers.gptload.entrypoints=web',
      '      - traefik.http.services.gptload.loadbalancer.server.port=3001',
      '',
    ].join('\n'),
  );
  const { status, bad } = audit(db, [], [other]);
  assert.equal(status, 1);
  const codes = new Set(bad.map((f) => f.code));
  for (const code of ['auth-key-missing', 'encryption-key-weak', 'encryption-mismatch', 'encryption-key-copies', 'backup-unchecked', 'no-https', 'admin-ip-unrestricted']) {
    assert.ok(codes.has(code), `${code} not reported`);
  }
  const traefik = bad.find((f) => f.code === 'no-https')!;
  assert.match(traefik.message, /traefik gptload/);
  assert.equal(traefik.line, 7);
  // No published port: the proxy is the only way in.
  assert.ok(!codes.has('admin-exposed'));
});

test('audit: plaintext and stale backups, an AUTH_KEY with no rotation on record, GPT-Load on every interface with no proxy', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 10, authKey: STRONG_AUTH, env: true });
  if (!db) return;
  const backup = spawnSync(process.execPath, [CLI, 'backup', 'create'], { cwd: db.envDir, encoding: 'utf8', env: { PATH: process.env.PATH, LANG: 'C' } });
  assert.equal(backup.status, 0, backup.stderr);
  const deployment = resolveDeployment({ cwd: db.envDir, processEnv: {} });
  const report = await runAudit({ deployment, openStore: () => openStore(deployment.target, { readonly: true }), now: new Date(Date.now() + 30 * 86_400_000) });
  const severity = (code: string) => report.findings.filter((f) => f.code === code).map((f) => f.severity);
  assert.deepEqual(severity('backup-stale'), ['warn']);
  assert.deepEqual(severity('backup-plaintext'), ['warn']);
  assert.deepEqual(severity('auth-key-age-unknown'), ['unknown']);
  assert.deepEqual(severity('admin-exposed'), ['fail']);
  assert.deepEqual(severity('no-https'), ['fail']);
  assert.match(report.findings.find((f) => f.code === 'admin-exposed')!.text.en, /HOST=0\.0\.0\.0/);
});
