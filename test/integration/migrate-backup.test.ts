/**
 * migrate-keys takes a checked backup of the data before its first write (CLI and daemon fronts
 * share the hook), names it in the summary, and the backup restores the state before the run.
 * --no-backup skips it; a dry run writes neither.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { codecFor } from '../../server/core/crypto';
import { createGptLoadDatabase, ENGINES, type GptLoadDatabase } from '../support/databases';
import { closedPort } from '../support/gptload';
import { REPO_ROOT } from '../support/paths';

const CLI = join(REPO_ROOT, 'dist', 'cli.js');
const OLD = 'Kx7-first_Zq.0192837465fedcbaGHIJ';
const NEW = 'Qm4-second_Wv.9876543210zyxwvuTS';

function cli(db: GptLoadDatabase, args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args, '--env', join(db.envDir, '.env')], {
    encoding: 'utf8',
    env: { ...process.env, OLD, NEW, ENCRYPTION_KEY: undefined, DATABASE_DSN: undefined },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function backupsOf(db: GptLoadDatabase): string[] {
  const dir = join(db.envDir, 'backups');
  return existsSync(dir) ? readdirSync(dir).filter((f) => !f.endsWith('.sha256')) : [];
}

for (const engine of ENGINES) {
  test(`migrate-keys backs up and checks the data before writing, and names the backup (${engine})`, async (t) => {
    const db = await createGptLoadDatabase(t, engine, { keys: 60, logs: 30, encryptionKey: OLD, env: { PORT: String(await closedPort()) } });
    if (!db) return;

    const dry = cli(db, ['migrate-keys', '--from-env', 'OLD', '--to-env', 'NEW', '--dry-run', '--json']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual(backupsOf(db), [], 'a dry run writes no backup');

    const run = cli(db, ['migrate-keys', '--from-env', 'OLD', '--to-env', 'NEW', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout);
    assert.ok(summary.backup?.file, 'the summary names the backup');
    assert.equal(summary.backup.keyFingerprint, codecFor(OLD).fingerprint, 'the backup needs the old key');
    assert.deepEqual(backupsOf(db).map((f) => join(db.envDir, 'backups', f)), [summary.backup.file]);
    assert.ok(!run.stdout.includes(OLD) && !run.stdout.includes(NEW) && !run.stderr.includes(OLD) && !run.stderr.includes(NEW));

    // The backup checks out against the old key and restores the state before the run.
    const check = cli(db, ['backup', 'check', summary.backup.file, '--key-env', 'OLD', '--json']);
    assert.notEqual(check.code, 9, check.stderr);
    const restore = cli(db, ['backup', 'restore', summary.backup.file, '--key-env', 'OLD', '--yes']);
    assert.equal(restore.code, 0, restore.stderr + restore.stdout);
    const store = await db.open();
    try {
      const rows = (await store.query('SELECT id, key_value FROM api_keys ORDER BY id')) as Array<{ id: number; key_value: string }>;
      assert.equal(rows.length, 60);
      // The .env still has no key (no --update-env), so restore re-encrypts to it or keeps OLD:
      // either way every row must decrypt with exactly one of the two keys, all with the same one.
      const old = codecFor(OLD);
      const fresh = codecFor(NEW);
      const opens = (c: ReturnType<typeof codecFor>, v: string) => {
        try {
          c.decrypt(v);
          return true;
        } catch {
          return false;
        }
      };
      const underOld = rows.filter((r) => opens(old, r.key_value)).length;
      const underNew = rows.filter((r) => opens(fresh, r.key_value)).length;
      assert.ok(underOld === 60 || underNew === 60 || rows.every((r) => !opens(old, r.key_value) && !opens(fresh, r.key_value)), `mixed: ${underOld} old, ${underNew} new`);
    } finally {
      await store.close();
    }
  });

  test(`migrate-keys --no-backup writes no backup (${engine})`, async (t) => {
    const db = await createGptLoadDatabase(t, engine, { keys: 20, logs: 10, encryptionKey: OLD, env: { PORT: String(await closedPort()) } });
    if (!db) return;
    const run = cli(db, ['migrate-keys', '--from-env', 'OLD', '--to-env', 'NEW', '--no-backup']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /no backup taken/);
    assert.deepEqual(backupsOf(db), []);
  });
}
