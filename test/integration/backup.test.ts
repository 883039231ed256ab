/**
 * backup create / check / list and the key-copy check on real SQLite, MariaDB and PostgreSQL:
 * what a backup holds, that any damage is found, which key it needs, and how it compares with the
 * live database.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFileSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { codecFor } from '../../server/core/crypto';
import { runCli } from '../../server/cli';
import type { CliIO } from '../../server/cli/command';
import { createBackup, createVerifiedBackup } from '../../server/keystore/backup/create';
import { checkBackup, listBackups, readPortableManifest } from '../../server/keystore/backup/check';
import { digestLine, digestSidecar, encodeManifestMember, MANIFEST_TABLE, type BackupManifest } from '../../server/keystore/backup/format';
import { checkKeyCandidates } from '../../server/keystore/backup/keys';
import { sealKeysAtHand } from '../../server/keystore/backup/seal';
import { describeTarget } from '../../server/store/dsn';
import { createGptLoadDatabase, ENGINES, type Engine, type GptLoadDatabase } from '../support/databases';
import { closedPort } from '../support/gptload';
import { CLI } from '../support/auditDeployments';

const execFileAsync = promisify(execFile);

const KEY = 'backup-test-key-Qm7-Lp2-Zx90-aa';
const OTHER = 'another-backup-key-Vb3-Nw8-Kq55';
/** Seals backups when encryption is disabled. */
const AUTH = 'backup-test-auth-key-Kp0w-Mn44-Zq81';

async function setup(t: TestContext, engine: Engine, options: { keys?: number; logs?: number; key?: string } = {}) {
  const port = await closedPort();
  const db = await createGptLoadDatabase(t, engine, { keys: options.keys ?? 60, logs: options.logs ?? 20, encryptionKey: options.key ?? KEY, env: { PORT: String(port) } });
  return db;
}

function cliIO(db: GptLoadDatabase, stdin = '', env: NodeJS.ProcessEnv = {}) {
  let out = '';
  let err = '';
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const input = Object.assign(new PassThrough(), { isTTY: false });
  input.end(stdin);
  const io: CliIO = { stdout, stderr, stdin: input, env, cwd: db.envDir, lang: 'en', cancellation: { cancelled: false } };
  return { io, out: () => out, err: () => err };
}

function flipByte(file: string, at: number): void {
  const bytes = readFileSync(file);
  bytes[at] ^= 0x01;
  writeFileSync(file, bytes);
}

/** Rewrites a SQLite backup with `sql` and re-seals its file digest, as a careful forger would. */
function editSqliteBackup(file: string, sql: string): void {
  const Database = require('better-sqlite3') as typeof import('better-sqlite3');
  const db = new Database(file);
  db.exec(sql);
  db.close();
  writeFileSync(digestSidecar(file), digestLine(createHash('sha256').update(readFileSync(file)).digest('hex'), file));
}

