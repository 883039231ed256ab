/**
 * Forged backups (issue 12 item 2), through dist/cli.js on SQLite and the portable MySQL/PostgreSQL
 * format: someone with only the backups folder changes a group's upstreams to https://evil.example,
 * recomputes the table digest, the body digest, the seal and the sidecar as the unkeyed format did
 * — or downgrades the file to that format, or reseals it under a key of their own. `backup check`
 * is not ok and `backup restore --yes` writes nothing; `--accept-unverified` is the loud way through
 * for an unverifiable file. A backup of a rotated key verifies with the old key given.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { readPortableManifest } from '../../server/keystore/backup/check';
import { TableDigest, type TableManifest } from '../../server/keystore/backup/format';
import { quotedColumns, sqlitePages } from '../../server/keystore/backup/sqlite';
import { sealKeyOfAuthKey, sealManifestWith } from '../../server/keystore/backup/seal';
import { createGptLoadDatabase, ENGINES, type GptLoadDatabase } from '../support/databases';
import { REPO_ROOT } from '../support/paths';
import { rewriteBackup, unkeyedSeal } from '../support/backups';

const CLI = join(REPO_ROOT, 'dist', 'cli.js');
const KEY = 'forgery-test-key-Qm7-Lp2-Zx90-aa';
const EVIL = '["https://evil.example"]';

function cli(args: string[], db: GptLoadDatabase, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: db.envDir, encoding: 'utf8', timeout: 300_000, env: { PATH: process.env.PATH, LANG: 'C', ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function upstreams(db: GptLoadDatabase): Promise<string[]> {
  const store = await db.open({ readonly: true });
  try {
    return (await store.query<{ upstreams: unknown }>(`SELECT upstreams FROM ${store.q('groups')} ORDER BY id`)).map((r) => String(r.upstreams));
  } finally {
    await store.close();
  }
}

/** The backup's rows with every group's upstreams replaced, and the groups table's new count and digest. */
async function forgeRows(file: string): Promise<{ groups: Pick<TableManifest, 'rows' | 'sha256'>; body?: Buffer }> {
  if (file.endsWith('.db')) {
    const Database = require('better-sqlite3') as typeof import('better-sqlite3');
    const db = new Database(file);
    db.prepare(`UPDATE "groups" SET upstreams = ?`).run(EVIL);
    const columns = (db.prepare(`PRAGMA table_info("groups")`).all() as Array<{ name: string; type: string }>).map((c) => ({ name: c.name, type: c.type }));
    const digest = new TableDigest();
    for await (const rows of sqlitePages(db, 'groups', quotedColumns(columns), 1000)) digest.addRows(rows.map((r) => r.slice(0, columns.length).map((v) => (v === null ? null : String(v)))));
    db.close();
    return { groups: { rows: digest.rows, sha256: digest.digest() } };
  }
  const head = readPortableManifest(file);
  assert.ok(!('failure' in head));
  const table = head.manifest.tables.find((t) => t.name === 'groups')!;
  const at = table.columns.findIndex((c) => c.name === 'upstreams');
  const digest = new TableDigest();
  let section = '';
  const lines = gunzipSync(readFileSync(file).subarray(head.bodyOffset))
    .toString('utf8')
    .split('\n')
    .map((line) => {
      if (!line.startsWith('[')) {
        section = line === '' ? section : ((JSON.parse(line) as { table?: string }).table ?? '');
        return line;
      }
      if (section !== 'groups') return line;
      const row = JSON.parse(line) as (string | null)[];
      row[at] = EVIL;
      digest.add(row);
      return JSON.stringify(row);
    });
  return { groups: { rows: digest.rows, sha256: digest.digest() }, body: gzipSync(lines.join('\n')) };
}

type Forgery = 'resealed-unkeyed' | 'downgraded-to-format-1' | 'resealed-own-key';

async function forge(file: string, how: Forgery): Promise<void> {
  const { groups, body } = await forgeRows(file);
  rewriteBackup(
    file,
    (m) => {
      const tables = (m.tables as TableManifest[]).map((t) => (t.name === 'groups' ? { ...t, ...groups } : t));
      const edited: Record<string, unknown> = { ...m, tables };
      if (how === 'resealed-unkeyed') return unkeyedSeal(edited);
      const { sealKey: _k, seal: _s, ...rest } = edited;
      if (how === 'downgraded-to-format-1') return unkeyedSeal({ ...rest, version: 1 });
      return sealManifestWith(rest as never, sealKeyOfAuthKey('the-forgers-own-key-Zq81-Lm2Kp0')!) as never;
    },
    body,
  );
}

