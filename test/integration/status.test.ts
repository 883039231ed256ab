/**
 * `gpt-load-keystore status` through dist/cli.js on SQLite, MariaDB (as MySQL) and PostgreSQL:
 * GPT-Load's dashboard verdict, exact per-row counts (hand-corrupted rows included), groups,
 * --json, exit codes and connection failures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codecFor, sha256Hex } from '../../server/core/crypto';
import type { Store } from '../../server/store/connect';
import { createGptLoadDatabase, ENGINES, type GptLoadDatabase } from '../support/databases';
import { closedPort } from '../support/gptload';
import { REPO_ROOT } from '../support/paths';

const CLI = join(REPO_ROOT, 'dist', 'cli.js');
/** One of the vectors' passwords, so the vector rows are GPT-Load's own ciphertexts under it. */
const KEY = 'my-32-char-secret-key-AbCdEf012345!';
const OTHER_KEY = 'Zx9!qT7#mR2$wL5^vB8&nK3*hJ6(pF1)';

function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  // The timeout only stops a hung run from hanging the suite; no assertion depends on speed.
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 120_000, env: { PATH: process.env.PATH, LANG: 'C', ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function statusJson(db: GptLoadDatabase, env: NodeJS.ProcessEnv = {}, extra: string[] = []) {
  const r = cli(['status', '--json', ...extra], db.envDir, env);
  assert.ok(r.status === 0 || r.status === 1, `exit ${r.status}: ${r.stderr}`);
  return { status: r.status, report: JSON.parse(r.stdout), stderr: r.stderr };
}

async function setKey(store: Store, table: 'api_keys' | 'request_logs', id: number | string, keyValue: string, keyHash: string): Promise<void> {
  const changed = await store.execute(`UPDATE ${table} SET key_value = ${store.p(1)}, key_hash = ${store.p(2)} WHERE id = ${store.p(3)}`, [keyValue, keyHash, id]);
  assert.equal(changed, 1, `${table} row ${id}`);
}

function flipLastByte(hex: string): string {
  return hex.slice(0, -2) + (hex.slice(-2) === 'ff' ? '00' : 'ff');
}

const codec = codecFor(KEY);
const other = codecFor(OTHER_KEY);

for (const engine of ENGINES) {
  test(`status counts every row exactly — GPT-Load vectors, corrupted rows, another key's rows — on ${engine}`, async (t) => {
    const db = await createGptLoadDatabase(t, engine, { keys: 200, logs: 120, encryptionKey: KEY, includeVectorRows: true, env: true });
    if (!db) return;
    const vectorRows = db.plaintexts.size - 200;
    assert.ok(vectorRows >= 7, 'the vectors add GPT-Load ciphertexts');
    const store = await db.open();
    const value = async (id: number) => String((await store.query(`SELECT key_value FROM api_keys WHERE id = ${store.p(1)}`, [id]))[0].key_value);
    const hash = async (id: number) => String((await store.query(`SELECT key_hash FROM api_keys WHERE id = ${store.p(1)}`, [id]))[0].key_hash);
    // api_keys: five undecryptable rows, one plaintext row.
    await setKey(store, 'api_keys', 3, (await value(3)).slice(0, -1), await hash(3)); // odd hex
    await setKey(store, 'api_keys', 5, (await value(5)).slice(0, 40), await hash(5)); // truncated below nonce + tag
    await setKey(store, 'api_keys', 7, flipLastByte(await value(7)), await hash(7)); // tag flipped
    for (const id of [11, 12]) await setKey(store, 'api_keys', id, other.encrypt(db.plaintexts.get(id)!), other.hash(db.plaintexts.get(id)!)); // another key
    await setKey(store, 'api_keys', 13, db.plaintexts.get(13)!, sha256Hex(db.plaintexts.get(13)!)); // left in plaintext
    // request_logs: one flipped, one under another key, one plaintext, one without any key.
    const logIds = (await store.query(`SELECT id FROM request_logs ORDER BY id LIMIT 4`)).map((r) => String(r.id));
    const logValue = String((await store.query(`SELECT key_value FROM request_logs WHERE id = ${store.p(1)}`, [logIds[0]]))[0].key_value);
    await setKey(store, 'request_logs', logIds[0], flipLastByte(logValue), 'ab'.repeat(32));
    await setKey(store, 'request_logs', logIds[1], other.encrypt('sk-log-key'), other.hash('sk-log-key'));
    await setKey(store, 'request_logs', logIds[2], 'sk-log-plain', sha256Hex('sk-log-plain'));
    await setKey(store, 'request_logs', logIds[3], '', '');
    await store.close();

    const { status, report } = statusJson(db);
    assert.equal(status, 1, 'a mixed state needs attention');
    assert.deepEqual(Object.keys(report).filter((k) => k !== 'migration').sort(), [
      'apiKeys', 'attention', 'dashboard', 'encryptionEnabled', 'engine', 'groups', 'keyFingerprint', 'keySource', 'requestLogs', 'state', 'target', 'tempMigration',
    ]);
    assert.equal(report.engine, engine);
    assert.equal(report.encryptionEnabled, true);
    assert.equal(report.keyFingerprint, codec.fingerprint);
    assert.equal(report.state, 'mixed');
    assert.deepEqual(report.apiKeys, {
      total: 200 + vectorRows, plaintext: 1, encrypted: 194 + vectorRows, unknown: 5, empty: 0, unknownIds: [3, 5, 7, 11, 12],
      noHash: 0, wrongHash: 0, exampleIds: { plaintext: [13], noHash: [], wrongHash: [] },
    });
    assert.deepEqual({ ...report.requestLogs, unknownIds: [...report.requestLogs.unknownIds].sort() }, {
      total: 120, plaintext: 1, encrypted: 116, unknown: 2, empty: 1, unknownIds: [logIds[0], logIds[1]].sort(),
      noHash: 0, wrongHash: 0, exampleIds: { plaintext: [logIds[2]], noHash: [], wrongHash: [] },
    });
    assert.equal(report.tempMigration, null);
    assert.ok(report.attention.length >= 2, 'plaintext and undecryptable rows, each with its command');
    // GPT-Load's own 20-row sample sees 1 plaintext and 14 of 20 decrypting (SQLite, MySQL): no warning, although 5 rows are lost.
    // PostgreSQL returns the unordered LIMIT 20 in heap order: an updated row stays in its page (a HOT
    // update) or moves to the end, so which of the 6 changed rows its sample sees varies from run to run.
    if (engine === 'postgres') {
      const { verdict, sampled, plaintextShare, decryptShare } = report.dashboard;
      assert.deepEqual({ verdict, sampled }, { verdict: null, sampled: 20 });
      assert.ok([0, 0.05].includes(plaintextShare), `plaintextShare ${plaintextShare}`);
      assert.ok(decryptShare >= 0.7 && decryptShare <= 1 - plaintextShare, `decryptShare ${decryptShare}`);
    } else {
      assert.deepEqual(report.dashboard, { verdict: null, sampled: 20, plaintextShare: 0.05, decryptShare: 0.7 });
    }
    assert.deepEqual(
      report.groups.map((g: { name: string; active: number; invalid: number; groupType: string; channelType: string }) => [g.name, g.active, g.invalid, g.groupType, g.channelType]),
      db.seeded!.groups.map((g) => [g.name, g.active, g.invalid, g.group_type, g.channel_type]),
    );
    assert.ok(!JSON.stringify(report).includes(KEY));

    const text = cli(['status'], db.envDir);
    assert.equal(text.status, 1);
    assert.match(text.stdout, /^State: mixed — /m);
    assert.match(text.stdout, new RegExp(`^api_keys: ${200 + vectorRows} rows: 1 plaintext \\(e\\.g\\. ids 13\\), ${194 + vectorRows} encrypted with the configured key, 5 undecryptable \\(e\\.g\\. ids 3, 5, 7, 11, 12\\)$`, 'm'));
    assert.match(text.stdout, /^request_logs: 120 rows: 1 plaintext \(e\.g\. ids [0-9a-f-]+\), 116 encrypted with the configured key, 2 undecryptable \(e\.g\. ids [0-9a-f-]+, [0-9a-f-]+\), 1 without key/m);
    assert.match(text.stdout, /^ {2}openai \[openai\]: \d+ active, \d+ invalid$/m);
    assert.match(text.stderr, /classify api_keys: \d+\/\d+ 100%/, 'progress goes to stderr');

    const skipped = statusJson(db, {}, ['--skip-logs']).report;
    assert.deepEqual(skipped.requestLogs, { total: 0, plaintext: 0, encrypted: 0, unknown: 0, empty: 0, unknownIds: [], noHash: 0, wrongHash: 0, exampleIds: { plaintext: [], noHash: [], wrongHash: [] } });
    assert.equal(skipped.apiKeys.unknown, 5);
  });

  test(`status: GPT-Load's dashboard verdicts and exit codes, with its own ciphertexts in the sample, on ${engine}`, async (t) => {
    // 16 generated keys, then the vectors' GPT-Load ciphertexts: the 20-row sample holds both.
    const encrypted = await createGptLoadDatabase(t, engine, { keys: 16, logs: 10, encryptionKey: KEY, includeVectorRows: true, env: true });
    if (!encrypted) return;
    const plain = await createGptLoadDatabase(t, engine, { keys: 30, logs: 5, encryptionKey: '', env: true });
    if (!plain) return;
    const cases: Array<[string, GptLoadDatabase, NodeJS.ProcessEnv, string | null, string, number]> = [
      ['encrypted, right key (.env)', encrypted, {}, null, 'ok', 0],
      // The process environment wins over .env, as in GPT-Load.
      ['encrypted, no key', encrypted, { ENCRYPTION_KEY: '' }, 'key_not_configured', 'key-missing', 1],
      ['encrypted, another key', encrypted, { ENCRYPTION_KEY: OTHER_KEY }, 'key_mismatch', 'wrong-key', 1],
      // Encryption off: GPT-Load's dashboard warns that data is stored in plain text; so does status.
      ['plaintext, no key (.env)', plain, {}, null, 'not-encrypted', 1],
      ['plaintext, a key configured', plain, { ENCRYPTION_KEY: KEY }, 'data_not_encrypted', 'needs-migration', 1],
    ];
    for (const [what, db, env, verdict, state, exit] of cases) {
      const { status, report } = statusJson(db, env);
      assert.equal(report.dashboard.verdict, verdict, what);
      assert.equal(report.dashboard.sampled, 20, what);
      assert.equal(report.state, state, what);
      assert.equal(status, exit, what);
      const text = cli(['status'], db.envDir, env);
      assert.equal(text.status, exit, what);
      const shown = verdict
        ? new RegExp(`^GPT-Load's dashboard: ${verdict} — `, 'm')
        : state === 'not-encrypted'
          ? /^GPT-Load's dashboard: ENCRYPTION_KEY is not set: sensitive data will be stored in plain text/m
          : /^GPT-Load's dashboard: no warning/m;
      assert.match(text.stdout, shown, what);
    }
  });
}

test("status says where its ENCRYPTION_KEY came from; an old key in the shell hiding the .env's is named with both fingerprints, never the keys (SQLite)", async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 5, encryptionKey: KEY, env: true });
  if (!db) return;
  const fromFile = statusJson(db);
  assert.deepEqual(fromFile.report.keySource, { from: 'env-file', hiddenEnvFileKey: null, container: null });
  assert.equal(fromFile.report.state, 'ok');
  assert.match(cli(['status'], db.envDir).stdout, new RegExp(`^ENCRYPTION_KEY: set \\(fingerprint ${codec.fingerprint}\\), from \\.env$`, 'm'));
  // The same key exported in the shell hides nothing.
  assert.deepEqual(statusJson(db, { ENCRYPTION_KEY: KEY }).report.keySource, { from: 'environment', hiddenEnvFileKey: null, container: null });

  // An old key left exported in the shell: GPT-Load started from it would read it too, so the verdict stands.
  const { status, report } = statusJson(db, { ENCRYPTION_KEY: OTHER_KEY });
  assert.equal(status, 1);
  assert.equal(report.state, 'wrong-key');
  assert.equal(report.keyFingerprint, other.fingerprint);
  const envLine = readFileSync(join(db.envDir, '.env'), 'utf8').split('\n').findIndex((l) => l.startsWith('ENCRYPTION_KEY=')) + 1;
  assert.deepEqual(report.keySource, { from: 'environment', hiddenEnvFileKey: { fingerprint: codec.fingerprint, line: envLine }, container: null });
  const hint = report.attention.find((a: { en: string }) => a.en.startsWith("ENCRYPTION_KEY in this shell's environment"));
  assert.ok(hint, JSON.stringify(report.attention));
  assert.ok(hint.en.includes(`fingerprint ${other.fingerprint}`) && hint.en.includes(`.env line ${envLine} (fingerprint ${codec.fingerprint})`), hint.en);
  assert.match(hint.en, /unset ENCRYPTION_KEY/);
  assert.match(hint.en, /the \.env is stale/);
  // The undecryptable rows' advice points at the shell, not at a .env that is already right.
  const undecryptable = report.attention.find((a: { en: string }) => a.en.startsWith('undecryptable rows'));
  assert.match(undecryptable.en, /the ENCRYPTION_KEY this shell exports does not open them: try "unset ENCRYPTION_KEY"/);
  assert.doesNotMatch(undecryptable.en, /put the right one into \.env/);

  const en = cli(['status'], db.envDir, { ENCRYPTION_KEY: OTHER_KEY });
  assert.match(en.stdout, new RegExp(`^ENCRYPTION_KEY: set \\(fingerprint ${other.fingerprint}\\), from the environment \\(shell\\), which overrides \\.env$`, 'm'));
  assert.match(en.stdout, new RegExp(`^  - ENCRYPTION_KEY in this shell's environment \\(fingerprint ${other.fingerprint}\\) differs from the one in \\.env line ${envLine} \\(fingerprint ${codec.fingerprint}\\)`, 'm'));
  const zh = cli(['status'], db.envDir, { ENCRYPTION_KEY: OTHER_KEY, LANG: 'zh_CN.UTF-8' });
  assert.match(zh.stdout, /，来自环境变量（shell），它优先于 \.env$/m);
  assert.match(zh.stdout, new RegExp(`当前 shell 环境变量中的 ENCRYPTION_KEY（指纹 ${other.fingerprint}）与 \\.env 第 ${envLine} 行的（指纹 ${codec.fingerprint}）不同`));
  for (const out of [en.stdout, en.stderr, zh.stdout, zh.stderr, JSON.stringify(report)]) {
    assert.ok(!out.includes(KEY) && !out.includes(OTHER_KEY), 'no key printed');
  }
});

