import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codecFor } from '../../server/core/crypto';
import { KeystoreError, type ErrorCode } from '../../server/core/errors';
import { countOtherSessions, loadBetterSqlite3, openStore, type Store } from '../../server/store/connect';
import { describeTarget, overrideHost, resolveDsn, type DatabaseTarget } from '../../server/store/dsn';
import {
  countRows,
  iterateKeyRows,
  iterateLogRows,
  listGroups,
  listKeys,
  readSetting,
  sampleHashedKeys,
  type KeyRow,
} from '../../server/store/rows';
import { createGptLoadDatabase, ENGINES, SERVER_ENGINES } from '../support/databases';
import { REPO_ROOT } from '../support/paths';

const ENCRYPTION_KEY = 'my-32-char-secret-key-AbCdEf012345!';
const codec = codecFor(ENCRYPTION_KEY);

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, secret?: string): Promise<KeystoreError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof KeystoreError, `expected KeystoreError(${code}), got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.ok(err.text.zh.length > 0, 'Chinese message');
    if (secret) assert.ok(!err.text.en.includes(secret) && !err.text.zh.includes(secret), 'secret in message');
    return err;
  }
  assert.fail(`expected KeystoreError(${code})`);
}

async function collectKeys(store: Store, options: Parameters<typeof iterateKeyRows>[1]): Promise<KeyRow[]> {
  const rows: KeyRow[] = [];
  for await (const batch of iterateKeyRows(store, options)) {
    assert.ok(batch.length > 0 && batch.length <= options.batchSize);
    rows.push(...batch);
  }
  return rows;
}

function assertIdOrder(ids: number[]): void {
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i] > ids[i - 1], `id ${ids[i]} after ${ids[i - 1]}`);
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A TCP server that accepts connections and never says a word (a wedged or wrong service). */
async function silentServer(t: { after(fn: () => Promise<void>): void }): Promise<number> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as { port: number }).port;
}

for (const engine of ENGINES) {
  test(`opens a GPT-Load database and pages every key and log exactly once on ${engine}`, async (t) => {
    const db = await createGptLoadDatabase(t, engine, { keys: 250, logs: 120, encryptionKey: ENCRYPTION_KEY, includeVectorRows: true });
    if (!db) return;
    const store = await db.open();
    assert.equal(store.kind, engine);
    assert.equal(store.target, db.target);
    const total = db.plaintexts.size;
    assert.ok(total > 250, 'vector rows included');
    assert.equal(await countRows(store, 'api_keys'), total);
    assert.equal(await countRows(store, 'request_logs'), 120);

    const rows = await collectKeys(store, { batchSize: 37 });
    assertIdOrder(rows.map((r) => r.id));
    assert.deepEqual(
      rows.map((r) => r.id),
      [...db.plaintexts.keys()].sort((a, b) => a - b),
    );
    for (const row of rows) {
      const plaintext: string = db.plaintexts.get(row.id)!;
      assert.equal(codec.decrypt(row.key_value, row.id), plaintext);
      assert.equal(row.key_hash, codec.hash(plaintext));
      assert.equal(typeof row.group_id, 'number');
      assert.equal(typeof row.request_count, 'number');
      assert.match(row.created_at ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z?$/);
      if (row.last_used_at !== null) assert.match(row.last_used_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z?$/);
    }
    assert.ok(rows.some((r) => r.notes !== ''), 'some keys carry notes');
    assert.ok(rows.some((r) => r.last_used_at === null), 'some keys were never used');

    // Resuming after an id continues exactly where a page ended.
    const resumed = await collectKeys(store, { batchSize: 100, afterId: rows[99].id });
    assert.deepEqual(
      resumed.map((r) => r.id),
      rows.slice(100).map((r) => r.id),
    );

    const logIds: string[] = [];
    for await (const batch of iterateLogRows(store, { batchSize: 17 })) {
      for (const log of batch) {
        logIds.push(log.id);
        const plaintext = codec.decrypt(log.key_value, log.id);
        assert.equal(log.key_hash, codec.hash(plaintext));
      }
    }
    assert.equal(logIds.length, 120);
    assert.equal(new Set(logIds).size, 120, 'every log row exactly once');
  });

  test(`filters, pages, groups, samples and settings on ${engine}`, async (t) => {
    const db = await createGptLoadDatabase(t, engine, { keys: 300, logs: 0, encryptionKey: '' });
    if (!db) return;
    const store = await db.open();
    const seeded = db.seeded!;

    const groups = await listGroups(store);
    assert.deepEqual(groups, seeded.groups);
    assert.ok(groups.some((g) => g.group_type === 'aggregate' && g.active + g.invalid === 0));
    assert.deepEqual(new Set(groups.map((g) => g.channel_type)), new Set(['openai', 'gemini', 'anthropic']));

    for (const group of groups.filter((g) => g.active + g.invalid > 0)) {
      const invalid = await collectKeys(store, { batchSize: 7, groupId: group.id, status: 'invalid' });
      assert.equal(invalid.length, group.invalid);
      assert.ok(invalid.every((r) => r.group_id === group.id && r.status === 'invalid'));

      const seen: number[] = [];
      let afterId: number | undefined;
      for (;;) {
        const page = await listKeys(store, { groupId: group.id, limit: 25, afterId });
        assert.ok(page.rows.length <= 25);
        seen.push(...page.rows.map((r) => r.id));
        if (page.nextAfterId === null) break;
        assert.equal(page.rows.length, 25);
        assert.equal(page.nextAfterId, page.rows[24].id);
        afterId = page.nextAfterId;
      }
      assertIdOrder(seen);
      assert.equal(seen.length, group.active + group.invalid);
    }

    const [id, plaintext]: [number, string] = [...db.plaintexts.entries()][41];
    const found = await listKeys(store, { keyHash: codecFor('').hash(plaintext), limit: 5 });
    assert.deepEqual(
      found.rows.map((r) => r.id),
      [id],
    );
    assert.equal(found.rows[0].key_value, plaintext, 'encryption disabled: stored as plaintext');
    assert.equal(found.nextAfterId, null);

    const sample = await sampleHashedKeys(store);
    const first = await listKeys(store, { limit: 20 });
    assert.deepEqual(
      sample,
      first.rows.map((r) => ({ key_value: r.key_value, key_hash: r.key_hash })),
    );
    assert.equal((await sampleHashedKeys(store, 3)).length, 3);

    assert.equal(await readSetting(store, 'proxy_keys'), seeded.authKey);
    assert.equal(await readSetting(store, 'no_such_setting'), null);
  });

  test(`transactions commit, roll back, and refuse the store used inside them on ${engine}`, async (t) => {
    const db = await createGptLoadDatabase(t, engine, { keys: 5, logs: 0, encryptionKey: '' });
    if (!db) return;
    const store = await db.open();
    const notes = async (id: number) => (await store.query<{ notes: string }>(`SELECT notes FROM api_keys WHERE id = ${store.p(1)}`, [id]))[0].notes;
    const changed = await store.transaction((tx) => tx.execute(`UPDATE api_keys SET notes = ${tx.p(1)} WHERE id IN (1, 2)`, ['committed']));
    assert.equal(changed, 2);
    assert.equal(await notes(1), 'committed');
    await assert.rejects(
      store.transaction(async (tx) => {
        await tx.execute(`UPDATE api_keys SET notes = ${tx.p(1)} WHERE id = 3`, ['rolled back']);
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.notEqual(await notes(3), 'rolled back');
    await rejectsWith(
      store.transaction(() => store.query('SELECT 1')),
      'internal',
    );
    // The store still works afterwards (no lock or connection left behind).
    assert.equal(await countRows(store, 'api_keys'), 5);
  });

  test(`an empty database is not-gpt-load-database on ${engine}`, async (t) => {
    const db = await createGptLoadDatabase(t, engine, { schema: false });
    if (!db) return;
    const err = await rejectsWith(openStore(db.target), 'not-gpt-load-database');
    assert.ok(err.text.en.includes(describeTarget(db.target)));
  });

  test(`a missing database is database-missing on ${engine}`, async (t) => {
    const db = await createGptLoadDatabase(t, engine, { schema: false });
    if (!db) return;
    let missing: DatabaseTarget;
    if (db.target.kind === 'sqlite') missing = { kind: 'sqlite', path: join(db.envDir, 'nowhere', 'gpt-load.db') };
    else if (db.target.kind === 'mysql') missing = { ...db.target, database: 'glk_test_no_such_database' };
    else missing = resolveDsn(db.dsn.replace(/\/glk_test_[0-9a-f]+/, '/glk_test_no_such_database'), db.envDir);
    await rejectsWith(openStore(missing), 'database-missing');
    if (missing.kind === 'sqlite') assert.ok(!existsSync(join(db.envDir, 'nowhere')), 'nothing created');
  });
}

for (const engine of SERVER_ENGINES) {
  test(`connection failures map to clear codes and never hang on ${engine}`, async (t) => {
    const db = await createGptLoadDatabase(t, engine, { keys: 1, logs: 0, encryptionKey: '' });
    if (!db) return;

    await rejectsWith(openStore(overrideHost(db.target, `127.0.0.1:${await closedPort()}`)), 'connection-refused');

    const timeout = await rejectsWith(openStore(overrideHost(db.target, `127.0.0.1:${await silentServer(t)}`), { timeoutMs: 400 }), 'connection-timeout');
    assert.match(timeout.text.en, /400 ms/);

    const hosts = ['gpt-load-no-such-host.invalid', engine];
    for (const host of hosts) {
      if (await lookup(host).then(() => true, () => false)) {
        t.diagnostic(`${host} resolves on this machine: host-not-found not checked for it`);
        continue;
      }
      const err = await rejectsWith(openStore(overrideHost(db.target, host), { timeoutMs: 3000 }), 'host-not-found');
      assert.match(err.text.en, /Docker Compose/);
      assert.match(err.text.en, /--db-host HOST\[:PORT\]/);
      assert.match(err.text.en, /--dsn/);
      assert.match(err.text.zh, /--db-host/);
    }
  });

  test(`countOtherSessions sees a second connection but not our own pool on ${engine}`, async (t) => {
    const db = await createGptLoadDatabase(t, engine, { keys: 20, logs: 0, encryptionKey: '' });
    if (!db) return;
    const store = await db.open();
    // Several statements at once make the pool open more than one connection of ours.
    await Promise.all(Array.from({ length: 4 }, () => store.query(engine === 'mysql' ? 'SELECT SLEEP(0.05) AS s' : 'SELECT pg_sleep(0.05)')));
    const before = await countOtherSessions(store);
    assert.equal(before, 0);
    const target = db.target;
    let end: () => Promise<void>;
    if (target.kind === 'mysql') {
      const mysql = require('mysql2/promise') as typeof import('mysql2/promise');
      const other = await mysql.createConnection({ host: target.host, port: target.port, user: target.user, password: target.password, database: target.database });
      end = () => other.end();
    } else {
      assert.equal(target.kind, 'postgres');
      const { Client } = require('pg') as typeof import('pg');
      const other = new Client({ connectionString: target.url });
      await other.connect();
      end = () => other.end();
    }
    try {
      assert.equal(await countOtherSessions(store), 1);
    } finally {
      await end();
    }
  });
}

test('a wrong MySQL password is auth-refused, without the password in the message', async (t) => {
  const db = await createGptLoadDatabase(t, 'mysql', { keys: 1, logs: 0, encryptionKey: '' });
  if (!db || db.target.kind !== 'mysql') return;
  await rejectsWith(openStore({ ...db.target, password: 'definitely-Wrong-Pa55' }), 'auth-refused', 'definitely-Wrong-Pa55');
});

// PostgreSQL under trust authentication accepts any password, so a wrong password cannot be refused;
// an unknown role is (SQLSTATE 28000), which exercises the same mapping.
test('an unknown PostgreSQL role is auth-refused', async (t) => {
  const db = await createGptLoadDatabase(t, 'postgres', { keys: 1, logs: 0, encryptionKey: '' });
  if (!db) return;
  const url = new URL(db.dsn);
  url.username = 'glk_no_such_role';
  url.password = 'Secret-Pa55';
  await rejectsWith(openStore(resolveDsn(url.toString(), db.envDir)), 'auth-refused', 'Secret-Pa55');
});

test('countOtherSessions is null on SQLite', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 1, logs: 0, encryptionKey: '' });
  if (!db) return;
  assert.equal(await countOtherSessions(await db.open()), null);
});

test('SQLite files that are not GPT-Load databases are refused without being changed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'glk-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const text = join(dir, 'notes.txt');
  writeFileSync(text, 'not a database at all, just some text that is long enough to have a header page……'.repeat(20));
  await rejectsWith(openStore({ kind: 'sqlite', path: text }), 'not-gpt-load-database');
  await rejectsWith(openStore({ kind: 'sqlite', path: dir }), 'database-missing');
});

/** A second process holding SQLite's write lock (better-sqlite3 waits synchronously, so it cannot be us). */
function lockHolder(path: string, releaseAfterMs: number | null) {
  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(process.argv[1]);
    db.exec('BEGIN IMMEDIATE');
    db.prepare("UPDATE api_keys SET notes = 'held' WHERE id = 1").run();
    const release = () => { db.exec('COMMIT'); db.close(); process.exit(0); };
    process.stdout.write('locked\\n');
    const after = Number(process.argv[2]);
    if (after >= 0) setTimeout(release, after);
    process.stdin.once('data', release);
  `;
  const child = spawn(process.execPath, ['-e', script, path, String(releaseAfterMs ?? -1)], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const locked = new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`lock holder exited early (${code})`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { locked, exited, release: () => child.stdin.end('go\n') };
}