for (const engine of ENGINES) {
  test(`${engine}: forged backups (upstreams → evil.example) fail check and are not restored`, async (t) => {
    const db = await createGptLoadDatabase(t, engine, { keys: 12, logs: 4, encryptionKey: KEY, env: true });
    if (!db) return;
    assert.equal(cli(['backup', 'create'], db).status, 0);
    const [name] = readdirSync(join(db.envDir, 'backups')).filter((f) => !f.endsWith('.sha256'));
    const original = join(db.envDir, 'backups', name);
    const before = await upstreams(db);
    assert.ok(!before.some((u) => u.includes('evil.example')));
    const sound = cli(['backup', 'check', original, '--no-live'], db);
    assert.equal(sound.status, 0, sound.stdout + sound.stderr);
    assert.match(sound.stdout, /Verdict: ok/);

    const verdicts: Record<Forgery, RegExp> = {
      'resealed-unkeyed': /Verdict: corrupt/,
      'downgraded-to-format-1': /Verdict: UNVERIFIED/,
      'resealed-own-key': /Verdict: UNVERIFIED/,
    };
    for (const how of Object.keys(verdicts) as Forgery[]) {
      const file = original.replace(/(\.db|\.jsonl\.gz)$/, `-${how}$1`);
      copyFileSync(original, file);
      await forge(file, how);
      const checked = cli(['backup', 'check', file, '--no-live'], db);
      assert.equal(checked.status, 9, `${how}: ${checked.stdout}${checked.stderr}`);
      assert.match(checked.stdout, verdicts[how], how);
      assert.doesNotMatch(checked.stdout, /Verdict: ok/);
      const restored = cli(['backup', 'restore', file, '--yes', '--no-safety-backup'], db);
      assert.equal(restored.status, 9, `${how} restore: ${restored.stdout}${restored.stderr}`);
      assert.match(restored.stderr, how === 'resealed-unkeyed' ? /altered or damaged after it was sealed/ : /cannot be verified.*--accept-unverified/s);
      assert.deepEqual(await upstreams(db), before, `${how}: nothing written`);
    }
    // In Chinese the seal is 封签, one word throughout (never 封印).
    const zh = { LANG: 'zh_CN.UTF-8' };
    const unkeyedZh = cli(['backup', 'check', original.replace(/(\.db|\.jsonl\.gz)$/, '-downgraded-to-format-1$1'), '--no-live'], db, zh);
    assert.match(unkeyedZh.stdout, /无法用手头的密钥验证其封签/);
    assert.match(unkeyedZh.stdout, /其封签是旧版无密钥封签（格式 1）/);
    const alteredZh = cli(['backup', 'restore', original.replace(/(\.db|\.jsonl\.gz)$/, '-resealed-unkeyed$1'), '--yes', '--no-safety-backup'], db, zh);
    assert.match(alteredZh.stderr, /清单在封签后被改动或已损坏（封签不匹配）/);
    for (const text of [unkeyedZh.stdout, alteredZh.stderr]) assert.doesNotMatch(text, /封印/);

    // The list says so too.
    const listed = cli(['backup', 'list'], db);
    assert.equal(listed.stdout.split('\n').filter((l) => /^UNVERIFIED/.test(l)).length, 2, listed.stdout);

    // The dry run shows what the file would change besides the keys.
    const downgraded = original.replace(/(\.db|\.jsonl\.gz)$/, '-downgraded-to-format-1$1');
    const preview = cli(['backup', 'restore', downgraded, '--dry-run', '--accept-unverified'], db);
    assert.equal(preview.status, 0, preview.stdout + preview.stderr);
    assert.match(preview.stdout, /group \S+ changes: upstreams/);
    assert.match(preview.stdout, /upstreams of \S+: .+ → \["https:\/\/evil\.example"\]/);
    assert.match(cli(['backup', 'restore', original, '--dry-run'], db).stdout, /groups, upstreams, proxy keys and settings: as they are now/);
    assert.deepEqual(await upstreams(db), before, 'a dry run writes nothing');

    // The loud override restores an unverifiable file (and says what it risks).
    const forced = cli(['backup', 'restore', downgraded, '--yes', '--no-safety-backup', '--accept-unverified'], db);
    assert.equal(forced.status, 0, forced.stderr);
    assert.match(forced.stdout, /--accept-unverified: this backup's seal could NOT be verified/);
    assert.ok((await upstreams(db)).every((u) => u.includes('evil.example')));
  });
}

test('a backup taken before a key rotation verifies with the old key given, and only then', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 6, encryptionKey: KEY, env: true });
  assert.ok(db);
  assert.equal(cli(['backup', 'create'], db).status, 0);
  const [name] = readdirSync(join(db.envDir, 'backups')).filter((f) => !f.endsWith('.sha256'));
  const file = join('backups', name);
  const NEW = 'rotated-Forgery-Lm2-Kp0-Zq8-Wx4-Rn7';
  const migrated = cli(['migrate-keys', '--from-env', 'OLD_KEY', '--to-env', 'NEW_KEY', '--update-env', '--yes', '--no-backup'], db, { OLD_KEY: KEY, NEW_KEY: NEW });
  assert.equal(migrated.status, 0, migrated.stdout + migrated.stderr);
  const without = cli(['backup', 'check', file, '--no-live'], db);
  assert.notEqual(without.status, 0);
  assert.match(without.stdout, /needs another key|UNVERIFIED/);
  const withOld = cli(['backup', 'check', file, '--no-live', '--key-env', 'OLD_KEY'], db, { OLD_KEY: KEY });
  assert.equal(withOld.status, 0, withOld.stdout + withOld.stderr);
  assert.match(withOld.stdout, /Verdict: ok/);
});