test("status under Docker Compose names the key GPT-Load's container gets, and says when it is not the one judged (SQLite)", async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 5, encryptionKey: KEY, env: true });
  if (!db) return;
  const compose = join(db.envDir, 'docker-compose.yml');
  // env_file: the container gets the .env's key; the shell's old key never reaches it.
  writeFileSync(compose, ['services:', '  gpt-load:', '    image: ghcr.io/tbphp/gpt-load:latest', '    env_file: .env', ''].join('\n'));
  const { report } = statusJson(db, { ENCRYPTION_KEY: OTHER_KEY });
  const container = report.keySource.container;
  assert.deepEqual([container.service, container.via, container.fingerprint], ['gpt-load', 'env_file', codec.fingerprint]);
  const hint = report.attention.find((a: { en: string }) => a.en.startsWith("Docker Compose gives GPT-Load's container (service gpt-load) another ENCRYPTION_KEY"));
  assert.ok(hint, JSON.stringify(report.attention));
  assert.ok(hint.en.includes(`fingerprint ${codec.fingerprint}; Compose env_file:`) && hint.en.includes(`(fingerprint ${other.fingerprint}, from the environment)`), hint.en);
  const text = cli(['status'], db.envDir, { ENCRYPTION_KEY: OTHER_KEY }).stdout;
  assert.match(text, new RegExp(`^GPT-Load's container \\(Compose service gpt-load\\): ENCRYPTION_KEY from Compose env_file: at .+, fingerprint ${codec.fingerprint} \\(another key\\)$`, 'm'));
  const zh = cli(['status'], db.envDir, { ENCRYPTION_KEY: OTHER_KEY, LANG: 'zh_CN.UTF-8' }).stdout;
  assert.match(zh, /^GPT-Load 容器（Compose 服务 gpt-load）：ENCRYPTION_KEY 来自 Compose 的 env_file:（.+），指纹 [0-9a-f]+（另一个密钥）$/m);
  assert.match(zh, /Docker Compose 给 GPT-Load 容器（服务 gpt-load）的 ENCRYPTION_KEY/);

  // environment: interpolating the shell's variable: the container does get the shell's key.
  writeFileSync(compose, ['services:', '  gpt-load:', '    image: ghcr.io/tbphp/gpt-load:latest', '    environment:', '      ENCRYPTION_KEY: ${ENCRYPTION_KEY}', ''].join('\n'));
  const shellWins = statusJson(db, { ENCRYPTION_KEY: OTHER_KEY }).report;
  assert.deepEqual(shellWins.keySource.container, { service: 'gpt-load', via: 'environment', file: compose, line: 5, fingerprint: other.fingerprint });
  assert.ok(!shellWins.attention.some((a: { en: string }) => a.en.startsWith('Docker Compose gives')));
  assert.match(cli(['status'], db.envDir, { ENCRYPTION_KEY: OTHER_KEY }).stdout, /^GPT-Load's container \(Compose service gpt-load\): ENCRYPTION_KEY from Compose environment: at .+docker-compose\.yml:5, the same key$/m);
});

