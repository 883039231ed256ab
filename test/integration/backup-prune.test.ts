/**
 * Backups that do not become the leak (#13 item 6), through dist/cli.js on real SQLite, MariaDB and
 * PostgreSQL: the backup migrate-keys takes before enabling encryption is a plaintext copy of every
 * key — the summary says so and what to do, `backup list` / `backup check` mark it as a risk, and
 * `backup prune` deletes it (never the last backup of the current data unconfirmed), keeping the
 * newest backup for each key and what --keep / --max-age keep.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { codecFor } from '../../server/core/crypto';
import { createGptLoadDatabase, ENGINES, type GptLoadDatabase } from '../support/databases';
import { closedPort } from '../support/gptload';
import { REPO_ROOT } from '../support/paths';

const CLI = join(REPO_ROOT, 'dist', 'cli.js');
const NEW = 'Qm4-second_Kv.9876543210zyxwvuTS';

function cli(db: GptLoadDatabase, args: string[], lang = 'en') {
  const result = spawnSync(process.execPath, [CLI, ...args, '--env', join(db.envDir, '.env'), '--lang', lang], {
    encoding: 'utf8',
    input: '',
    env: { PATH: process.env.PATH, NEW },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function backupFiles(db: GptLoadDatabase): string[] {
  const dir = join(db.envDir, 'backups');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

for (const engine of ENGINES) {
  test(`${engine}: the plaintext backup taken before enabling encryption is called a risk, and prune --plaintext deletes it`, async (t) => {
    const db = await createGptLoadDatabase(t, engine, { keys: 3000, logs: 2000, env: { PORT: String(await closedPort()) } });
    if (!db) return;

    const migrate = cli(db, ['migrate-keys', '--to-env', 'NEW', '--update-env', '--yes']);
    assert.equal(migrate.code, 0, migrate.stderr + migrate.stdout);
    assert.match(migrate.stdout, /rewrote 3,000 keys and 2,000 request logs/);
    assert.match(migrate.stdout, /warning: the backup of the state before \(.+\) is a PLAINTEXT copy of 3,000 keys and 2,000 request logs/);
    assert.match(migrate.stdout, /gpt-load-keystore backup prune --plaintext/);
    const plain = /backup \(checked\) of the state before: (.+)\n/.exec(migrate.stdout)![1];
    assert.ok(existsSync(plain));
    assert.ok(!migrate.stdout.includes(NEW) && !migrate.stderr.includes(NEW));

    // list and check: a risk, never a plain "works with the current key".
    const list = cli(db, ['backup', 'list']);
    assert.equal(list.code, 0, list.stderr);
    const row = list.stdout.split('\n').find((l) => l.endsWith(basename(plain)))!;
    assert.match(row, /^PLAINTEXT keys \(risk\)/);
    assert.doesNotMatch(row, /works with the current key/);
    assert.match(list.stdout, /holds 3,000 keys and 2,000 request logs in PLAINTEXT/);
    const listZh = cli(db, ['backup', 'list'], 'zh-CN');
    assert.match(listZh.stdout, /明文密钥（风险）/);
    assert.match(listZh.stdout, /以明文保存了 3,000 个密钥和 2,000 条请求日志/);
    const listJson = JSON.parse(cli(db, ['backup', 'list', '--json']).stdout);
    assert.deepEqual(listJson.backups[0].plaintext, { apiKeys: 3000, requestLogs: 2000 });
    const check = cli(db, ['backup', 'check', plain, '--no-live']);
    assert.equal(check.code, 1, check.stdout + check.stderr);
    assert.match(check.stdout, /Verdict: ok — whole, and the key opens it — RISK: keys in PLAINTEXT/);

    // It is the only backup of the current data: a dry run says so, an unconfirmed prune refuses.
    const dry = cli(db, ['backup', 'prune', '--plaintext', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /Dry run: would delete 1 backup\(s\)/);
    assert.match(dry.stdout, /holds keys in PLAINTEXT/);
    assert.match(dry.stdout, /warning: after this no backup is left that restores the current data/);
    const refused = cli(db, ['backup', 'prune', '--plaintext']);
    assert.equal(refused.code, 5, refused.stderr);
    assert.match(refused.stderr, /Nothing was deleted/);
    assert.ok(existsSync(plain), 'nothing deleted');

    // With a backup under the new key, --plaintext deletes the plaintext one (and its digest file) at once.
    const create = cli(db, ['backup', 'create']);
    assert.equal(create.code, 0, create.stderr);
    const prune = cli(db, ['backup', 'prune', '--plaintext']);
    assert.equal(prune.code, 0, prune.stderr + prune.stdout);
    assert.match(prune.stdout, /Deleted 1 backup\(s\)/);
    assert.match(prune.stdout, /1 of them held 3,000 keys and 2,000 request logs in plaintext/);
    const left = backupFiles(db);
    assert.equal(left.filter((f) => !f.endsWith('.sha256')).length, 1);
    assert.ok(!left.some((f) => f.startsWith(basename(plain))), `no ${basename(plain)} or its sidecar left: ${left}`);
    const after = JSON.parse(cli(db, ['backup', 'list', '--json']).stdout);
    assert.equal(after.backups[0].plaintext, null);
    assert.equal(after.backups[0].key.needed, codecFor(NEW).fingerprint);
    assert.equal(after.backups[0].verdict, 'ok');
  });
}

test('backup prune keeps the newest backup per key and what --keep / --max-age keep; leaves damaged files; --dry-run deletes nothing', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 20, logs: 5, env: { PORT: String(await closedPort()) } });
  if (!db) return;
  const backup = () => {
    const r = cli(db, ['backup', 'create', '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout).info.path as string;
  };
  const plainOld = backup();
  assert.equal(cli(db, ['migrate-keys', '--to-env', 'NEW', '--update-env', '--yes']).code, 0);
  const plainBeforeMigrate = backupFiles(db).map((f) => join(db.envDir, 'backups', f)).find((f) => f !== plainOld && !f.endsWith('.sha256'))!;
  const [k1, k2, k3] = [backup(), backup(), backup()];
  writeFileSync(join(db.envDir, 'backups', 'gpt-load-sqlite-20200101T000000Z.db'), 'not a backup');
  writeFileSync(join(db.envDir, 'backups', 'gpt-load-sqlite-20190101T000000Z.db.sha256'), 'orphan');
  // A backup being written: its sidecar comes before its file, still a .partial. Neither is touched.
  writeFileSync(join(db.envDir, 'backups', 'gpt-load-sqlite-20180101T000000Z.db.sha256'), 'in progress');
  writeFileSync(join(db.envDir, 'backups', 'gpt-load-sqlite-20180101T000000Z.db.4242.partial'), 'in progress');

  assert.equal(cli(db, ['backup', 'prune']).code, 2, 'a rule is required');
  const young = cli(db, ['backup', 'prune', '--max-age', '1h', '--json']);
  assert.equal(young.code, 0, young.stderr);
  assert.deepEqual(JSON.parse(young.stdout).deleted, [], 'every backup is younger than an hour');
  // A digest file whose backup is gone (a prune interrupted between the two) goes with any prune.
  assert.deepEqual(JSON.parse(young.stdout).orphans.map((p: string) => basename(p)), ['gpt-load-sqlite-20190101T000000Z.db.sha256']);

  const before = backupFiles(db);
  const dry = JSON.parse(cli(db, ['backup', 'prune', '--keep', '2', '--dry-run', '--json']).stdout);
  assert.deepEqual(backupFiles(db), before, 'a dry run deletes nothing');
  const reasons = (entries: Array<{ path: string; reason: string }>) => Object.fromEntries(entries.map((e) => [basename(e.path), e.reason]));
  assert.deepEqual(reasons(dry.deleted), { [basename(k1)]: 'pruned', [basename(plainOld)]: 'pruned' });
  assert.deepEqual(reasons(dry.kept), {
    [basename(k3)]: 'newest-for-key',
    [basename(k2)]: 'keep',
    [basename(plainBeforeMigrate)]: 'newest-for-key',
    'gpt-load-sqlite-20200101T000000Z.db': 'unchecked',
    'gpt-load-sqlite-20180101T000000Z.db.4242.partial': 'unchecked',
  });

  const run = cli(db, ['backup', 'prune', '--keep', '2']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /Deleted 2 backup\(s\)/);
  assert.match(run.stdout, /note: 1 of them held 20 keys and 5 request logs in plaintext — --plaintext deletes them/);
  const left = backupFiles(db);
  for (const gone of [k1, plainOld]) assert.ok(!left.some((f) => f.startsWith(basename(gone))), `${basename(gone)} and its sidecar are gone`);
  assert.ok(!left.includes('gpt-load-sqlite-20190101T000000Z.db.sha256'));
  for (const kept of [k2, k3, plainBeforeMigrate]) assert.ok(left.includes(basename(kept)) && left.includes(`${basename(kept)}.sha256`), `${basename(kept)} kept whole`);
  assert.ok(left.includes('gpt-load-sqlite-20200101T000000Z.db'));
  assert.ok(left.includes('gpt-load-sqlite-20180101T000000Z.db.sha256') && left.includes('gpt-load-sqlite-20180101T000000Z.db.4242.partial'), 'a backup in progress is left alone');
  // What is left lists as before: nothing half-deleted.
  const list = JSON.parse(cli(db, ['backup', 'list', '--json']).stdout);
  assert.deepEqual(list.backups.map((b: { verdict: string }) => b.verdict).sort(), ['corrupt', 'corrupt', 'ok', 'ok', 'ok']);
});
