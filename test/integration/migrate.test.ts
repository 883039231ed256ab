/**
 * migrate-keys end to end on SQLite, MariaDB (as MySQL) and PostgreSQL, through the CLI front
 * (in process) and the operation itself, starting from databases GPT-Load could have written —
 * including rows holding GPT-Load's exact ciphertexts from the shared vectors.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { codecFor, keyFingerprint, sha256Hex } from '../../server/core/crypto';
import { loadEnv } from '../../server/core/env/read';
import { KeystoreError } from '../../server/core/errors';
import { runCli } from '../../server/cli';
import type { CliIO } from '../../server/cli/command';
import { resolveDeployment } from '../../server/keystore/deployment';
import { newJournal, readJournal, writeJournal } from '../../server/keystore/journal';
import { migrateKeys } from '../../server/keystore/migrate/migrateKeys';
import type { MigrateKeysResult } from '../../server/keystore/migrate/types';
import { applyEnvChanges, PENDING_KEY_VAR } from '../../server/keystore/migrate/env';
import { readStatus } from '../../server/keystore/status';
import type { Store } from '../../server/store/connect';
import { createGptLoadDatabase, ENGINES, SERVER_ENGINES, type Engine, type GptLoadDatabase, type GptLoadDatabaseOptions } from '../support/databases';
import { assertGptLoadReads, closedPort, dumpDatabase, GPT_LOAD_TABLES, keyRows, startFakeGptLoad, tableNames } from '../support/gptload';
import { REPO_ROOT } from '../support/paths';
import { redisServer } from '../support/services';

const GPT_LOAD_KEY = 'my-32-char-secret-key-AbCdEf012345!';
const K1 = 'Kx7-first_Zq.0192837465fedcbaGHIJ';
const K2 = 'Qm4-second_Wv.9876543210zyxwvuTS';
const WEAK = 'admin-key-123456';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  json?: MigrateKeysResult;
}

async function setup(t: TestContext, engine: Engine, options: GptLoadDatabaseOptions & { envExtra?: Record<string, string> } = {}) {
  const port = await closedPort();
  return createGptLoadDatabase(t, engine, {
    keys: 120,
    logs: 80,
    ...options,
    env: { PORT: String(port), ...(options.envExtra ?? {}) },
  });
}

/** `gpt-load-keystore migrate-keys --env <db>/.env …` in this process, stdin not a terminal. */
async function migrate(db: GptLoadDatabase, argv: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const io: CliIO = {
    stdout,
    stderr,
    stdin: Object.assign(new PassThrough(), { isTTY: false }),
    env: { OLD: K1, NEW: K2, GPTLOAD: GPT_LOAD_KEY, WEAK, ...env },
    cwd: db.envDir,
    lang: 'en',
    cancellation: { cancelled: false },
  };
  const code = await runCli(['migrate-keys', '--env', join(db.envDir, '.env'), ...argv], io);
  await new Promise((resolve) => setImmediate(resolve));
  const run: Run = { code, stdout: out, stderr: err };
  if (argv.includes('--json') && code === 0) run.json = JSON.parse(out);
  return run;
}

