/**
 * backup restore on real SQLite, MariaDB and PostgreSQL: a round trip equals the original row by row,
 * a kill mid-restore leaves the old data, and every refusal (GPT-Load running, damaged backup, another
 * key, another engine) writes nothing.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { codecFor } from '../../server/core/crypto';
import { runCli } from '../../server/cli';
import type { CliIO } from '../../server/cli/command';
import { createBackup } from '../../server/keystore/backup/create';
import { checkBackup } from '../../server/keystore/backup/check';
import { restoreBackup } from '../../server/keystore/backup/restore';
import { resolveDeployment } from '../../server/keystore/deployment';
import { readStatus } from '../../server/keystore/status';
import { countRows } from '../../server/store/rows';
import { createGptLoadDatabase, ENGINES, SERVER_ENGINES, type Engine, type GptLoadDatabase } from '../support/databases';
import { assertGptLoadReads, closedPort, dumpDatabase, startFakeGptLoad } from '../support/gptload';
import { REPO_ROOT } from '../support/paths';

const KEY = 'restore-test-key-Hd6-Rt1-Mw47-bb';
const NEW_KEY = 'rotated-restore-key-Pz8-Ye3-Cc21';

async function setup(t: TestContext, engine: Engine, options: { keys?: number; logs?: number; key?: string; port?: number } = {}) {
  const port = options.port ?? (await closedPort());
  return createGptLoadDatabase(t, engine, { keys: options.keys ?? 80, logs: options.logs ?? 30, encryptionKey: options.key ?? KEY, env: { PORT: String(port) } });
}

function deploymentOf(db: GptLoadDatabase) {
  return resolveDeployment({ envFile: join(db.envDir, '.env'), cwd: db.envDir, processEnv: {} });
}

function setEnvKey(db: GptLoadDatabase, key: string): void {
  const path = join(db.envDir, '.env');
  writeFileSync(path, readFileSync(path, 'utf8').replace(/^ENCRYPTION_KEY=.*$/m, `ENCRYPTION_KEY=${key}`));
}

async function backupOf(db: GptLoadDatabase, key = KEY) {
  const store = await db.open();
  try {
    return { ...(await createBackup(store, { encryptionKey: key, envDir: db.envDir })), dump: await dumpDatabase(store) };
  } finally {
    await store.close();
  }
}

/** Changes of every kind after the backup: deleted, added and edited rows in several tables. */
async function changeEverything(db: GptLoadDatabase): Promise<string> {
  const store = await db.open();
  try {
    const codec = codecFor(KEY);
    await store.execute('DELETE FROM api_keys WHERE id IN (3, 4, 40)');
    await store.execute(`INSERT INTO api_keys (key_value, key_hash, group_id, status) VALUES (${store.p(1)}, ${store.p(2)}, 2, 'invalid')`, [codec.encrypt('sk-new'), codec.hash('sk-new')]);
    await store.execute(`UPDATE ${store.q('groups')} SET display_name = 'renamed', upstreams = ${store.p(1)} WHERE id = 1`, ['[{"url":"https://changed.example","weight":3}]']);
    await store.execute(`DELETE FROM request_logs WHERE group_id = 1`);
    await store.execute(`UPDATE system_settings SET setting_value = 'changed' WHERE setting_key = 'proxy_keys'`);
    return await dumpDatabase(store);
  } finally {
    await store.close();
  }
}

async function currentDump(db: GptLoadDatabase): Promise<string> {
  const store = await db.open();
  try {
    return await dumpDatabase(store);
  } finally {
    await store.close();
  }
}