test('status: the dashboard samples 20 rows, the exact counts see everything (SQLite)', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 40, encryptionKey: '', env: { ENCRYPTION_KEY: KEY } });
  if (!db) return;
  const store = await db.open();
  const encryptRow = (id: number) => setKey(store, 'api_keys', id, codec.encrypt(db.plaintexts.get(id)!), codec.hash(db.plaintexts.get(id)!));
  for (const id of [1, 2, 3]) await encryptRow(id);
  let { status, report } = statusJson(db);
  assert.equal(report.dashboard.plaintextShare, 0.85);
  assert.equal(report.dashboard.verdict, 'data_not_encrypted');
  assert.equal(report.state, 'mixed');
  assert.equal(status, 1);

  await encryptRow(4);
  ({ report } = statusJson(db));
  assert.equal(report.dashboard.plaintextShare, 0.8);
  assert.equal(report.dashboard.verdict, null, 'GPT-Load says nothing at exactly 80%…');
  assert.deepEqual([report.apiKeys.plaintext, report.apiKeys.encrypted], [36, 4], '…the counts do');

  // Rows beyond the sample never reach GPT-Load's verdict.
  for (let id = 21; id <= 40; id++) await setKey(store, 'api_keys', id, other.encrypt('sk-x'), other.hash('sk-x'));
  ({ report } = statusJson(db));
  assert.equal(report.dashboard.verdict, null);
  assert.deepEqual([report.apiKeys.plaintext, report.apiKeys.encrypted, report.apiKeys.unknown], [16, 4, 20]);
  assert.equal(report.apiKeys.unknownIds.length, 10, 'at most ten example ids');
});