test('SQLite waits for a write lock within the busy timeout, then reports "database is locked" clearly', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 10, logs: 0, encryptionKey: '' });
  if (!db || db.target.kind !== 'sqlite') return;
  const path = db.target.path;

  // Held longer than our busy timeout: a KeystoreError, not a crash; the store stays usable.
  const impatient = await db.open({ busyTimeoutMs: 150 });
  const holder = lockHolder(path, null);
  await holder.locked;
  const err = await rejectsWith(impatient.execute("UPDATE api_keys SET notes = 'ours' WHERE id = 2"), 'connection-timeout');
  assert.equal(err.details?.reason, 'database-locked');
  assert.match(err.text.en, /locked/);
  await rejectsWith(impatient.transaction((tx) => tx.execute("UPDATE api_keys SET notes = 'ours' WHERE id = 2")), 'connection-timeout');
  // Reading is not blocked by a pending writer.
  assert.equal(await countRows(impatient, 'api_keys'), 10);
  holder.release();
  assert.equal(await holder.exited, 0);
  assert.equal(await impatient.execute("UPDATE api_keys SET notes = 'ours' WHERE id = 2"), 1);

  // Released within our busy timeout: the write waits for it and succeeds.
  const patient = await db.open({ busyTimeoutMs: 20_000 });
  const brief = lockHolder(path, 300);
  await brief.locked;
  assert.equal(await patient.execute("UPDATE api_keys SET notes = 'after wait' WHERE id = 3"), 1);
  assert.equal(await brief.exited, 0);
  const notes = await patient.query<{ id: number; notes: string }>('SELECT id, notes FROM api_keys WHERE id IN (1, 3) ORDER BY id');
  assert.deepEqual(notes, [
    { id: 1, notes: 'held' },
    { id: 3, notes: 'after wait' },
  ]);
});