for (const engine of ENGINES) {
  test(`${engine}: a restore round trip equals the original row by row`, async (t) => {
    const db = await setup(t, engine);
    if (!db) return;
    const backup = await backupOf(db);
    const changed = await changeEverything(db);
    assert.notEqual(changed, backup.dump);

    const report = await restoreBackup({ deployment: deploymentOf(db), file: backup.file });
    assert.equal(report.restored.api_keys, 80);
    assert.equal(report.reencrypted, null);
    assert.deepEqual(report.untouched, []);
    assert.equal(await currentDump(db), backup.dump);

    // The state before was saved first, and is itself a sound backup of the changed rows.
    assert.ok(report.safetyBackup);
    assert.equal(report.safetyBackup.rows.api_keys, 78);
    assert.equal((await checkBackup(report.safetyBackup.path, { codec: codecFor(KEY) })).verdict, 'ok');

    // New rows continue after the restored ids (PostgreSQL's sequences were moved along).
    const store = await db.open();
    await store.execute(`INSERT INTO system_settings (setting_key, setting_value) VALUES ('after_restore', 'x')`);
    const [row] = await store.query<{ id: unknown }>(`SELECT id FROM system_settings WHERE setting_key = 'after_restore'`);
    const [max] = await store.query<{ n: unknown }>(`SELECT MAX(id) AS n FROM system_settings WHERE setting_key <> 'after_restore'`);
    assert.ok(Number(row.id) > Number(max.n));
    await assertGptLoadReads(store, KEY, { plaintexts: db.plaintexts });
    await store.close();
  });

  test(`${engine}: a restore killed mid-transaction leaves the old data intact`, async (t) => {
    const db = await setup(t, engine, { keys: 3000, logs: 500 });
    if (!db) return;
    const backup = await backupOf(db);
    const changed = await changeEverything(db);
    // The child stops for good inside the transaction, after its deletes and first inserts; then kill -9.
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `const { restoreBackup } = require('./server/keystore/backup/restore.ts');
         const { resolveDeployment } = require('./server/keystore/deployment.ts');
         const deployment = resolveDeployment({ envFile: process.env.GLK_ENV, cwd: process.cwd(), processEnv: {} });
         restoreBackup({ deployment, file: process.env.GLK_BACKUP, safetyBackup: false }, {
           progress: (p) => {
             if (p.phase !== 'restore rows' || p.done === 0) return;
             require('node:fs').writeSync(1, 'inside\\n');
             Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
           },
         });`,
      ],
      { cwd: REPO_ROOT, env: { PATH: process.env.PATH, GLK_ENV: join(db.envDir, '.env'), GLK_BACKUP: backup.file }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d) => String(d).includes('inside') && resolve());
      child.on('exit', () => reject(new Error(`the restore ended before it was killed: ${stderr}`)));
    });
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    assert.equal(await currentDump(db), changed, 'the data as it was before the restore');
    if (engine === 'sqlite') {
      const store = await db.open();
      assert.deepEqual(await store.query('PRAGMA integrity_check'), [{ integrity_check: 'ok' }]);
      await store.close();
    }
    // And the same restore, run to the end, still works.
    await restoreBackup({ deployment: deploymentOf(db), file: backup.file, safetyBackup: false });
    assert.equal(await currentDump(db), backup.dump);
  });

  test(`${engine}: restore refuses while GPT-Load runs, unless forced`, async (t) => {
    const fake = await startFakeGptLoad(t);
    const db = await setup(t, engine, { port: fake.port });
    if (!db) return;
    const backup = await backupOf(db);
    const changed = await changeEverything(db);
    await assert.rejects(restoreBackup({ deployment: deploymentOf(db), file: backup.file }), (err: { code?: string; message: string }) => {
      assert.equal(err.code, 'service-running');
      assert.match(err.message, /GPT-Load answers at http:\/\/127\.0\.0\.1:\d+\/health/);
      return true;
    });
    assert.ok(fake.hits.includes('/health'));
    assert.equal(await currentDump(db), changed);
    const forced = await restoreBackup({ deployment: deploymentOf(db), file: backup.file, force: true, safetyBackup: false });
    assert.equal(forced.forced, true);
    assert.match(forced.warnings.map((w) => w.en).join('\n'), /--force: went on although GPT-Load answers/);
    assert.equal(await currentDump(db), backup.dump);
  });

  test(`${engine}: a backup under another key is refused without that key and re-encrypted with it`, async (t) => {
    const db = await setup(t, engine);
    if (!db) return;
    const backup = await backupOf(db);
    await changeEverything(db);
    setEnvKey(db, NEW_KEY);
    const before = await currentDump(db);
    const deployment = deploymentOf(db);
    await assert.rejects(restoreBackup({ deployment, file: backup.file }), (err: { code?: string; message: string }) => {
      assert.equal(err.code, 'key-required');
      assert.match(err.message, new RegExp(`fingerprint ${codecFor(KEY).fingerprint}, the .env's has fingerprint ${codecFor(NEW_KEY).fingerprint}`));
      return true;
    });
    await assert.rejects(restoreBackup({ deployment, file: backup.file, backupKey: 'not-the-right-key-000000000000' }), { code: 'wrong-key' });
    const dry = await restoreBackup({ deployment, file: backup.file, backupKey: KEY, dryRun: true });
    assert.deepEqual([dry.dryRun, dry.reencrypted], [true, { from: codecFor(KEY).fingerprint, to: codecFor(NEW_KEY).fingerprint, rows: 110 }]);
    assert.equal(await currentDump(db), before, 'refusals and dry runs write nothing');

    const report = await restoreBackup({ deployment, file: backup.file, backupKey: KEY, safetyBackup: false });
    assert.equal(report.reencrypted!.rows, 80 + report.check.manifest!.encryption.requestLogs!.total - report.check.manifest!.encryption.requestLogs!.empty);
    const store = await db.open();
    assert.equal((await readStatus(store, { encryptionKey: NEW_KEY })).state, 'ok');
    await assertGptLoadReads(store, NEW_KEY, { plaintexts: db.plaintexts });
    await store.close();
  });
}