for (const engine of ENGINES) {
  test(`status: an empty GPT-Load database exits 0; a database without GPT-Load's tables exits 8, on ${engine}`, async (t) => {
    const empty = await createGptLoadDatabase(t, engine, { env: true });
    if (!empty) return;
    const { status, report } = statusJson(empty);
    assert.equal(status, 0);
    assert.equal(report.state, 'empty');
    assert.equal(report.dashboard.sampled, 0);

    const bare = await createGptLoadDatabase(t, engine, { schema: false, env: true });
    if (!bare) return;
    const r = cli(['status'], bare.envDir);
    assert.equal(r.status, 8, r.stderr);
    assert.match(r.stderr, /api_keys/);
    assert.equal(r.stdout, '');
  });
}

test('status: --db-host reaches a Docker Compose DSN from outside (MySQL service name "mysql")', async (t) => {
  const db = await createGptLoadDatabase(t, 'mysql', { keys: 5, encryptionKey: KEY });
  if (!db) return;
  if (db.target.kind !== 'mysql') throw new Error('mysql expected');
  const composeDsn = db.dsn.replace(/@tcp\([^)]*\)/, '@tcp(mysql:3306)');
  writeFileSync(join(db.envDir, '.env'), `ENCRYPTION_KEY='${KEY}'\nDATABASE_DSN=${composeDsn}\n`);
  const r = cli(['status', '--json', '--db-host', `${db.target.host}:${db.target.port}`], db.envDir);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).apiKeys.encrypted, 5);
});