for (const engine of ENGINES) {
  test(`${engine}: a backup holds every table with a sealed manifest, mode 0600, beside the .env`, async (t) => {
    const db = await setup(t, engine);
    if (!db) return;
    const store = await db.open({ readonly: true });
    const result = await createBackup(store, { encryptionKey: KEY, envDir: db.envDir });
    const m = result.manifest;
    assert.equal(dirname(result.file), join(db.envDir, 'backups'));
    assert.match(basename(result.file), new RegExp(`^gpt-load-${engine}-\\d{8}T\\d{6}Z\\.${engine === 'sqlite' ? 'db' : 'jsonl\\.gz'}$`));
    assert.equal(statSync(result.file).mode & 0o777, 0o600);
    if (engine === 'sqlite') assert.equal(statSync(digestSidecar(result.file)).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dirname(result.file)).filter((f) => f.endsWith('.partial')), []);
    assert.equal(m.engine, engine);
    assert.equal(m.layout, engine === 'sqlite' ? 'sqlite' : 'portable');
    assert.equal(m.source, describeTarget(db.target));
    assert.deepEqual(
      m.tables.map((x) => [x.name, x.included, x.rows]),
      [
        ['system_settings', true, db.seeded!.groups.length > 0 ? m.tables[0].rows : 0],
        ['groups', true, db.seeded!.groups.length],
        ['group_sub_groups', true, m.tables[2].rows],
        ['api_keys', true, 60],
        ['request_logs', true, 20],
        ['group_hourly_stats', true, 0],
      ],
    );
    assert.ok(m.tables.every((x) => /^[0-9a-f]{64}$/.test(x.sha256)));
    assert.equal(m.encryption.keyFingerprint, codecFor(KEY).fingerprint);
    assert.deepEqual(m.encryption.apiKeys, { total: 60, plaintext: 0, encrypted: 60, unknown: 0, empty: 0 });
    assert.equal(m.encryption.requestLogs!.total, 20);
    assert.deepEqual(result.warnings, []);
    assert.ok(!JSON.stringify(m).includes(KEY), 'no key in the manifest');
    assert.ok(![...db.plaintexts.values()].some((p) => readFileSync(result.file).includes(p)), 'no plaintext key in the file');

    const check = await checkBackup(result.file, { codec: codecFor(KEY), live: { store, codec: codecFor(KEY) } });
    assert.equal(check.verdict, 'ok', JSON.stringify(check.findings));
    assert.deepEqual(check.findings, []);
    assert.equal(check.key.checked, 80);
    assert.deepEqual(check.live && [check.live.basis, check.live.missing, check.live.added, check.live.liveKeys], ['key_hash', 0, 0, 60]);
  });

  test(`${engine}: a flipped byte, a truncated file and a missing table are always found`, async (t) => {
    const db = await setup(t, engine, { keys: 4, logs: 2 });
    if (!db) return;
    const store = await db.open();
    const { file } = await createBackup(store, { encryptionKey: KEY, envDir: db.envDir });
    const codec = codecFor(KEY);
    const size = statSync(file).size;
    const work = join(db.envDir, 'damaged' + (engine === 'sqlite' ? '.db' : '.jsonl.gz'));
    const damaged = (edit: () => void) => {
      copyFileSync(file, work);
      if (engine === 'sqlite') writeFileSync(digestSidecar(work), readFileSync(digestSidecar(file), 'utf8').replace(basename(file), basename(work)));
      edit();
    };

    // The headers, a spread over the whole file and the end (every byte of the manifest member is
    // flipped in test/unit/backupFormat.test.ts).
    const positions = [...new Set([...Array.from({ length: 120 }, (_, i) => i), ...Array.from({ length: 500 }, (_, i) => Math.floor((i * size) / 500)), ...Array.from({ length: 64 }, (_, i) => size - 1 - i)])];
    for (const at of positions) {
      damaged(() => flipByte(work, at));
      const quick = await checkBackup(work, { codec, quick: true });
      assert.equal(quick.verdict, 'corrupt', `byte ${at} of ${size} (quick check)`);
    }
    for (const at of positions.filter((_, i) => i % Math.ceil(positions.length / 40) === 0)) {
      damaged(() => flipByte(work, at));
      const full = await checkBackup(work, { codec });
      assert.equal(full.verdict, 'corrupt', `byte ${at} of ${size} (full check)`);
      assert.equal(full.valid, false);
    }
    for (const length of [0, 1, 20, Math.floor(size / 2), size - 1]) {
      damaged(() => truncateSync(work, length));
      assert.equal((await checkBackup(work, { codec })).verdict, 'corrupt', `truncated to ${length}`);
    }
    damaged(() => writeFileSync(work, Buffer.concat([readFileSync(work), Buffer.from('x')])));
    assert.equal((await checkBackup(work, { codec })).verdict, 'corrupt', 'a byte appended');

    if (engine === 'sqlite') {
      damaged(() => editSqliteBackup(work, 'DROP TABLE group_sub_groups'));
      let report = await checkBackup(work, { codec });
      assert.equal(report.verdict, 'corrupt');
      assert.ok(report.findings.some((f) => f.code === 'table-missing' && f.text.en.startsWith('group_sub_groups')), JSON.stringify(report.findings));
      damaged(() => editSqliteBackup(work, 'DELETE FROM api_keys WHERE id = 3'));
      report = await checkBackup(work, { codec });
      assert.ok(report.findings.some((f) => f.code === 'row-count'), JSON.stringify(report.findings));
      damaged(() => editSqliteBackup(work, `UPDATE api_keys SET notes = 'x' WHERE id = 3`));
      report = await checkBackup(work, { codec });
      assert.ok(report.findings.some((f) => f.code === 'checksum'), JSON.stringify(report.findings));
      damaged(() => editSqliteBackup(work, `DROP TABLE ${MANIFEST_TABLE}`));
      report = await checkBackup(work, { codec });
      assert.ok(report.findings.some((f) => f.code === 'manifest'), JSON.stringify(report.findings));
    } else {
      // A body rewritten without one table, under the original (sealed) manifest.
      const head = readPortableManifest(file);
      assert.ok('manifest' in head);
      const lines = gunzipSync(readFileSync(file).subarray(head.bodyOffset)).toString('utf8').split('\n');
      let skipping = false;
      const kept = lines.filter((line) => {
        if (line.startsWith('{"table"')) skipping = line === '{"table":"group_sub_groups"}';
        return !skipping;
      });
      damaged(() => writeFileSync(work, Buffer.concat([encodeManifestMember(head.manifest), gzipSync(kept.join('\n'))])));
      const report = await checkBackup(work, { codec });
      assert.equal(report.verdict, 'corrupt');
      assert.ok(report.findings.some((f) => f.code === 'structure' || f.code === 'table-missing'), JSON.stringify(report.findings));
    }

    // The CLI's verdict is exit code 9.
    damaged(() => flipByte(work, Math.floor(size / 2)));
    const cli = cliIO(db);
    assert.equal(await runCli(['backup', 'check', work, '--no-live'], cli.io), 9);
    assert.match(cli.out(), /Verdict: corrupt/);
    await store.close();
  });

  test(`${engine}: check names the key a backup needs and compares it with the live database`, async (t) => {
    const db = await setup(t, engine);
    if (!db) return;
    const store = await db.open();
    const { file } = await createBackup(store, { encryptionKey: KEY, envDir: db.envDir });
    const wrong = await checkBackup(file, { codec: codecFor(OTHER) });
    assert.equal(wrong.verdict, 'needs-key');
    assert.equal(wrong.valid, true);
    assert.equal(wrong.decryptsWithKey, false);
    assert.match(wrong.findings.find((f) => f.code === 'needs-key')!.text.en, new RegExp(`needs the ENCRYPTION_KEY with fingerprint ${codecFor(KEY).fingerprint}; the key given has fingerprint ${codecFor(OTHER).fingerprint}`));

    // Keys removed and added since the backup, by hash.
    await store.execute('DELETE FROM api_keys WHERE id IN (2, 5, 7)');
    const codec = codecFor(KEY);
    for (const plain of ['sk-added-one', 'sk-added-two']) {
      await store.execute(`INSERT INTO api_keys (key_value, key_hash, group_id, status) VALUES (${store.p(1)}, ${store.p(2)}, 1, 'active')`, [codec.encrypt(plain), codec.hash(plain)]);
    }
    const differs = await checkBackup(file, { codec, live: { store, codec } });
    assert.equal(differs.verdict, 'differs');
    assert.deepEqual([differs.live!.missing, differs.live!.added, [...differs.live!.missingIds].sort((a, b) => a - b)], [3, 2, [2, 5, 7]]);
    assert.equal(differs.live!.addedIds.length, 2);

    // Stale by age.
    const later = new Date(Date.parse(differs.manifest!.createdAt) + 8 * 24 * 3600 * 1000);
    assert.equal((await checkBackup(file, { codec, now: later })).verdict, 'stale');
    assert.equal((await checkBackup(file, { codec, now: later, maxAgeMs: 30 * 24 * 3600 * 1000 })).verdict, 'ok');

    // The CLI: exit 1 (differs), 4 (another key via --key-env), the live database unreachable is a note.
    let cli = cliIO(db);
    assert.equal(await runCli(['backup', 'check', file, '--env', join(db.envDir, '.env')], cli.io), 1, cli.err());
    assert.match(cli.out(), /3 key\(s\) gone since the backup \(backup ids 2, 5, 7\), 2 added/);
    cli = cliIO(db, '', { WRONG_KEY: OTHER });
    assert.equal(await runCli(['backup', 'check', file, '--key-env', 'WRONG_KEY', '--json'], cli.io), 4);
    assert.equal(JSON.parse(cli.out()).verdict, 'needs-key');
    cli = cliIO(db);
    assert.equal(await runCli(['backup', 'check', file, '--key', KEY, '--dsn', engine === 'postgres' ? 'postgres://nobody@127.0.0.1:1/none' : 'x@tcp(127.0.0.1:1)/none', '--timeout', '2'], cli.io), 0, cli.out());
    assert.match(cli.err(), /--key puts the key into shell history/);
    assert.match(cli.out(), /note: not compared with the live database/);
    await store.close();
  });
}

