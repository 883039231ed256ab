import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeystoreError } from '../../server/core/errors';
import { resolveDeployment, type DeploymentOptions } from '../../server/keystore/deployment';
import { REPO_ROOT } from '../support/paths';

const CLI = join(REPO_ROOT, 'dist', 'cli.js');
const FILE_DSN = 'root:file-pass@tcp(mysql:3306)/gpt-load?charset=utf8mb4&parseTime=True&loc=Local';
const PROCESS_DSN = 'postgres://postgres:proc-pass@postgres:5432/gpt-load?sslmode=disable';
const FLAG_DSN = 'flag.db';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'glk-deployment-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function resolveIn(cwd: string, options: Partial<DeploymentOptions> = {}) {
  return resolveDeployment({ cwd, processEnv: {}, ...options });
}

test('no .env: SQLite ./data/gpt-load.db in the working directory, encryption off, service on 127.0.0.1:3001', (t) => {
  const dir = tempDir(t);
  const d = resolveIn(dir);
  assert.equal(d.env.exists, false);
  assert.equal(d.envPath, join(dir, '.env'));
  assert.deepEqual(d.target, { kind: 'sqlite', path: join(dir, 'data', 'gpt-load.db') });
  assert.equal(d.dsnSource, 'default');
  assert.equal(d.encryptionKey, '');
  assert.deepEqual(d.service, { host: '127.0.0.1', port: 3001 });
  assert.equal(d.redisDsn, '');
});

test('DATABASE_DSN: --dsn, then the process environment, then .env, then the default', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, '.env'), `DATABASE_DSN=${FILE_DSN}\nREDIS_DSN=redis://redis:6379/0\n`);

  const fromFile = resolveIn(dir);
  assert.equal(fromFile.dsnSource, 'file');
  assert.equal(fromFile.target.kind, 'mysql');
  assert.equal(fromFile.targetLabel, 'mysql root@mysql:3306/gpt-load');
  assert.equal(fromFile.redisDsn, 'redis://redis:6379/0');

  const fromProcess = resolveIn(dir, { processEnv: { DATABASE_DSN: PROCESS_DSN } });
  assert.equal(fromProcess.dsnSource, 'process');
  assert.equal(fromProcess.target.kind, 'postgres');
  assert.equal(fromProcess.targetLabel, 'postgres postgres@postgres:5432/gpt-load');

  const fromFlag = resolveIn(dir, { dsn: FLAG_DSN, processEnv: { DATABASE_DSN: PROCESS_DSN } });
  assert.equal(fromFlag.dsnSource, 'flag');
  assert.deepEqual(fromFlag.target, { kind: 'sqlite', path: join(dir, FLAG_DSN) });

  // godotenv.Load keeps a variable the process has, even empty: GPT-Load then uses its default SQLite file.
  const emptyInProcess = resolveIn(dir, { processEnv: { DATABASE_DSN: '' } });
  assert.equal(emptyInProcess.dsnSource, 'default');
  assert.deepEqual(emptyInProcess.target, { kind: 'sqlite', path: join(dir, 'data', 'gpt-load.db') });

  for (const d of [fromFile, fromProcess, fromFlag]) assert.doesNotMatch(d.targetLabel, /pass/, 'label without password');
});

test('ENCRYPTION_KEY: the process environment wins over .env, even when empty', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, '.env'), 'ENCRYPTION_KEY=from-the-file-0123456789\n');
  assert.equal(resolveIn(dir).encryptionKey, 'from-the-file-0123456789');
  assert.equal(resolveIn(dir, { processEnv: { ENCRYPTION_KEY: 'from-the-process-0123456789' } }).encryptionKey, 'from-the-process-0123456789');
  assert.equal(resolveIn(dir, { processEnv: { ENCRYPTION_KEY: '' } }).encryptionKey, '');
  assert.equal(resolveIn(dir, { processEnv: { OTHER: 'x' } }).encryptionKey, 'from-the-file-0123456789');
});

test('--env elsewhere: relative SQLite paths and the default database resolve beside that .env, not the working directory', (t) => {
  const dir = tempDir(t);
  const deploymentDir = join(dir, 'srv', 'gpt-load');
  const elsewhere = join(dir, 'home');
  mkdirSync(deploymentDir, { recursive: true });
  mkdirSync(elsewhere);
  const envFile = join(deploymentDir, '.env');

  writeFileSync(envFile, 'PORT=3001\n');
  const byDefault = resolveIn(elsewhere, { envFile });
  assert.equal(byDefault.envDir, deploymentDir);
  assert.deepEqual(byDefault.target, { kind: 'sqlite', path: join(deploymentDir, 'data', 'gpt-load.db') });

  writeFileSync(envFile, 'DATABASE_DSN=./data/custom.db\n');
  assert.deepEqual(resolveIn(elsewhere, { envFile }).target, { kind: 'sqlite', path: join(deploymentDir, 'data', 'custom.db') });
  // A relative --env is taken from the working directory.
  assert.deepEqual(resolveIn(dir, { envFile: 'srv/gpt-load/.env' }).target, { kind: 'sqlite', path: join(deploymentDir, 'data', 'custom.db') });

  writeFileSync(envFile, `DATABASE_DSN=${join(dir, 'abs.db')}\n`);
  assert.deepEqual(resolveIn(elsewhere, { envFile }).target, { kind: 'sqlite', path: join(dir, 'abs.db') });
});