async function withStore<T>(db: GptLoadDatabase, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await db.open();
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const dump = (db: GptLoadDatabase) => withStore(db, dumpDatabase);
const sqliteBytes = (db: GptLoadDatabase) => (db.target.kind === 'sqlite' ? readFileSync(db.target.path) : null);
const envValue = (db: GptLoadDatabase, key: string) => loadEnv(join(db.envDir, '.env'), {}).get(key);

/** Asserts a run changed nothing: same rows in every table (SQLite: same file bytes), no side table, no journal. */
async function assertUnchanged(db: GptLoadDatabase, before: { dump: string; bytes: Buffer | null; env: string }) {
  assert.equal(await dump(db), before.dump);
  if (before.bytes) assert.ok(sqliteBytes(db)!.equals(before.bytes), 'SQLite file bytes unchanged');
  assert.equal(readFileSync(join(db.envDir, '.env'), 'utf8'), before.env, '.env unchanged');
  assert.equal(existsSync(join(db.envDir, '.gpt-load-keystore')), false, 'no journal left');
}

async function snapshot(db: GptLoadDatabase) {
  return { dump: await dump(db), bytes: sqliteBytes(db), env: readFileSync(join(db.envDir, '.env'), 'utf8') };
}

async function assertCleanAfterSuccess(db: GptLoadDatabase) {
  assert.deepEqual(await withStore(db, tableNames), GPT_LOAD_TABLES, 'no side table');
  assert.equal(existsSync(join(db.envDir, '.gpt-load-keystore')), false, 'journal removed');
  assert.equal(envValue(db, PENDING_KEY_VAR), undefined, 'no parked key left in .env');
}

/** What a K1 → K2 run with --update-env killed in its write leaves: its journal (pid long gone) and the parked key. */
function leaveInterruptedChange(db: GptLoadDatabase): void {
  const deployment = resolveDeployment({ envFile: join(db.envDir, '.env'), cwd: db.envDir, processEnv: {} });
  writeJournal(db.envDir, {
    ...newJournal({ mode: 'change', from: keyFingerprint(K1), to: keyFingerprint(K2), target: deployment.targetLabel, updateEnv: true, skipLogs: false }),
    pid: 999_999_999,
    phase: 'writing',
  });
  applyEnvChanges(deployment.envPath, { [PENDING_KEY_VAR]: K2 });
}

async function addEmptyKeyLog(db: GptLoadDatabase): Promise<void> {
  await withStore(db, (store) => {
    const bool = store.kind === 'postgres' ? false : 0;
    const time = store.kind === 'postgres' ? new Date().toISOString() : '2025-06-01 08:00:00';
    return store.execute(
      `INSERT INTO request_logs (id, timestamp, group_id, group_name, key_value, key_hash, is_success, status_code, duration, request_type, is_stream)
       VALUES (${store.params(11)})`,
      ['00000000-0000-4000-8000-000000000000', time, 1, 'openai', null, null, bool, 401, 3, 'final', bool],
    );
  });
}

async function redisFor(t: TestContext) {
  const server = await redisServer(t);
  if (!server) return undefined;
  const Redis = (require('ioredis') as typeof import('ioredis')).default;
  // A database of its own (7–15, empty), flushed at the end: other tests may use Redis too.
  for (const db of [7, 8, 9, 10, 11, 12, 13, 14, 15].sort(() => Math.random() - 0.5)) {
    const client = new Redis({ host: server.host, port: server.port, password: server.password || undefined, db, lazyConnect: true });
    await client.connect();
    if ((await client.dbsize()) === 0) {
      t.after(async () => {
        await client.flushdb();
        await client.quit();
      });
      const auth = server.password ? `:${encodeURIComponent(server.password)}@` : '';
      return { client, dsn: `redis://${auth}${server.host}:${server.port}/${db}` };
    }
    await client.quit();
  }
  throw new Error('no empty Redis database among 7–15');
}

for (const engine of ENGINES) {
  test(`${engine}: enable → change → disable; every row as GPT-Load reads it; .env updated; Redis cleared selectively`, async (t) => {
    const redis = await redisFor(t);
    const db = await setup(t, engine, { includeVectorRows: true, envExtra: redis ? { REDIS_DSN: redis.dsn } : {} });
    if (!db || !redis) return;
    await addEmptyKeyLog(db);
    const seedCache = async () => {
      for (const key of ['gpt-load:key:1', 'gpt-load:key:22', 'gpt-load:group:3:active_keys', 'request_log:x', 'pending_log_keys', 'gpt-load:setting:foo', 'other:key', 'gpt-load:request_log:y', 'gpt-load:pending_log_keys']) {
        await redis.client.set(key, 'v');
      }
    };
    const keysLeft = async () => (await redis.client.keys('*')).sort();
    const kept = ['gpt-load:pending_log_keys', 'gpt-load:request_log:y', 'gpt-load:setting:foo', 'other:key', 'pending_log_keys', 'request_log:x'];

    await seedCache();
    const enable = await migrate(db, ['--to-env', 'WEAK', '--update-env', '--json', '--allow-weak-key']);
    assert.equal(enable.code, 0, enable.stderr);
    assert.equal(enable.json!.mode, 'enable');
    assert.equal(enable.json!.apiKeys, db.plaintexts.size);
    assert.equal(enable.json!.requestLogs, 80);
    assert.equal(enable.json!.tables.request_logs!.empty, 1);
    assert.equal(enable.json!.cacheCleared, 3);
    assert.ok(enable.json!.keyWarnings.some((w) => /weak password patterns: 123456/.test(w.en)), "GPT-Load's dashboard warning");
    assert.match(enable.stderr, /warning: ENCRYPTION_KEY contains common weak password patterns: 123456/, 'shown before the write');
    assert.equal(envValue(db, 'ENCRYPTION_KEY'), WEAK);
    assert.deepEqual(await keysLeft(), kept, 'only gpt-load:key:* and gpt-load:group:*:active_keys removed');
    assert.deepEqual(await withStore(db, (s) => assertGptLoadReads(s, WEAK, { plaintexts: db.plaintexts })), { api_keys: db.plaintexts.size, request_logs: 80 });
    await assertCleanAfterSuccess(db);

    await seedCache();
    const change = await migrate(db, ['--from-env', 'WEAK', '--to-env', 'NEW', '--update-env']);
    assert.equal(change.code, 0, change.stderr);
    assert.match(change.stdout, /Done: change the encryption key/);
    assert.match(change.stdout, /Redis: removed 3 stale entries/);
    assert.equal(envValue(db, 'ENCRYPTION_KEY'), K2);
    assert.deepEqual(await keysLeft(), kept);
    await withStore(db, (s) => assertGptLoadReads(s, K2, { plaintexts: db.plaintexts }));
    const status = await withStore(db, (s) => readStatus(s, { encryptionKey: K2 }));
    assert.equal(status.state, 'ok');
    assert.equal(status.dashboard.verdict, null);
    await assertCleanAfterSuccess(db);

    const disable = await migrate(db, ['--from-env', 'NEW', '--update-env', '--no-cache']);
    assert.equal(disable.code, 0, disable.stderr);
    assert.equal(envValue(db, 'ENCRYPTION_KEY'), undefined, 'ENCRYPTION_KEY removed from .env');
    await withStore(db, (s) => assertGptLoadReads(s, '', { plaintexts: db.plaintexts }));
    await assertCleanAfterSuccess(db);
  });

  test(`${engine}: GPT-Load's own ciphertexts (shared vectors) move to a new key`, async (t) => {
    const db = await setup(t, engine, { encryptionKey: GPT_LOAD_KEY, includeVectorRows: true, keys: 40, logs: 30 });
    if (!db) return;
    const run = await migrate(db, ['--from-env', 'GPTLOAD', '--to-env', 'NEW']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Next, set ENCRYPTION_KEY in \.env to the new key \(fingerprint [0-9a-f]{16}\)/);
    assert.equal(envValue(db, 'ENCRYPTION_KEY'), GPT_LOAD_KEY, 'without --update-env, .env is left alone');
    await withStore(db, (s) => assertGptLoadReads(s, K2, { plaintexts: db.plaintexts }));
    assert.ok(!run.stdout.includes(K2) && !run.stderr.includes(K2) && !run.stderr.includes(GPT_LOAD_KEY), 'keys never printed');
  });

  test(`${engine}: refusals write nothing and give exact counts`, async (t) => {
    const db = await setup(t, engine, { encryptionKey: K1, keys: 100, logs: 40 });
    if (!db) return;
    const before = await snapshot(db);

    // Already encrypted with this key, and .env names it: a rerun of a finished enable (nothing to do).
    const already = await migrate(db, ['--to-env', 'OLD']);
    assert.equal(already.code, 0, already.stderr);
    assert.match(already.stdout, /^Nothing to do \(already done\)/);
    const other = await migrate(db, ['--to-env', 'NEW']);
    assert.equal(other.code, 5);
    assert.match(other.stderr, /100 of 100 api_keys rows are already encrypted with another key/);
    assert.match(other.stderr, /The ENCRYPTION_KEY in .*\.env \(fingerprint [0-9a-f]{16}\) decrypts them: pass it as the old key/);
    const wrongFrom = await migrate(db, ['--from-env', 'NEW', '--to-env', 'GPTLOAD', '--allow-weak-key']);
    assert.equal(wrongFrom.code, 5);
    assert.match(wrongFrom.stderr, /changing the key refused: 100 of 100 api_keys rows decrypt with neither key/);
    assert.match(wrongFrom.stderr, /request_logs: 40 rows — 40 decryptable with neither key/);
    const wrongDisable = await migrate(db, ['--from-env', 'NEW', '--json']);
    assert.equal(wrongDisable.code, 5);
    const same = await migrate(db, ['--from-env', 'OLD', '--to-env', 'OLD']);
    assert.equal(same.code, 2);
    assert.match(same.stderr, /same as the old key/);
    const neither = await migrate(db, []);
    assert.equal(neither.code, 2);
    assert.match(neither.stderr, /give --to NEW to enable encryption, --from OLD to disable it, or both to change the key/);
    await assertUnchanged(db, before);

    // Plaintext rows beside encrypted ones (GPT-Load's history): brought along to the new key, and counted.
    await withStore(db, async (s) => {
      for (const id of [3, 5, 8]) {
        const plain = db.plaintexts.get(id)!;
        await s.execute(`UPDATE api_keys SET key_value = ${s.p(1)}, key_hash = ${s.p(2)} WHERE id = ${s.p(3)}`, [plain, sha256Hex(plain), id]);
      }
    });
    const mixed = await migrate(db, ['--from-env', 'OLD', '--to-env', 'NEW', '--json']);
    assert.equal(mixed.code, 0, mixed.stderr);
    assert.equal(mixed.json!.leftovers, 3);
    assert.deepEqual(mixed.json!.tables.api_keys.leftoverIds.map(Number), [3, 5, 8]);
    await withStore(db, (s) => assertGptLoadReads(s, K2, { plaintexts: db.plaintexts }));
  });

  test(`${engine}: request_logs in another state refuse unless --skip-logs, which leaves them untouched`, async (t) => {
    const db = await setup(t, engine, { encryptionKey: K1, keys: 60, logs: 30 });
    if (!db) return;
    await withStore(db, (s) => s.execute(`UPDATE request_logs SET key_value = 'deadbeef', key_hash = 'nothing' WHERE id IN (SELECT id FROM (SELECT id FROM request_logs ORDER BY id LIMIT 4) x)`));
    const before = await snapshot(db);
    const refused = await migrate(db, ['--from-env', 'OLD', '--to-env', 'NEW']);
    assert.equal(refused.code, 5);
    assert.match(refused.stderr, /4 of 30 request_logs rows decrypt with neither key/);
    await assertUnchanged(db, before);
    const logsBefore = await withStore(db, (s) => keyRows(s, 'request_logs'));
    const skipped = await migrate(db, ['--from-env', 'OLD', '--to-env', 'NEW', '--skip-logs', '--json']);
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.equal(skipped.json!.tables.request_logs, null);
    assert.deepEqual(await withStore(db, (s) => keyRows(s, 'request_logs')), logsBefore);
    await withStore(db, (s) => assertGptLoadReads(s, K2, { plaintexts: db.plaintexts, logs: false }));
  });

  test(`${engine}: a partial change (source and target rows only) is finished`, async (t) => {
    const db = await setup(t, engine, { encryptionKey: K1, keys: 80, logs: 20 });
    if (!db) return;
    // As GPT-Load's own migrate-keys leaves it, plus a few more: api_keys 1–30 already under K2, request_logs under K1.
    const k2 = codecFor(K2);
    await withStore(db, async (s) => {
      for (let id = 1; id <= 30; id++) {
        const plain = db.plaintexts.get(id)!;
        await s.execute(`UPDATE api_keys SET key_value = ${s.p(1)}, key_hash = ${s.p(2)} WHERE id = ${s.p(3)}`, [k2.encrypt(plain), k2.hash(plain), id]);
      }
    });
    const run = await migrate(db, ['--from-env', 'OLD', '--to-env', 'NEW', '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.json!.outcome, 'finished');
    assert.equal(run.json!.apiKeys, 50);
    assert.equal(run.json!.requestLogs, 20);
    assert.equal(run.json!.tables.api_keys.target, 30);
    await withStore(db, (s) => assertGptLoadReads(s, K2, { plaintexts: db.plaintexts }));
  });

  test(`${engine}: --dry-run runs every check, reports, and changes not one byte`, async (t) => {
    const db = await setup(t, engine, { encryptionKey: K1, keys: 70, logs: 25 });
    if (!db) return;
    const before = await snapshot(db);
    const run = await migrate(db, ['--from-env', 'OLD', '--to-env', 'NEW', '--update-env', '--dry-run', '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.json!.outcome, 'dry-run');
    assert.deepEqual([run.json!.apiKeys, run.json!.requestLogs], [70, 25]);
    assert.ok(run.json!.notes.some((n) => /95 rows would be rewritten .*\.env would be updated.*Nothing was written/.test(n.en)));
    await assertUnchanged(db, before);
  });

  test(`${engine}: GPT-Load answering /health refuses (exit 6, nothing written); --force goes on and says so`, async (t) => {
    const fake = await startFakeGptLoad(t);
    const db = await createGptLoadDatabase(t, engine, { keys: 40, logs: 10, env: { PORT: String(fake.port), HOST: '0.0.0.0' } });
    if (!db) return;
    const before = await snapshot(db);
    const refused = await migrate(db, ['--to-env', 'NEW']);
    assert.equal(refused.code, 6);
    assert.match(refused.stderr, new RegExp(`GPT-Load looks running: GPT-Load answers at http://127\\.0\\.0\\.1:${fake.port}/health \\(HTTP 200\\)`));
    assert.ok(fake.hits.includes('/health'));
    await assertUnchanged(db, before);
    const forced = await migrate(db, ['--to-env', 'NEW', '--force', '--json']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(forced.json!.forced, true);
    assert.ok(forced.json!.warnings.some((w) => /--force: went on although GPT-Load answers/.test(w.en)));
    await withStore(db, (s) => assertGptLoadReads(s, K2, { plaintexts: db.plaintexts }));
  });

  test(`${engine}: an unreachable Redis stops the run before anything is written`, async (t) => {
    const port = await closedPort();
    const db = await setup(t, engine, { keys: 20, logs: 5, envExtra: { REDIS_DSN: `redis://127.0.0.1:${port}/0` } });
    if (!db) return;
    const before = await snapshot(db);
    const run = await migrate(db, ['--to-env', 'NEW', '--update-env']);
    assert.equal(run.code, 7);
    assert.match(run.stderr, /cannot reach Redis \(redis 127\.0\.0\.1:\d+\/0/);
    await assertUnchanged(db, before);
  });

  test(`${engine}: cancelling mid-write rolls back: database, .env and journal as before`, async (t) => {
    const db = await setup(t, engine, { encryptionKey: K1, keys: 900, logs: 300 });
    if (!db) return;
    const before = await snapshot(db);
    const cancellation = { cancelled: false };
    const phases: string[] = [];
    await assert.rejects(
      migrateKeys(
        { deployment: resolveDeployment({ envFile: join(db.envDir, '.env'), cwd: db.envDir, processEnv: {} }), fromKey: K1, toKey: K2, updateEnv: true, batchSize: 50, threads: 0 },
        {
          cancellation,
          progress: (p) => {
            phases.push(p.phase);
            if (p.phase === 'write api_keys' && p.done >= 300) cancellation.cancelled = true;
          },
        },
      ),
      (e: unknown) => e instanceof KeystoreError && e.code === 'cancelled',
    );
    assert.ok(phases.includes('write api_keys') && !phases.includes('commit'));
    await assertUnchanged(db, { ...before, bytes: null });
    assert.deepEqual(await withStore(db, tableNames), GPT_LOAD_TABLES);
  });

  test(`${engine}: a rerun finishes a run interrupted after its commit; without that evidence GPT-Load's refusal stands`, async (t) => {
    const db = await setup(t, engine, { encryptionKey: K1, keys: 50, logs: 10 });
    if (!db) return;
    // The database moved to K2 but .env, cache and journal cleanup never happened.
    const moved = await migrate(db, ['--from-env', 'OLD', '--to-env', 'NEW']);
    assert.equal(moved.code, 0, moved.stderr);
    const refused = await migrate(db, ['--from-env', 'OLD', '--to-env', 'NEW', '--update-env']);
    assert.equal(refused.code, 5);
    assert.match(refused.stderr, /none of the 50 api_keys rows decrypts with the --from key — the --to key decrypts them all/);

    leaveInterruptedChange(db);
    const status = await withStore(db, (s) => readStatus(s, { encryptionKey: K1, envPath: join(db.envDir, '.env') }));
    assert.match(status.migration!.explanation.en, /database is entirely under the new key \(fingerprint [0-9a-f]{16}\) but \.env still has the old key/);

    // The same command again; the bare command would also do (the parked key is the target, .env's the source).
    const resumed = await migrate(db, ['--from-env', 'OLD', '--to-env', 'NEW', '--update-env', '--json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(resumed.json!.outcome, 'completed');
    assert.equal(resumed.json!.apiKeys, 0);
    assert.equal(resumed.json!.interrupted!.sameKeys, true);
    assert.equal(envValue(db, 'ENCRYPTION_KEY'), K2);
    await assertCleanAfterSuccess(db);
    assert.equal(readJournal(db.envDir), null);
  });
}

for (const engine of SERVER_ENGINES) {
  test(`${engine}: another session on the database refuses (exit 6); --force overrides`, async (t) => {
    const db = await setup(t, engine, { keys: 30, logs: 5 });
    if (!db) return;
    const other = await db.open();
    await other.query('SELECT 1');
    const refused = await migrate(db, ['--to-env', 'NEW']);
    assert.equal(refused.code, 6, refused.stderr);
    assert.match(refused.stderr, /\d+ other session\(s\) are connected to the database/);
    await other.close();
    const run = await migrate(db, ['--to-env', 'NEW']);
    assert.equal(run.code, 0, run.stderr);
    await withStore(db, (s) => assertGptLoadReads(s, K2, { plaintexts: db.plaintexts }));
  });

  test(`${engine}: a session that leaves as the run starts does not count as GPT-Load`, async (t) => {
    const db = await setup(t, engine, { keys: 30, logs: 5 });
    if (!db) return;
    const other = await db.open();
    await other.query('SELECT 1');
    // The server still lists it when the check first looks, as it does a client that has just quit.
    const running = migrate(db, ['--to-env', 'NEW']);
    setTimeout(() => void other.close(), 100);
    const run = await running;
    assert.equal(run.code, 0, run.stderr);
    await withStore(db, (s) => assertGptLoadReads(s, K2, { plaintexts: db.plaintexts }));
  });
}

test('sqlite: --update-env warns when the shell exports another ENCRYPTION_KEY, which a GPT-Load started from it would read', async (t) => {
  const db = await setup(t, 'sqlite', { encryptionKey: K1, keys: 10, logs: 0 });
  if (!db) return;
  const run = await migrate(db, ['--from-env', 'ENCRYPTION_KEY', '--to-env', 'NEW', '--update-env', '--json'], { ENCRYPTION_KEY: K1 });
  assert.equal(run.code, 0, run.stderr);
  const warning = run.json!.warnings.find((w) => /exported in this shell/.test(w.en));
  assert.ok(warning, JSON.stringify(run.json!.warnings));
  assert.match(warning.en, new RegExp(`key ${keyFingerprint(K1)}\\).*not the new key ${keyFingerprint(K2)}\\. Run \`unset ENCRYPTION_KEY\``));
  assert.match(warning.zh, /unset ENCRYPTION_KEY/);
  assert.ok(!JSON.stringify(run.json).includes(K1) && !JSON.stringify(run.json).includes(K2));
  // The shell already holding the new key: nothing to warn of.
  const again = await migrate(db, ['--from-env', 'OLD', '--to-env', 'ENCRYPTION_KEY', '--update-env', '--json'], { OLD: K2, ENCRYPTION_KEY: K1 });
  assert.equal(again.code, 0, again.stderr);
  assert.ok(!again.json!.warnings.some((w) => /exported in this shell/.test(w.en)));
});

test('sqlite: a TTY asks for confirmation; anything but "yes" writes nothing', async (t) => {
  const db = await setup(t, 'sqlite', { keys: 10, logs: 0 });
  if (!db) return;
  const before = await snapshot(db);
  const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => undefined });
  let err = '';
  const stderr = new PassThrough();
  stderr.on('data', (d) => (err += d));
  const io: CliIO = { stdout: new PassThrough(), stderr, stdin, env: { NEW: K2 }, cwd: db.envDir, lang: 'en', cancellation: { cancelled: false } };
  const pending = runCli(['migrate-keys', '--env', join(db.envDir, '.env'), '--to-env', 'NEW'], io);
  // The plan is shown, then the question.
  while (!err.includes('Type "yes"')) await new Promise((r) => setTimeout(r, 20));
  assert.match(err, /About to enable encryption of sqlite .*\n {2}key: plaintext → [0-9a-f]{16}\n {2}api_keys: 10 rows — 10 plaintext \(to encrypt\)/);
  stdin.write('no\n');
  assert.equal(await pending, 130);
  await assertUnchanged(db, before);
});

test('sqlite: SIGTERM (docker stop, CI timeouts) cancels like Ctrl-C: exit 130, nothing written', async (t) => {
  const db = await setup(t, 'sqlite', { encryptionKey: K1, keys: 20_000, logs: 0 });
  if (!db) return;
  const before = await snapshot(db);
  const child = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'cli.js'), 'migrate-keys', '--env', join(db.envDir, '.env'), '--from-env', 'OLD', '--to-env', 'NEW', '--no-backup'], {
    cwd: db.envDir,
    env: { PATH: process.env.PATH, LANG: 'C', OLD: K1, NEW: K2 },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let signalled = false;
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
    // The first progress line: the run is under way.
    if (!signalled && /\d+\/20,000/.test(err)) {
      signalled = true;
      child.kill('SIGTERM');
    }
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.ok(signalled, `no progress seen: ${err}`);
  assert.equal(code, 130, err);
  assert.match(err, /SIGTERM: cancelling at the next safe point/);
  await assertUnchanged(db, { ...before, bytes: null });
});

test('sqlite: the key_hash indexes, dropped for the write, are back as they were, after a commit and after a cancel', async (t) => {
  const db = await setup(t, 'sqlite', { encryptionKey: K1, keys: 900, logs: 300 });
  if (!db) return;
  const indexes = () => withStore(db, (s) => s.query(`SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name`));
  const before = await indexes();
  assert.ok(before.some((i) => i.name === 'idx_api_keys_key_hash') && before.some((i) => i.name === 'idx_request_logs_key_hash'));
  const deployment = resolveDeployment({ envFile: join(db.envDir, '.env'), cwd: db.envDir, processEnv: {} });
  const cancellation = { cancelled: false };
  await assert.rejects(
    migrateKeys(
      { deployment, fromKey: K1, toKey: K2, batchSize: 50, threads: 0 },
      { cancellation, progress: (p) => p.phase === 'write request_logs' && p.done >= 100 && (cancellation.cancelled = true) },
    ),
    (e: unknown) => e instanceof KeystoreError && e.code === 'cancelled',
  );
  assert.deepEqual(await indexes(), before, 'after a cancel');
  await migrateKeys({ deployment, fromKey: K1, toKey: K2, batchSize: 50, threads: 0 }, { cancellation: { cancelled: false } });
  assert.deepEqual(await indexes(), before, 'after a commit');
  await withStore(db, async (s) => {
    assert.deepEqual((await s.query('PRAGMA integrity_check')).map((r) => r.integrity_check), ['ok']);
    const plan = await s.query(`EXPLAIN QUERY PLAN SELECT id FROM api_keys WHERE key_hash = ?`, ['x']);
    assert.ok(plan.some((row) => String(row.detail).includes('idx_api_keys_key_hash')), JSON.stringify(plan));
    await assertGptLoadReads(s, K2, { plaintexts: db.plaintexts });
  });
});

test('sqlite: `status` exits 1 while an interrupted run is journaled, though the rows look fine; 0 once a rerun cleans it up', async (t) => {
  const db = await setup(t, 'sqlite', { encryptionKey: K1, keys: 40, logs: 10 });
  if (!db) return;
  const status = async () => {
    let out = '';
    const stdout = new PassThrough().on('data', (d) => (out += d));
    const io: CliIO = { stdout, stderr: new PassThrough(), stdin: new PassThrough(), env: {}, cwd: db.envDir, lang: 'en', cancellation: { cancelled: false } };
    const code = await runCli(['status', '--env', join(db.envDir, '.env')], io);
    return { code, out };
  };
  assert.equal((await status()).code, 0);
  // Killed in its write: the database rolled back to all-K1, the journal and the parked key stayed.
  leaveInterruptedChange(db);
  const interrupted = await status();
  assert.equal(interrupted.code, 1, interrupted.out);
  assert.match(interrupted.out, /never committed/);
  const rerun = await migrate(db, ['--from-env', 'OLD', '--to-env', 'NEW', '--update-env']);
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.equal((await status()).code, 0);
});