for (const engine of SERVER_ENGINES) {
  test(`${engine}: restore refuses while other sessions use the database`, async (t) => {
    const db = await setup(t, engine);
    if (!db) return;
    const backup = await backupOf(db);
    const other = await db.open();
    await other.query('SELECT 1');
    await assert.rejects(restoreBackup({ deployment: deploymentOf(db), file: backup.file }), (err: { code?: string; message: string }) => {
      assert.equal(err.code, 'service-running');
      assert.match(err.message, /other session\(s\) are connected/);
      return true;
    });
    await other.close();
  });
}

test('a damaged backup, or one of another engine, is refused and nothing is written', async (t) => {
  const db = await setup(t, 'sqlite');
  if (!db) return;
  const backup = await backupOf(db);
  const changed = await changeEverything(db);
  const bytes = readFileSync(backup.file);
  bytes[bytes.length - 100] ^= 0x40;
  writeFileSync(backup.file, bytes);
  await assert.rejects(restoreBackup({ deployment: deploymentOf(db), file: backup.file }), { code: 'backup-invalid' });
  assert.equal(await currentDump(db), changed);

  const pg = await setup(t, 'postgres');
  if (!pg) return;
  const pgBackup = await backupOf(pg);
  await assert.rejects(restoreBackup({ deployment: deploymentOf(db), file: pgBackup.file }), (err: { code?: string; message: string }) => {
    assert.equal(err.code, 'usage');
    assert.match(err.message, /this is a postgres backup; the deployment's database is sqlite/);
    return true;
  });
  assert.equal(await currentDump(db), changed);
});

test('plaintext backups are encrypted with the .env key; backups without logs leave request_logs alone', async (t) => {
  const db = await setup(t, 'sqlite', { key: '' });
  if (!db) return;
  const store = await db.open();
  const noLogs = await createBackup(store, { encryptionKey: '', authKey: deploymentOf(db).env.get('AUTH_KEY'), envDir: db.envDir, includeLogs: false });
  const logsBefore = await store.query('SELECT * FROM request_logs ORDER BY id');
  await store.close();
  setEnvKey(db, NEW_KEY);
  const report = await restoreBackup({ deployment: deploymentOf(db), file: noLogs.file, safetyBackup: false });
  assert.deepEqual(report.untouched, ['request_logs']);
  assert.equal(report.reencrypted!.rows, 80);
  assert.match(report.warnings.map((w) => w.en).join('\n'), /request_logs is not in this backup and stays as it is/);
  const after = await db.open();
  await assertGptLoadReads(after, NEW_KEY, { plaintexts: db.plaintexts, logs: false });
  assert.deepEqual(await after.query('SELECT * FROM request_logs ORDER BY id'), logsBefore);
  await after.close();
});

test('backup restore through the CLI: dry run, the key from an environment variable, exit codes', async (t) => {
  const db = await setup(t, 'sqlite');
  if (!db) return;
  const backup = await backupOf(db);
  await changeEverything(db);
  setEnvKey(db, NEW_KEY);
  const run = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
    let out = '';
    let err = '';
    const stdout = new PassThrough().on('data', (d) => (out += d));
    const stderr = new PassThrough().on('data', (d) => (err += d));
    const io: CliIO = { stdout, stderr, stdin: Object.assign(new PassThrough(), { isTTY: false }), env, cwd: db.envDir, lang: 'en', cancellation: { cancelled: false } };
    const code = await runCli(['backup', 'restore', backup.file, '--env', join(db.envDir, '.env'), ...args], io);
    return { code, out, err };
  };
  let r = await run(['--dry-run']);
  assert.equal(r.code, 3, r.err);
  assert.match(r.err, /--key-env NAME/);
  r = await run(['--dry-run', '--key-env', 'OLD'], { OLD: KEY });
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Dry run: would restore/);
  assert.match(r.out, /keys re-encrypted .* → .* \(the .env's key\)/);
  writeFileSync(join(db.envDir, 'old.key'), `${KEY}\n`);
  r = await run(['--dry-run', '--key-file', 'old.key']);
  assert.equal(r.code, 0, r.err);
  r = await run(['--dry-run', '--key-env', 'OLD', '--key-file', 'old.key'], { OLD: KEY });
  assert.equal(r.code, 2, 'one way only');
  r = await run(['--dry-run', '--key-env', 'OLD'], { OLD: 'not-the-backup-key-000000000000' });
  assert.equal(r.code, 4, r.err);
  // On a terminal the question counts the keys to re-encrypt as the dry run does (it said 0).
  const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => undefined });
  let asked = '';
  const stderr = new PassThrough().on('data', (d) => (asked += d));
  const io: CliIO = { stdout: new PassThrough(), stderr, stdin, env: { OLD: KEY }, cwd: db.envDir, lang: 'en', cancellation: { cancelled: false } };
  const pending = runCli(['backup', 'restore', backup.file, '--env', join(db.envDir, '.env'), '--key-env', 'OLD', '--no-safety-backup'], io);
  while (!asked.includes('Type "yes"')) await new Promise((resolve) => setTimeout(resolve, 20));
  const estimate = /keys re-encrypted .* \(the .env's key\): ([\d,]+)$/m.exec(asked)?.[1];
  stdin.write('no\n');
  assert.equal(await pending, 130);
  assert.ok(estimate !== undefined && Number(estimate.replace(/,/g, '')) > 0, asked);
  r = await run(['--key-env', 'OLD', '--no-safety-backup', '--json'], { OLD: KEY });
  assert.equal(r.code, 0, r.err);
  assert.equal(JSON.parse(r.out).restored.api_keys, 80);
  assert.ok(!r.out.includes(KEY) && !r.err.includes(KEY) && !r.out.includes(NEW_KEY));
});