test('SQLite opened read-only refuses writes with an io error', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 3, logs: 0, encryptionKey: '' });
  if (!db) return;
  const store = await db.open({ readonly: true });
  assert.equal(store.readonly, true);
  assert.equal(await countRows(store, 'api_keys'), 3);
  await rejectsWith(store.execute("UPDATE api_keys SET notes = 'x'"), 'io');
});

for (const engine of SERVER_ENGINES) {
  test(`sessions opened read-only refuse writes with an io error on ${engine}`, async (t) => {
    const db = await createGptLoadDatabase(t, engine, { keys: 3, logs: 0, encryptionKey: '' });
    if (!db) return;
    const store = await db.open({ readonly: true });
    assert.equal(await countRows(store, 'api_keys'), 3);
    const err = await rejectsWith(store.execute("UPDATE api_keys SET notes = 'x'"), 'io');
    // SQLSTATE 25006 / MySQL 1792: cannot execute in a read-only transaction.
    assert.ok(['25006', 'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION'].includes(String(err.details?.driverCode)), String(err.details?.driverCode));
  });
}

test('an unloadable better-sqlite3 is native-module-unavailable, naming the ABI and the fixes', () => {
  const abiMismatch = Object.assign(
    new Error(
      "The module '/x/node_modules/better-sqlite3/build/Release/better_sqlite3.node'\nwas compiled against a different Node.js version using\n" +
        'NODE_MODULE_VERSION 999. This version of Node.js requires\nNODE_MODULE_VERSION 115.',
    ),
    { code: 'ERR_DLOPEN_FAILED' },
  );
  for (const load of [
    () => {
      throw abiMismatch;
    },
    () =>
      class {
        constructor() {
          throw abiMismatch;
        }
      },
  ]) {
    try {
      loadBetterSqlite3(load);
      assert.fail('expected native-module-unavailable');
    } catch (err) {
      assert.ok(err instanceof KeystoreError);
      assert.equal(err.code, 'native-module-unavailable');
      assert.ok(err.text.en.includes(`ABI ${process.versions.modules}`));
      assert.match(err.text.en, /targets ABI 999/);
      assert.match(err.text.en, /npm rebuild better-sqlite3/);
      assert.match(err.text.en, /another runtime/);
      assert.match(err.text.zh, /npm rebuild better-sqlite3/);
    }
  }
});
