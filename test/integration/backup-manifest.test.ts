/**
 * Hostile backup files (issue 12 item 5), through dist/cli.js and the daemon: manifests that are
 * sealed but malformed (`tables: "x"`, `[null]`, `encryption: null`) are one `corrupt` verdict for
 * that file — never an internal error — and `backup list` still lists the others; a portable backup
 * whose body inflates to a 200 MB line is refused in bounded memory.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { createGzip } from 'node:zlib';
import { readPortableManifest } from '../../server/keystore/backup/check';
import { END_LINE, sectionLine } from '../../server/keystore/backup/format';
import { rewriteBackup, unkeyedSeal } from '../support/backups';
import { BackupListRequest } from '../../shared/protocol';
import { createGptLoadDatabase, type Engine, type GptLoadDatabase } from '../support/databases';
import { REPO_ROOT } from '../support/paths';
import { startDaemon } from '../protocol/daemon';

const CLI = join(REPO_ROOT, 'dist', 'cli.js');
const KEY = 'manifest-test-key-Qm7-Lp2-Zx90-aa';

function cli(args: string[], db: GptLoadDatabase, nodeArgs: string[] = []) {
  const r = spawnSync(process.execPath, [...nodeArgs, CLI, ...args], { cwd: db.envDir, encoding: 'utf8', timeout: 300_000, env: { PATH: process.env.PATH, LANG: 'C' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function deploymentWithBackup(t: TestContext, engine: Engine): Promise<{ db: GptLoadDatabase; file: string } | undefined> {
  const db = await createGptLoadDatabase(t, engine, { keys: 20, logs: 5, encryptionKey: KEY, env: true });
  if (!db) return undefined;
  const created = cli(['backup', 'create'], db);
  assert.equal(created.status, 0, created.stderr);
  const [name] = readdirSync(join(db.envDir, 'backups')).filter((f) => !f.endsWith('.sha256'));
  return { db, file: join(db.envDir, 'backups', name) };
}

const MALFORMED: Array<[string, (m: Record<string, unknown>) => Record<string, unknown>]> = [
  ['tables: "x"', (m) => ({ ...m, tables: 'x' })],
  ['tables: [null]', (m) => ({ ...m, tables: [null] })],
  ['encryption: null', (m) => ({ ...m, encryption: null })],
  ['rows: "many"', (m) => ({ ...m, tables: (m.tables as Array<Record<string, unknown>>).map((t) => ({ ...t, rows: 'many' })) })],
];

for (const engine of ['sqlite', 'postgres'] as const) {
  test(`${engine}: sealed but malformed manifests are corrupt, one verdict per file; backup list lists the rest (CLI and daemon)`, async (t) => {
    const setup = await deploymentWithBackup(t, engine);
    if (!setup) return;
    const { db, file } = setup;
    const forged: string[] = [];
    for (const [name, edit] of MALFORMED) {
      const copy = file.replace(/(\.db|\.jsonl\.gz)$/, `-${forged.length + 1}$1`);
      copyFileSync(file, copy);
      rewriteBackup(copy, (m) => unkeyedSeal(edit(m)));
      forged.push(copy);
      const r = cli(['backup', 'check', copy, '--no-live'], db);
      assert.equal(r.status, 9, `${name}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /manifest is malformed/, name);
      assert.match(r.stdout, /Verdict: corrupt/);
      assert.doesNotMatch(r.stdout + r.stderr, /internal error|is not a function/);
      const restore = cli(['backup', 'restore', copy, '--yes'], db);
      assert.equal(restore.status, 9, `${name} restore: ${restore.stderr}`);
    }
    const list = cli(['backup', 'list'], db);
    assert.equal(list.status, 0, list.stderr);
    const lines = list.stdout.split('\n');
    assert.equal(lines.filter((l) => /^CORRUPT/.test(l)).length, MALFORMED.length, list.stdout);
    assert.ok(lines.some((l) => !/^CORRUPT|^VERDICT/.test(l) && l.includes(file.slice(file.lastIndexOf('/') + 1))), 'the sound backup is listed');

    const daemon = await startDaemon(t);
    const listed = await daemon.rpc.sendRequest(BackupListRequest.type, { deployment: { envFile: join(db.envDir, '.env') } });
    assert.equal(listed.checks!.length, MALFORMED.length + 1);
    assert.equal(listed.checks!.filter((c) => c.verdict === 'corrupt').length, MALFORMED.length);
    assert.equal(listed.backups.length, 1, 'only the sound backup has info');
  });
}

test('a portable backup whose body inflates to a 200 MB line is corrupt, read in bounded memory', async (t) => {
  const setup = await deploymentWithBackup(t, 'postgres');
  if (!setup) return;
  const { db, file } = setup;
  const head = readPortableManifest(file);
  assert.ok(!('failure' in head));
  const first = head.manifest.tables.find((x) => x.included)!;
  const gzip = createGzip({ level: 1 });
  const parts: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => parts.push(chunk));
  const done = new Promise((resolve) => gzip.on('end', resolve));
  gzip.write(sectionLine(first.name));
  gzip.write('["');
  const mb = Buffer.alloc(1024 * 1024, 'a');
  for (let i = 0; i < 200; i++) gzip.write(mb);
  gzip.write('"]\n');
  gzip.end(END_LINE);
  await done;
  const body = Buffer.concat(parts);
  assert.ok(body.length < 1024 * 1024, 'a small file');
  rewriteBackup(file, (m) => unkeyedSeal(m), body);
  // 96 MB of heap: holding the line (200 MB) or a quadratic copy of it would not fit.
  const r = cli(['backup', 'check', file, '--no-live'], db, ['--max-old-space-size=96']);
  assert.equal(r.status, 9, r.stdout + r.stderr);
  assert.match(r.stdout, /a line is longer than \d+ characters/);
});