test('backup restore --dry-run, and the question a restore asks on a terminal, name the keys added since the backup, which the restore drops, counts grouped, in en and zh', async (t) => {
  const db = await setup(t, 'sqlite', { keys: 1200, logs: 0 });
  if (!db) return;
  const backup = await backupOf(db);
  const store = await db.open();
  const codec = codecFor(KEY);
  await store.transaction(async (tx) => {
    for (let i = 0; i < 1234; i++) {
      await tx.execute(`INSERT INTO api_keys (key_value, key_hash, group_id, status) VALUES (${store.p(1)}, ${store.p(2)}, 2, 'active')`, [codec.encrypt(`sk-added-${i}`), codec.hash(`sk-added-${i}`)]);
    }
    await tx.execute('DELETE FROM api_keys WHERE id IN (5, 6)');
  });
  await store.close();
  const run = async (lang: CliIO['lang'], ...args: string[]) => {
    let out = '';
    const stdout = new PassThrough().on('data', (d) => (out += d));
    const io: CliIO = { stdout, stderr: new PassThrough(), stdin: Object.assign(new PassThrough(), { isTTY: false }), env: {}, cwd: db.envDir, lang, cancellation: { cancelled: false } };
    assert.equal(await runCli(['backup', 'restore', backup.file, '--env', join(db.envDir, '.env'), '--dry-run', ...args], io), 0);
    return out;
  };
  const en = await run('en');
  assert.match(en, /^ {2}drops 1,234 keys added since the backup \(they are not in it; ids \d+(, \d+)*, …\)$/m);
  assert.match(en, /^ {2}brings back 2 keys deleted since the backup \(backup ids 5, 6\): a key deleted because it leaked would be used again$/m);
  assert.match(en, /api_keys 1,200\b/);
  const zh = await run('zh-CN');
  assert.match(zh, /^ {2}将删除备份之后新增的 1,234 个密钥（备份中没有它们；id \d+(, \d+)*, …）$/m);
  assert.match(zh, /api_keys 1,200\b/);
  const json = JSON.parse(await run('en', '--json')) as { keysSinceBackup: { added: number; gone: number }; current: Record<string, number> };
  assert.deepEqual([json.keysSinceBackup.added, json.keysSinceBackup.gone, json.current.api_keys], [1234, 2, 2432]);

  // A restore on a terminal asks with the same lines; "no" writes nothing.
  const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => undefined });
  let err = '';
  const stderr = new PassThrough().on('data', (d) => (err += d));
  const io: CliIO = { stdout: new PassThrough(), stderr, stdin, env: {}, cwd: db.envDir, lang: 'en', cancellation: { cancelled: false } };
  const pending = runCli(['backup', 'restore', backup.file, '--env', join(db.envDir, '.env'), '--no-safety-backup'], io);
  while (!err.includes('Type "yes"')) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.match(err, /^ {2}drops 1,234 keys added since the backup \(they are not in it; ids [\d, …]+\)$/m);
  assert.match(err, /^About to restore /m);
  assert.doesNotMatch(err, /Dry run/);
  stdin.write('no\n');
  assert.equal(await pending, 130);
  const after = await db.open();
  assert.equal(await countRows(after, 'api_keys'), 2432);
  await after.close();
});

