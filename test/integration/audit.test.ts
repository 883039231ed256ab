/**
 * `audit` through dist/cli.js on deployments laid out on disk (.env, docker-compose.yml, nginx and
 * Caddy configs, GPT-Load's log in text and JSON, an access log, a GPT-Load database): one that
 * breaks every item draws each finding code; one that follows every item draws no warning or
 * failure. The database checks run on SQLite, MariaDB and PostgreSQL. No secret is ever printed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyFingerprint } from '../../server/core/crypto';
import { runAudit } from '../../server/keystore/audit/runAudit';
import { resolveDeployment } from '../../server/keystore/deployment';
import { openStore } from '../../server/store/connect';
import { brokenDeployment, CLI, GEMINI_KEY, HEADER_SECRET, soundDeployment, STRONG_AUTH, STRONG_ENC, WEAK_AUTH } from '../support/auditDeployments';
import { createGptLoadDatabase, ENGINES, type GptLoadDatabase } from '../support/databases';
import { closedPort } from '../support/gptload';

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

for (const engine of ENGINES) {
  test(`audit: a deployment that breaks every item draws each code (${engine})`, async (t) => {
    const db = await brokenDeployment(t, engine);
    if (!db) return;
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
    // The command it quotes is one the CLI takes (it once quoted a bare `--to`, which the parser refuses).
    assert.match(at('data-not-encrypted').message, /Encrypt them: gpt-load-keystore migrate-keys --generate --update-env \(/);
    assert.equal(report.summary.fail + report.summary.warn, bad.length);
  });
}

for (const engine of ENGINES) {
  test(`audit: a deployment that follows every item draws no warning or failure (${engine})`, async (t) => {
    const db = await soundDeployment(t, engine);
    if (!db) return;
    const { status, report, bad } = audit(db, [], [STRONG_AUTH, STRONG_ENC]);
    // The test servers take no password (MariaDB's root, PostgreSQL's trust): audit rightly says so.
    const expected = engine === 'sqlite' ? [] : ['db-password-empty'];
    assert.deepEqual(bad.map((f) => f.code), expected);
    assert.equal(status, expected.length > 0 ? 1 : 0);
    assert.equal(report.summary.unknown, 0, JSON.stringify(report.findings.filter((f) => f.severity === 'unknown')));
    // Both proxies were found in the deployment folder and judged.
    assert.equal(report.findings.filter((f) => f.code === 'admin-ip-unrestricted').length, 2);
    // The two master secrets by fingerprint and length only: not a character of either.
    const said = (code: string) => report.findings.find((f) => f.code === code)!.message;
    assert.match(said('auth-key-missing'), new RegExp(`^AUTH_KEY is set \\(${STRONG_AUTH.length} characters\\)\\.$`));
    assert.match(said('encryption-key-weak'), new RegExp(`^ENCRYPTION_KEY \\(fingerprint ${keyFingerprint(STRONG_ENC)}\\) passes`));
    for (const secret of [STRONG_AUTH, STRONG_ENC]) assert.ok(!JSON.stringify(report).includes(`${secret.slice(0, 4)}…`), 'no leading characters of a secret');
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
  const report = await runAudit({
    deployment,
    useStore: async (work) => {
      const store = await openStore(deployment.target, { readonly: true });
      try {
        return await work(store);
      } finally {
        await store.close();
      }
    },
    now: new Date(Date.now() + 30 * 86_400_000),
  });
  const severity = (code: string) => report.findings.filter((f) => f.code === code).map((f) => f.severity);
  assert.deepEqual(severity('backup-stale'), ['warn']);
  assert.deepEqual(severity('backup-plaintext'), ['warn']);
  assert.deepEqual(severity('auth-key-age-unknown'), ['unknown']);
  assert.deepEqual(severity('admin-exposed'), ['fail']);
  assert.deepEqual(severity('no-https'), ['fail']);
  assert.match(report.findings.find((f) => f.code === 'admin-exposed')!.text.en, /HOST=0\.0\.0\.0/);
});

test('audit: plaintext backups are to be deleted only once a backup under the key exists; without ENCRYPTION_KEY, encryption comes first', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 10, authKey: STRONG_AUTH, env: true });
  if (!db) return;
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const r = spawnSync(process.execPath, [CLI, ...args], { cwd: db.envDir, encoding: 'utf8', env: { PATH: process.env.PATH, LANG: 'C', ...env } });
    assert.equal(r.status, 0, r.stderr);
  };
  const plaintextFinding = () => audit(db).report.findings.find((f) => f.code === 'backup-plaintext') as JsonFinding & { fix?: string };
  run(['backup', 'create']);
  // Not encrypted: the plaintext backup is the only one; deleting it is not the advice.
  let advice = plaintextFinding();
  assert.equal(advice.severity, 'warn');
  assert.equal(advice.fix, 'migrate-keys');
  assert.match(advice.message, /keep them for now \(they are the only ones\).*Enable encryption first: gpt-load-keystore migrate-keys.*then take a backup under the key: gpt-load-keystore backup create; only once that backup exists, delete the plaintext ones/);
  // Encrypted, but every backup is still plaintext (migrate-keys backs up the state before it): a backup under the key first.
  run(['migrate-keys', '--to-env', 'NEW_KEY', '--update-env', '--yes'], { NEW_KEY: STRONG_ENC });
  advice = plaintextFinding();
  assert.equal(advice.fix, 'backup-create');
  assert.match(advice.message, /^2 backup\(s\) hold .*No backup is under the configured ENCRYPTION_KEY yet, so keep them until one is: take it \(gpt-load-keystore backup create\), then delete/);
  // With a backup under the key: now the plaintext ones can go.
  run(['backup', 'create']);
  advice = plaintextFinding();
  assert.equal(advice.fix, undefined);
  assert.match(advice.message, /A backup under the configured ENCRYPTION_KEY exists: delete the plaintext ones: gpt-load-keystore backup prune --plaintext$/);
});

test('audit: a MySQL or PostgreSQL DATABASE_DSN over TCP without a password is a warning naming its .env line; SQLite, a socket and a password pass', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 1, authKey: STRONG_AUTH, env: true });
  if (!db) return;
  const port = await closedPort();
  const password = 'Pw-7Hd2Kq9Lx4Rt';
  const cases: Array<[string, 'warn' | 'pass', RegExp?]> = [
    [`root:@tcp(127.0.0.1:${port})/gpt-load?charset=utf8mb4`, 'warn', new RegExp(`MySQL at 127\\.0\\.0\\.1:${port} as root with an empty password`)],
    [`root@tcp(127.0.0.1:${port})/gpt-load`, 'warn', /as root with an empty password/],
    [`gptload:${password}@tcp(127.0.0.1:${port})/gpt-load`, 'pass'],
    [`postgres://postgres@127.0.0.1:${port}/gptload?sslmode=disable`, 'warn', new RegExp(`no password for PostgreSQL at 127\\.0\\.0\\.1:${port} \\(user postgres\\)`)],
    [`postgres://postgres@127.0.0.1:${port}/gptload?password=`, 'warn', /no password for PostgreSQL/],
    [`postgres://postgres@127.0.0.1:${port}/gptload?password=${password}`, 'pass'],
    [`postgresql://postgres:${password}@127.0.0.1:${port}/gptload`, 'pass'],
    ['postgres:///gptload?host=/run/postgresql', 'pass'],
    ['data/gpt-load.db', 'pass'],
  ];
  for (const [dsn, severity, message] of cases) {
    writeFileSync(join(db.envDir, '.env'), `AUTH_KEY=${STRONG_AUTH}\n# the database\nDATABASE_DSN=${dsn}\n`, { mode: 0o600 });
    const found: JsonFinding[] = audit(db, [], [password]).report.findings.filter((f) => f.code === 'db-password-empty');
    assert.equal(found.length, 1, dsn);
    assert.equal(found[0].severity, severity, dsn);
    assert.equal(found[0].item, 'infrastructure');
    assert.equal(found[0].line, 3, dsn);
    if (message) {
      assert.match(found[0].message, message, dsn);
      assert.ok(found[0].message.startsWith(`DATABASE_DSN at ${join(db.envDir, '.env')}:3 `), found[0].message);
    }
  }
  const zh = spawnSync(process.execPath, [CLI, 'audit'], { cwd: db.envDir, encoding: 'utf8', env: { PATH: process.env.PATH, LANG: 'zh_CN.UTF-8' } });
  writeFileSync(join(db.envDir, '.env'), `AUTH_KEY=${STRONG_AUTH}\nDATABASE_DSN=root:@tcp(127.0.0.1:${port})/gpt-load\n`, { mode: 0o600 });
  const zhWarn = spawnSync(process.execPath, [CLI, 'audit'], { cwd: db.envDir, encoding: 'utf8', env: { PATH: process.env.PATH, LANG: 'zh_CN.UTF-8' } });
  assert.match(zh.stdout, /db-password-empty: 数据库为 SQLite：不涉及密码。/);
  assert.match(zhWarn.stdout, new RegExp(`db-password-empty: ${join(db.envDir, '.env').replace(/[.\\]/g, '\\$&')}:2 处的 DATABASE_DSN 以 root 身份、空密码登录 127\\.0\\.0\\.1:${port} 上的 MySQL`));
});

test('audit: a --log, --access-log or --proxy-config that is not a file is a usage error naming it', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 1, env: true });
  if (!db) return;
  for (const flag of ['--log', '--access-log', '--proxy-config']) {
    const r: SpawnSyncReturns<string> = spawnSync(process.execPath, [CLI, 'audit', flag, 'missing.log'], { cwd: db.envDir, encoding: 'utf8', env: { PATH: process.env.PATH, LANG: 'C' } });
    assert.equal(r.status, 2);
    assert.match(r.stderr, new RegExp(`${flag} missing\\.log: no such file`));
  }
});

test('audit: right after a key change the pre-change backup (under the previous key) is a warning that names its fingerprint, not a failure', async (t) => {
  const previous = 'Prv-8Hq2Wd5Lm9Tc3Vb7Xn1Kf4Gj6Ry0Zs';
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 20, encryptionKey: previous, authKey: STRONG_AUTH, env: true });
  if (!db) return;
  const env = { PATH: process.env.PATH, LANG: 'C', NEW_KEY: STRONG_ENC };
  const migrate = spawnSync(process.execPath, [CLI, 'migrate-keys', '--from-env', 'ENCRYPTION_KEY', '--to-env', 'NEW_KEY', '--update-env', '--yes'], { cwd: db.envDir, encoding: 'utf8', env });
  assert.equal(migrate.status, 0, migrate.stderr);
  const { report } = audit(db, [], [previous, STRONG_ENC]);
  const unchecked = report.findings.find((f) => f.code === 'backup-unchecked')!;
  assert.equal(unchecked.severity, 'warn');
  assert.match(unchecked.message, /another ENCRYPTION_KEY \(fingerprint [0-9a-f]+\).*backup create/);
});

test('audit: GPT-Load on the host network (network_mode: host) listens on HOST of the host itself: exposed unless HOST is loopback, whatever ports: say', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 5, encryptionKey: STRONG_ENC, authKey: STRONG_AUTH, env: true });
  if (!db) return;
  const compose = ['services:', '  gpt-load:', '    image: ghcr.io/tbphp/gpt-load:latest', '    network_mode: host', '    ports:', '      - "127.0.0.1:3001:3001"', '    env_file: .env', ''].join('\n');
  writeFileSync(join(db.envDir, 'docker-compose.yml'), compose);
  const exposed = audit(db, [], [STRONG_AUTH, STRONG_ENC]).report.findings.find((f) => f.code === 'admin-exposed')!;
  assert.equal(exposed.severity, 'fail');
  assert.match(exposed.message, /network_mode: host, HOST=0\.0\.0\.0/);
  assert.match(exposed.message, /HOST=127\.0\.0\.1 in \.env/);
  assert.equal(exposed.line, 4);
  writeFileSync(join(db.envDir, '.env'), `${readFileSync(join(db.envDir, '.env'), 'utf8')}HOST=127.0.0.1\n`);
  assert.equal(audit(db, [], [STRONG_AUTH, STRONG_ENC]).report.findings.find((f) => f.code === 'admin-exposed')!.severity, 'pass');
});

test('audit: after encryption is enabled, a newest backup in plaintext (taken before) is a warning to back up under the key', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 20, authKey: STRONG_AUTH, env: true });
  if (!db) return;
  const env = { PATH: process.env.PATH, LANG: 'C', NEW_KEY: STRONG_ENC };
  const migrate = spawnSync(process.execPath, [CLI, 'migrate-keys', '--to-env', 'NEW_KEY', '--update-env', '--yes'], { cwd: db.envDir, encoding: 'utf8', env });
  assert.equal(migrate.status, 0, migrate.stderr);
  const unchecked = audit(db, [], [STRONG_ENC]).report.findings.find((f) => f.code === 'backup-unchecked')!;
  assert.equal(unchecked.severity, 'warn');
  assert.match(unchecked.message, /plaintext, from before encryption was enabled.*backup create/);
});