test('a backup taken while GPT-Load writes is one consistent moment', async (t) => {
  for (const engine of ENGINES) {
    await t.test(engine, async (t) => {
      const db = await setup(t, engine, { keys: 3000, logs: 3000 });
      if (!db) return;
      const reader = await db.open();
      const writer = await db.open();
      const codec = codecFor(KEY);
      // GPT-Load-like writes: a key and a request log that uses it, always in one transaction.
      let writing = true;
      let pairs = 0;
      const writes = (async () => {
        while (writing) {
          const plain = `sk-concurrent-${pairs}`;
          await writer.transaction(async (tx) => {
            await tx.execute(`INSERT INTO api_keys (key_value, key_hash, group_id, status) VALUES (${tx.p(1)}, ${tx.p(2)}, 1, 'active')`, [codec.encrypt(plain), codec.hash(plain)]);
            await tx.execute(
              `INSERT INTO request_logs (id, timestamp, group_id, key_value, key_hash, is_success, status_code, duration, request_type, is_stream) VALUES (${tx.params(10)})`,
              [`concurrent-${String(pairs).padStart(8, '0')}`, '2025-06-01 00:00:00', 1, codec.encrypt(plain), codec.hash(plain), true, 200, 5, 'final', false],
            );
          });
          pairs++;
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      try {
        const { manifest, file } = await createBackup(reader, { encryptionKey: KEY, envDir: db.envDir });
        const rows = (name: string) => manifest.tables.find((x) => x.name === name)!.rows;
        assert.equal(rows('api_keys') - 3000, rows('request_logs') - 3000, 'every key and its log, or neither');
        assert.equal((await checkBackup(file, { codec })).verdict, 'ok');
      } finally {
        writing = false;
        await writes;
      }
      assert.ok(pairs > 0, 'the writer ran meanwhile');
    });
  }
});

test('plaintext backups warn; backups without logs say so; verified backups read back', async (t) => {
  const db = await setup(t, 'sqlite', { key: '' });
  if (!db) return;
  const store = await db.open();
  const plain = await createVerifiedBackup(store, { encryptionKey: '', authKey: AUTH, envDir: db.envDir });
  assert.equal(plain.manifest.encryption.keyFingerprint, 'plaintext');
  assert.deepEqual(plain.warnings.map((w) => w.code), ['plaintext-keys']);
  assert.equal(plain.check.verdict, 'ok');
  // A plaintext backup needs no key: any key given "works".
  assert.equal((await checkBackup(plain.file, { codec: codecFor(OTHER) })).key.works, true);
  const noLogs = await createBackup(store, { encryptionKey: '', authKey: AUTH, envDir: db.envDir, includeLogs: false });
  const logs = noLogs.manifest.tables.find((x) => x.name === 'request_logs')!;
  assert.deepEqual([logs.present, logs.included, logs.rows], [true, false, 0]);
  assert.equal(noLogs.manifest.encryption.requestLogs, null);
  assert.equal((await checkBackup(noLogs.file, { sealKeys: sealKeysAtHand([], AUTH) })).verdict, 'ok');
  // Without AUTH_KEY at hand the seal of a plaintext backup cannot be checked: said plainly.
  assert.equal((await checkBackup(noLogs.file, {})).verdict, 'unverified');
  await store.close();
});

test('backup list: verdicts of every backup beside the deployment, and leftovers', async (t) => {
  const db = await setup(t, 'sqlite');
  if (!db) return;
  const store = await db.open();
  const good = await createBackup(store, { encryptionKey: KEY, envDir: db.envDir });
  const corrupt = await createBackup(store, { encryptionKey: KEY, envDir: db.envDir });
  flipByte(corrupt.file, 5000);
  writeFileSync(join(db.envDir, 'backups', 'gpt-load-sqlite-20200101T000000Z.db.partial'), 'half');
  await store.close();
  const list = await listBackups(join(db.envDir, 'backups'), { codec: codecFor(KEY) });
  assert.deepEqual(
    list.backups.map((b) => [basename(b.path), b.verdict]).sort(),
    [
      [basename(corrupt.file), 'corrupt'],
      [basename(good.file), 'ok'],
      ['gpt-load-sqlite-20200101T000000Z.db.partial', 'corrupt'],
    ].sort(),
  );
  const other = await listBackups(join(db.envDir, 'backups'), { codec: codecFor(OTHER) });
  assert.equal(other.backups.find((b) => b.path === good.file)!.verdict, 'needs-key');

  const cli = cliIO(db);
  assert.equal(await runCli(['backup', 'list', '--env', join(db.envDir, '.env')], cli.io), 0);
  assert.match(cli.out(), /works with the current key/);
  assert.match(cli.out(), /CORRUPT/);
  assert.match(cli.out(), /interrupted \(or still running\) backup/);
});

test('key copies: which copy opens the stored keys and which backups', async (t) => {
  const db = await setup(t, 'sqlite');
  if (!db) return;
  const store = await db.open();
  const backup = await createBackup(store, { encryptionKey: KEY, envDir: db.envDir });
  const report = await checkKeyCandidates(store, { candidates: [OTHER, KEY, ''], envKey: KEY, backups: [backup.file] });
  assert.equal(report.sampled, 50);
  assert.deepEqual(
    report.results.map((r) => [r.index, r.works, r.decrypted, r.matchesEnv, r.matchesBackups]),
    [
      [0, false, 0, false, []],
      [1, true, 50, true, [backup.file]],
      [2, false, 0, false, []],
    ],
  );
  assert.ok(!JSON.stringify(report).includes(KEY));
  await store.close();

  const cli = cliIO(db, `${OTHER}\n${KEY}\n`);
  assert.equal(await runCli(['keys', 'check-copies', '--env', join(db.envDir, '.env')], cli.io), 1);
  assert.match(cli.out(), new RegExp(`#2: fingerprint ${codecFor(KEY).fingerprint} — opens 50/50 — same as the .env's key — opens backups: ${backup.file}`));
  assert.match(cli.out(), /#1: .* NOT the key/);
  assert.ok(!cli.out().includes(KEY) && !cli.err().includes(KEY));
  const one = cliIO(db, `${KEY}\n`);
  assert.equal(await runCli(['keys', 'check-copies', '--env', join(db.envDir, '.env'), '--json'], one.io), 0);
});

test('a cancelled backup leaves no file behind', async (t) => {
  for (const engine of ENGINES) {
    await t.test(engine, async (t) => {
      const db = await setup(t, engine, { keys: 3000 });
      if (!db) return;
      const store = await db.open();
      const cancellation = { cancelled: false };
      await assert.rejects(
        createBackup(store, { encryptionKey: KEY, envDir: db.envDir }, { cancellation, progress: () => (cancellation.cancelled = true) }),
        (err: { code?: string }) => err.code === 'cancelled',
      );
      assert.deepEqual(readdirSync(join(db.envDir, 'backups')), []);
      await store.close();
    });
  }
});

for (const engine of ENGINES) {
  test(`${engine}: a backup name another process takes while this one writes goes to the next -N name, never an error`, async (t) => {
    const db = await setup(t, engine, { keys: 30 });
    if (!db) return;
    const store = await db.open({ readonly: true });
    const folder = join(db.envDir, 'backups');
    let taken = '';
    // At the first progress report the partial is there: publish a foreign backup under its name, as a second `backup create` would.
    const progress = () => {
      if (taken) return;
      const partial = readdirSync(folder).find((f) => f.endsWith('.partial') && !f.includes('.body.'))!;
      taken = join(folder, partial.replace(/\.\d+\.partial$/, ''));
      writeFileSync(taken, 'another backup');
      writeFileSync(digestSidecar(taken), 'its digest');
    };
    const result = await createBackup(store, { encryptionKey: KEY, envDir: db.envDir }, { progress });
    await store.close();
    assert.ok(taken, 'progress was reported');
    assert.equal(result.file, taken.replace(/(\.db|\.jsonl\.gz)$/, '-1$1'));
    assert.equal(readFileSync(taken, 'utf8'), 'another backup');
    assert.equal(readFileSync(digestSidecar(taken), 'utf8'), 'its digest');
    assert.deepEqual(readdirSync(folder).filter((f) => f.endsWith('.partial')), []);
    assert.equal((await checkBackup(result.file, { codec: codecFor(KEY) })).valid, true);
  });
}

test('two `backup create` processes started together both write a backup, under distinct names', async (t) => {
  const db = await setup(t, 'sqlite');
  if (!db) return;
  const create = () => execFileAsync(process.execPath, [CLI, 'backup', 'create', '--json'], { cwd: db.envDir });
  const files = (await Promise.all([create(), create()])).map((r) => (JSON.parse(r.stdout) as { file: string }).file);
  assert.notEqual(files[0], files[1]);
  for (const file of files) assert.equal((await checkBackup(file, { codec: codecFor(KEY) })).valid, true);
});

test('backup create through the CLI: --out, --json, an existing file is never replaced', async (t) => {
  const db = await setup(t, 'sqlite');
  if (!db) return;
  const out = join(db.envDir, 'mine.db');
  let cli = cliIO(db);
  assert.equal(await runCli(['backup', 'create', '--env', join(db.envDir, '.env'), '--out', out, '--json'], cli.io), 0, cli.err());
  const result = JSON.parse(cli.out()) as { file: string; manifest: BackupManifest };
  assert.equal(result.file, out);
  assert.equal(result.manifest.tables.find((x) => x.name === 'api_keys')!.rows, 60);
  cli = cliIO(db);
  assert.equal(await runCli(['backup', 'create', '--env', join(db.envDir, '.env'), '--out', out], cli.io), 10);
  assert.match(cli.err(), /already exists/);
  // A SQLite backup is a plain database: sqlite3 opens it as it is.
  const tables = execFileSync(process.execPath, ['-e', `const D=require('better-sqlite3');const d=new D(${JSON.stringify(out)},{readonly:true});console.log(d.prepare("select count(*) n from api_keys").get().n)`], { cwd: join(__dirname, '..', '..') });
  assert.equal(tables.toString().trim(), '60');
});

test('check compares by plaintext against a live database under another key, an empty key among the rows', async (t) => {
  const db = await setup(t, 'sqlite');
  if (!db) return;
  const store = await db.open();
  const codec = codecFor(KEY);
  // GPT-Load's ciphertext of an empty key, with the empty key_hash it writes for one.
  await store.execute(`INSERT INTO api_keys (key_value, key_hash, group_id, status) VALUES (?, '', 1, 'active')`, [codec.encrypt('')]);
  const { file } = await createBackup(store, { encryptionKey: KEY, envDir: db.envDir });
  // The live rows move to OTHER, one key is added: the comparison must go through the plaintexts.
  const other = codecFor(OTHER);
  const rows = await store.query<{ id: number; key_value: string }>('SELECT id, key_value FROM api_keys');
  for (const row of rows) {
    const plain = codec.decrypt(row.key_value);
    await store.execute('UPDATE api_keys SET key_value = ?, key_hash = ? WHERE id = ?', [other.encrypt(plain), other.hash(plain), row.id]);
  }
  await store.execute(`INSERT INTO api_keys (key_value, key_hash, group_id, status) VALUES (?, ?, 1, 'active')`, [other.encrypt('sk-added-later'), other.hash('sk-added-later')]);
  const report = await checkBackup(file, { codec, live: { store, codec: other } });
  assert.equal(report.verdict, 'differs', JSON.stringify(report.findings));
  assert.deepEqual([report.live!.missing, report.live!.added], [0, 1]);
  await store.close();
});

test('backup through the CLI on a plaintext deployment: create reports its page copy to 100%, check says no key is needed and counts keys and request logs apart, list lines up in zh-CN', async (t) => {
  const db = await setup(t, 'sqlite', { key: '', keys: 1200, logs: 30 });
  if (!db) return;
  const env = { AUTH_KEY: AUTH };
  let cli = cliIO(db, '', env);
  assert.equal(await runCli(['backup', 'create', '--env', join(db.envDir, '.env')], cli.io), 0, cli.err());
  const pages = cli.err().split('\n').filter((l) => l.startsWith('copy database pages'));
  assert.match(pages.at(-1)!, /: (\d[\d,]*)\/\1 100%/);
  const file = readdirSync(join(db.envDir, 'backups')).find((f) => f.endsWith('.db'))!;
  cli = cliIO(db, '', env);
  await runCli(['backup', 'check', join(db.envDir, 'backups', file), '--env', join(db.envDir, '.env')], cli.io);
  assert.match(cli.out(), /needs no key: 1,200 keys and 30 request logs stored in plaintext/);
  assert.match(cli.out(), /the same 1,200 keys/);
  cli = cliIO(db, '', env);
  cli.io.lang = 'zh-CN';
  await runCli(['backup', 'check', join(db.envDir, 'backups', file), '--env', join(db.envDir, '.env')], cli.io);
  assert.match(cli.out(), /无需密钥：1,200 个密钥和 30 条请求日志以明文存储/);
  cli = cliIO(db, '', env);
  cli.io.lang = 'zh-CN';
  await runCli(['backup', 'list', '--env', join(db.envDir, '.env')], cli.io);
  // Each column starts at the same terminal column on the header and the row (a CJK character is two wide).
  const [header, row] = cli.out().split('\n');
  const stringWidth = require('string-width') as (s: string) => number;
  const starts = (line: string) => [...line.matchAll(/ {2}(?=\S)/g)].map((m) => stringWidth(line.slice(0, m.index! + 2)));
  assert.deepEqual(starts(row), starts(header));
});
