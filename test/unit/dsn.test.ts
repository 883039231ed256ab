import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { KeystoreError } from '../../server/core/errors';
import { describeTarget, overrideHost, parseGoDuration, resolveDsn, type DatabaseTarget } from '../../server/store/dsn';

const ENV_DIR = resolve('/srv/gpt-load');

function usageError(fn: () => unknown, secret?: string): KeystoreError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof KeystoreError, `expected KeystoreError, got ${String(err)}`);
    assert.equal(err.code, 'usage');
    if (secret) {
      assert.ok(!err.text.en.includes(secret), 'password in the English message');
      assert.ok(!err.text.zh.includes(secret), 'password in the Chinese message');
    }
    return err;
  }
  assert.fail('expected a usage error');
}

function mysql(dsn: string) {
  const target = resolveDsn(dsn, ENV_DIR);
  assert.equal(target.kind, 'mysql');
  return target;
}

test('empty DSN is GPT-Load default SQLite file beside .env', () => {
  assert.deepEqual(resolveDsn('', ENV_DIR), { kind: 'sqlite', path: join(ENV_DIR, 'data', 'gpt-load.db') });
  assert.deepEqual(resolveDsn('  ', ENV_DIR), { kind: 'sqlite', path: join(ENV_DIR, 'data', 'gpt-load.db') });
});

test('other DSNs are SQLite paths, relative to the .env folder', () => {
  assert.deepEqual(resolveDsn('./data/gpt-load.db', ENV_DIR), { kind: 'sqlite', path: join(ENV_DIR, 'data', 'gpt-load.db') });
  assert.deepEqual(resolveDsn('keys.db', ENV_DIR), { kind: 'sqlite', path: join(ENV_DIR, 'keys.db') });
  assert.deepEqual(resolveDsn('../elsewhere/gpt.db', ENV_DIR), { kind: 'sqlite', path: resolve(ENV_DIR, '..', 'elsewhere', 'gpt.db') });
  assert.deepEqual(resolveDsn('/var/lib/gpt-load/db.sqlite', ENV_DIR), { kind: 'sqlite', path: '/var/lib/gpt-load/db.sqlite' });
  // GPT-Load appends ?_busy_timeout=5000 and its driver accepts file: URIs: neither is part of the name.
  assert.deepEqual(resolveDsn('file:./data/x.db?_pragma=journal_mode(WAL)', ENV_DIR), { kind: 'sqlite', path: join(ENV_DIR, 'data', 'x.db') });
});

test('postgres:// and postgresql:// URLs keep the URL (sslmode and all)', () => {
  const url = 'postgres://postgres:123456@postgres:5432/gpt-load?sslmode=disable';
  assert.deepEqual(resolveDsn(url, ENV_DIR), { kind: 'postgres', url, host: 'postgres', port: 5432, user: 'postgres', database: 'gpt-load' });
  const ql = 'postgresql://app:p%40ss%3Aw%2Frd@db.internal/keys?sslmode=require&connect_timeout=10';
  assert.deepEqual(resolveDsn(ql, ENV_DIR), { kind: 'postgres', url: ql, host: 'db.internal', port: 5432, user: 'app', database: 'keys' });
  const v6 = resolveDsn('postgres://u@[::1]:6543/', ENV_DIR);
  assert.deepEqual(v6, { kind: 'postgres', url: 'postgres://u@[::1]:6543/', host: '::1', port: 6543, user: 'u', database: 'u' });
  usageError(() => resolveDsn('postgres://user:secret@host:notaport/db', ENV_DIR), 'secret');
});

test('the MySQL DSN from GPT-Load docs', () => {
  assert.deepEqual(mysql('root:123456@tcp(mysql:3306)/gpt-load?charset=utf8mb4&parseTime=True&loc=Local'), {
    kind: 'mysql',
    host: 'mysql',
    port: 3306,
    user: 'root',
    password: '123456',
    database: 'gpt-load',
    params: { charset: 'utf8mb4', parseTime: 'True', loc: 'Local' },
  });
});

test('MySQL passwords may contain ":", "@" and "/" (last "/", last "@" before it, first ":")', () => {
  const t = mysql('app:p@ss:w/rd@@tcp(db.example.com:3307)/gpt?tls=skip-verify');
  assert.equal(t.user, 'app');
  assert.equal(t.password, 'p@ss:w/rd@');
  assert.equal(t.host, 'db.example.com');
  assert.equal(t.port, 3307);
  assert.equal(t.database, 'gpt');
  assert.equal(t.params.tls, 'skip-verify');
  // The driver does not unescape passwords.
  assert.equal(mysql('u:a%40b@tcp(h)/d').password, 'a%40b');
});

test('MySQL without password, port or address', () => {
  assert.deepEqual({ ...mysql('root@tcp(127.0.0.1:3306)/db') }, { kind: 'mysql', host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'db', params: {} });
  assert.equal(mysql('root:@tcp(h:1)/db').password, '');
  assert.equal(mysql('u:p@tcp(mysql)/db').port, 3306);
  const bare = mysql('u:p@tcp/db');
  assert.equal(bare.host, '127.0.0.1');
  assert.equal(bare.port, 3306);
  const v6 = mysql('u:p@tcp([::1]:3307)/db');
  assert.equal(v6.host, '::1');
  assert.equal(v6.port, 3307);
  assert.equal(mysql('u:p@tcp6([fe80::1])/db').host, 'fe80::1');
  assert.equal(mysql('u:p@tcp(h:3306)/gpt%2Dload').database, 'gpt-load');
  assert.equal(mysql('u:p@tcp(h:3306)/').database, '');
});