test('status: connection failures exit 7 with what failed and the way out, never hanging or quoting a password', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'glk-status-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  const serviceNameResolves = await lookup('mysql').then(() => true, () => false);
  if (!serviceNameResolves) {
    const r = cli(['status', '--dsn', 'root:x-Secret-Pw@tcp(mysql:3306)/gpt-load'], dir);
    assert.equal(r.status, 7, r.stderr);
    assert.match(r.stderr, /Cannot resolve the database host "mysql"/);
    assert.match(r.stderr, /Docker Compose/);
    assert.match(r.stderr, /--db-host HOST\[:PORT\] \(e\.g\. --db-host 127\.0\.0\.1:3306\)/);
    assert.ok(!r.stderr.includes('x-Secret-Pw'));
    const pg = cli(['status', '--dsn', 'postgres://postgres:x-Secret-Pw@postgres:5432/gpt-load'], dir);
    assert.equal(pg.status, 7, pg.stderr);
    assert.match(pg.stderr, /"postgres"/);
    assert.ok(!pg.stderr.includes('x-Secret-Pw'));
  }

  const port = await closedPort();
  const refused = cli(['status', '--dsn', `root:x-Secret-Pw@tcp(127.0.0.1:${port})/gpt-load`], dir);
  assert.equal(refused.status, 7, refused.stderr);
  assert.match(refused.stderr, new RegExp(`127\\.0\\.0\\.1:${port}`));
  assert.ok(!refused.stderr.includes('x-Secret-Pw'));

  // A server that accepts and never answers: the --timeout deadline, not a hang.
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });
  const silentPort = (silent.address() as { port: number }).port;
  const timedOut = cli(['status', '--timeout', '1', '--dsn', `postgres://postgres@127.0.0.1:${silentPort}/gpt-load?sslmode=disable`], dir);
  assert.equal(timedOut.status, 7, timedOut.stderr);
  assert.match(timedOut.stderr, /No answer from 127\.0\.0\.1:\d+ within 1000 ms/);

  // No .env and nothing else naming the database: the .env is what is missing (#13 item 1).
  const missing = cli(['status'], dir);
  assert.equal(missing.status, 3);
  assert.match(missing.stderr, /\.env does not exist: name GPT-Load's \.env with --env FILE/);
});
