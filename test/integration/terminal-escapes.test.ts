/**
 * Stored text cannot drive the terminal (issue 12 item 4): a group name, key notes and a proxy key
 * carrying ESC sequences (clear screen, OSC 52 "set the clipboard"), a BEL, a bidi override and a
 * newline that would forge "State: ok"; and a deployment folder whose name does the same, which
 * backups record in their manifest. Through dist/cli.js (status, keys list, proxy-keys list,
 * backup create/check/list) and the daemon's diagnostics, every such character comes out escaped.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { printable } from '../../shared/printable';
import { createGptLoadDatabase, type GptLoadDatabase } from '../support/databases';
import { REPO_ROOT } from '../support/paths';
import { fileUri, startDaemon } from '../protocol/daemon';

const CLI = join(REPO_ROOT, 'dist', 'cli.js');
const HOSTILE = '\x1b[2J\x1b]52;c;cHduZWQ=\x07evil\u202egroup\nState: ok FORGED\r';
const RAW = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]/;

function cli(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 120_000, env: { PATH: process.env.PATH, LANG: 'C' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** No raw control character, and the forged line never stands alone. */
function assertEscaped(output: string, what: string): void {
  assert.ok(!RAW.test(output), `${what}: a raw control character reached the terminal: ${JSON.stringify(output)}`);
  for (const line of output.split('\n')) assert.ok(!line.startsWith('State: ok FORGED'), `${what}: a forged line`);
}

async function hostileDatabase(t: Parameters<typeof createGptLoadDatabase>[0]): Promise<GptLoadDatabase> {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 4, env: true });
  assert.ok(db);
  const store = await db.open();
  try {
    const [group] = await store.query<{ id: number }>(`SELECT id FROM ${store.q('groups')} ORDER BY id LIMIT 1`);
    await store.query(`UPDATE ${store.q('groups')} SET name = ${store.p(1)}, proxy_keys = ${store.p(2)} WHERE id = ${store.p(3)}`, [HOSTILE, 'sk-proxy-Ab9xQ7-Lm2Kp0-wZ41', group.id]);
    await store.query(`UPDATE api_keys SET notes = ${store.p(1)}`, [HOSTILE]);
  } finally {
    await store.close();
  }
  return db;
}

test('printable escapes C0, DEL, C1, bidi and line separators; leaves other text as it is', () => {
  assert.equal(printable('a\x1b[2Jb\nc\td\u202ee\u0085f\u2028'), 'a\\x1b[2Jb\\nc\\td\\u202ee\\x85f\\u2028');
  assert.equal(printable('openai-组 ✓ C:\\data'), 'openai-组 ✓ C:\\data');
});

test('CLI status, keys list and proxy-keys list print hostile stored text escaped', async (t) => {
  const db = await hostileDatabase(t);
  for (const args of [['status'], ['keys', 'list'], ['proxy-keys', 'list']]) {
    const r = cli(args, db.envDir);
    assert.ok(r.stdout.includes(printable('\x1b[2J\x1b]52;c;cHduZWQ=\x07evil')), `${args.join(' ')} shows the name escaped: ${r.stdout}`);
    assertEscaped(r.stdout, args.join(' '));
    assertEscaped(r.stderr, `${args.join(' ')} (stderr)`);
  }
});

test('CLI backup create, check and list print hostile manifest fields escaped', async (t) => {
  const db = await hostileDatabase(t);
  // The deployment's folder name goes into the manifest's `source`.
  const root = mkdtempSync(join(tmpdir(), 'glk-esc-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const envDir = join(root, 'gpt\x1b]52;c;cHduZWQ=\x07load\nState: ok FORGED');
  mkdirSync(envDir);
  cpSync(db.envDir, envDir, { recursive: true });
  const created = cli(['backup', 'create'], envDir);
  assert.equal(created.status, 0, created.stderr);
  assertEscaped(created.stdout, 'backup create');
  const [file] = readdirSync(join(envDir, 'backups')).filter((f) => !f.endsWith('.sha256'));
  const checked = cli(['backup', 'check', join('backups', file)], envDir);
  assert.ok(checked.stdout.includes('\\x1b]52;c;'), checked.stdout);
  assertEscaped(checked.stdout, 'backup check');
  const listed = cli(['backup', 'list'], envDir);
  assertEscaped(listed.stdout, 'backup list');
});

test('daemon diagnostics quoting a hostile group name carry it escaped', async (t) => {
  const db = await hostileDatabase(t);
  const store = await db.open();
  try {
    // A weak proxy key in the hostile group: its diagnostic names the group.
    await store.query(`UPDATE ${store.q('groups')} SET proxy_keys = ${store.p(1)} WHERE name = ${store.p(2)}`, ['123456', HOSTILE]);
  } finally {
    await store.close();
  }
  const daemon = await startDaemon(t);
  const envPath = join(db.envDir, '.env');
  const uri = fileUri(envPath);
  const found = daemon.diagnostics(uri, (d) => d.some((x) => x.code === 'db-weak-proxy-key'));
  daemon.open(uri, readFileSync(envPath, 'utf8'));
  const diagnostics = (await found).filter((d) => d.code === 'db-weak-proxy-key');
  assert.ok(diagnostics.length > 0);
  for (const d of diagnostics) assertEscaped(String(d.message), 'diagnostic');
  assert.ok(diagnostics.some((d) => String(d.message).includes('\\x1b[2J')));
});