test('MySQL parameters: tls forms, escapes, durations, last duplicate wins', () => {
  for (const [value, expected] of [
    ['true', 'true'],
    ['1', 'true'],
    ['TRUE', 'true'],
    ['false', 'false'],
    ['0', 'false'],
    ['skip-verify', 'skip-verify'],
    ['PREFERRED', 'preferred'],
  ]) {
    assert.equal(mysql(`u:p@tcp(h)/d?tls=${value}`).params.tls, expected, value);
  }
  usageError(() => mysql('u:secret@tcp(h)/d?tls=custom'), 'secret');
  const params = mysql('u:p@tcp(h)/d?loc=Asia%2FShanghai&timeout=1m30s&readTimeout=500ms&flag&charset=utf8mb4,utf8&time_zone=%27%2B08%3A00%27&x=1&x=2').params;
  assert.deepEqual(params, { loc: 'Asia/Shanghai', timeout: '1m30s', readTimeout: '500ms', charset: 'utf8mb4,utf8', time_zone: "'+08:00'", x: '2' });
  usageError(() => mysql('u:secret@tcp(h)/d?timeout=10'), 'secret');
  usageError(() => mysql('u:secret@tcp(h)/d?parseTime=yes'), 'secret');
  // go-sql-driver refuses an unescaped "/" in a parameter (the last "/" would fall inside it).
  usageError(() => mysql('u:secret@tcp(h:3306)/gpt-load?loc=Asia/Shanghai'), 'secret');
});

test('malformed MySQL DSNs are usage errors that never quote the password', () => {
  usageError(() => resolveDsn('root:s3cr3t!@tcp(mysql:3306)', ENV_DIR), 's3cr3t!');
  usageError(() => resolveDsn('root:s3cr3t!@tcp(mysql:3306/gpt-load', ENV_DIR), 's3cr3t!');
  usageError(() => resolveDsn('root:s3cr3t!@tcpx(mysql:3306)/gpt-load', ENV_DIR), 's3cr3t!');
  usageError(() => resolveDsn('root:s3cr3t!@tcp(mysql:99999)/gpt-load', ENV_DIR), 's3cr3t!');
  usageError(() => resolveDsn('root:s3cr3t!@tcp(mysql:3306)/gpt%zzload', ENV_DIR), 's3cr3t!');
});

test('Go durations', () => {
  assert.equal(parseGoDuration('10s'), 10_000);
  assert.equal(parseGoDuration('1m30s'), 90_000);
  assert.equal(parseGoDuration('1.5h'), 5_400_000);
  assert.equal(parseGoDuration('250ms'), 250);
  assert.equal(parseGoDuration('0'), 0);
  assert.equal(parseGoDuration(''), null);
  assert.equal(parseGoDuration('10'), null);
  assert.equal(parseGoDuration('abc'), null);
});

test('--db-host overrides host and port, keeping database and credentials', () => {
  const my = mysql('root:pw@tcp(mysql:3306)/gpt-load?charset=utf8mb4');
  assert.deepEqual(overrideHost(my, '127.0.0.1:13306'), { ...my, host: '127.0.0.1', port: 13306 });
  assert.deepEqual(overrideHost(my, 'db.local'), { ...my, host: 'db.local', port: 3306 });
  assert.deepEqual(overrideHost(my, ':3307'), { ...my, port: 3307 });
  assert.deepEqual(overrideHost(my, '[::1]:3308'), { ...my, host: '::1', port: 3308 });

  const pg = resolveDsn('postgres://postgres:p%40ss@postgres:5432/gpt-load?sslmode=disable', ENV_DIR);
  const moved = overrideHost(pg, 'localhost:15432');
  assert.deepEqual(moved, {
    kind: 'postgres',
    url: 'postgres://postgres:p%40ss@localhost:15432/gpt-load?sslmode=disable',
    host: 'localhost',
    port: 15432,
    user: 'postgres',
    database: 'gpt-load',
  });
  assert.equal((overrideHost(pg, '10.0.0.5') as Extract<DatabaseTarget, { kind: 'postgres' }>).url, 'postgres://postgres:p%40ss@10.0.0.5:5432/gpt-load?sslmode=disable');

  usageError(() => overrideHost(resolveDsn('', ENV_DIR), 'localhost'));
  usageError(() => overrideHost(my, 'localhost:0'));
  usageError(() => overrideHost(my, 'localhost:port'));
});

test('describeTarget is safe for logs: never the password', () => {
  const cases: Array<[string, string, string]> = [
    ['root:Sup3r:S@cret/x@tcp(mysql:3306)/gpt-load?tls=true', 'Sup3r:S@cret/x', 'mysql root@mysql:3306/gpt-load'],
    ['postgres://admin:Pg%23Secret@db:5432/gpt-load?sslmode=require', 'Pg%23Secret', 'postgres admin@db:5432/gpt-load'],
    ['u:hunter2@tcp([::1]:3306)/k', 'hunter2', 'mysql u@[::1]:3306/k'],
  ];
  for (const [dsn, password, expected] of cases) {
    const target = resolveDsn(dsn, ENV_DIR);
    const described = describeTarget(target);
    assert.equal(described, expected);
    assert.ok(!described.includes(password));
    assert.ok(!describeTarget(overrideHost(target, '127.0.0.1:1')).includes(password));
  }
  assert.ok(!describeTarget(resolveDsn('postgres://admin:Pg%23Secret@db/gpt', ENV_DIR)).includes('Pg#Secret'));
  assert.equal(describeTarget(resolveDsn('', ENV_DIR)), `sqlite ${join(ENV_DIR, 'data', 'gpt-load.db')}`);
});