test('--db-host replaces the Compose service name, keeping credentials and database; refused for SQLite', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, '.env'), `DATABASE_DSN=${FILE_DSN}\n`);
  const mysql = resolveIn(dir, { dbHost: '127.0.0.1:13306' });
  assert.equal(mysql.target.kind, 'mysql');
  if (mysql.target.kind === 'mysql') {
    assert.equal(mysql.target.host, '127.0.0.1');
    assert.equal(mysql.target.port, 13306);
    assert.equal(mysql.target.user, 'root');
    assert.equal(mysql.target.password, 'file-pass');
    assert.equal(mysql.target.database, 'gpt-load');
  }
  const portKept = resolveIn(dir, { dbHost: 'db.internal' });
  assert.equal(portKept.targetLabel, 'mysql root@db.internal:3306/gpt-load');

  const postgres = resolveIn(dir, { processEnv: { DATABASE_DSN: PROCESS_DSN }, dbHost: '127.0.0.1' });
  assert.equal(postgres.targetLabel, 'postgres postgres@127.0.0.1:5432/gpt-load');
  if (postgres.target.kind === 'postgres') assert.match(postgres.target.url, /^postgres:\/\/postgres:proc-pass@127\.0\.0\.1:5432\/gpt-load\?sslmode=disable$/);

  assert.throws(() => resolveIn(dir, { dsn: 'x.db', dbHost: '127.0.0.1' }), (err: unknown) => err instanceof KeystoreError && err.code === 'usage');
});

test('HOST/PORT: where /health answers — 0.0.0.0 and :: are probed on 127.0.0.1', (t) => {
  const dir = tempDir(t);
  const service = (env: string, processEnv: NodeJS.ProcessEnv = {}) => {
    writeFileSync(join(dir, '.env'), env);
    return resolveIn(dir, { processEnv }).service;
  };
  assert.deepEqual(service('HOST=0.0.0.0\nPORT=3001\n'), { host: '127.0.0.1', port: 3001 });
  assert.deepEqual(service('HOST=::\nPORT=8080\n'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(service('HOST=\nPORT=\n'), { host: '127.0.0.1', port: 3001 });
  assert.deepEqual(service('HOST=192.168.10.5\nPORT=3005\n'), { host: '192.168.10.5', port: 3005 });
  assert.deepEqual(service('HOST=0.0.0.0\nPORT=3001\n', { PORT: '4001' }), { host: '127.0.0.1', port: 4001 });
  assert.deepEqual(service('PORT=not-a-port\n'), { host: '127.0.0.1', port: 3001 });
});

const FAKE_SECRET = 'sk-FAKE-secret-Zq81Lm0Xv2Wn7Rt4';
const REFUSED_FILES: Array<[string, string]> = [
  ['a hyphen in a key name', `AUTH_KEY=${FAKE_SECRET}\nMY-KEY=${FAKE_SECRET}\nENCRYPTION_KEY=${FAKE_SECRET}\n`],
  ['an unterminated quote', `PORT=3001\nENCRYPTION_KEY="${FAKE_SECRET}\nAUTH_KEY=${FAKE_SECRET}\n`],
  ['a line without "="', `AUTH_KEY=${FAKE_SECRET}\n${FAKE_SECRET}\n`],
];

test('a .env godotenv refuses: env-parse naming file and position, quoting none of its content', (t) => {
  const dir = tempDir(t);
  for (const [what, text] of REFUSED_FILES) {
    writeFileSync(join(dir, '.env'), text);
    assert.throws(
      () => resolveIn(dir),
      (err: unknown) => {
        assert.ok(err instanceof KeystoreError, what);
        assert.equal(err.code, 'env-parse', what);
        for (const message of [err.text.en, err.text.zh]) {
          assert.ok(message.includes(join(dir, '.env')), `${what}: names the file`);
          assert.match(message, /line \d+, column \d+|第 \d+ 行第 \d+ 列/, `${what}: names the position`);
          assert.ok(!message.includes(FAKE_SECRET) && !message.includes('Zq81'), `${what}: no file content in "${message}"`);
        }
        assert.match(err.text.en, /GPT-Load ignores all of it/);
        return true;
      },
    );
  }
});

test('through the CLI: a refused .env exits 3 with the same message on every deployment command, no secret printed', (t) => {
  const dir = tempDir(t);
  for (const [what, text] of REFUSED_FILES) {
    writeFileSync(join(dir, '.env'), text);
    for (const args of [['status'], ['keys', 'list'], ['status', '--json'], ['encrypt', '--env', '.env']]) {
      const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8', input: 'sk-x\n', env: { PATH: process.env.PATH, LANG: 'C' } });
      assert.equal(r.status, 3, `${what}, ${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /godotenv refuses this file/);
      assert.equal(r.stdout, '');
      assert.ok(!r.stderr.includes(FAKE_SECRET) && !r.stderr.includes('Zq81'), `${what}, ${args.join(' ')}: secret in stderr: ${r.stderr}`);
    }
    const zh = spawnSync(process.execPath, [CLI, 'status', '--lang', 'zh-CN'], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH } });
    assert.equal(zh.status, 3);
    assert.match(zh.stderr, /godotenv 无法解析此文件/);
    assert.ok(!zh.stderr.includes(FAKE_SECRET));
  }
});
