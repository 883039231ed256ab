/**
 * `keys list` and `keys find` through dist/cli.js on SQLite, MariaDB (as MySQL) and PostgreSQL:
 * masked keys (never a whole secret, short ones included), filters, keyset paging, --json, the
 * notes column, and finding a key by its value read from stdin.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { codecFor, sha256Hex } from '../../server/core/crypto';
import { maskSecret } from '../../server/core/secrets';
import type { KeyListItem, KeyPage } from '../../server/keystore/keys';
import type { Store } from '../../server/store/connect';
import { createGptLoadDatabase, ENGINES, type GptLoadDatabase } from '../support/databases';
import { REPO_ROOT } from '../support/paths';
import { join } from 'node:path';

const CLI = join(REPO_ROOT, 'dist', 'cli.js');
/** One of the vectors' passwords: the vector rows (short keys among them) are GPT-Load's own ciphertexts. */
const KEY = 'my-32-char-secret-key-AbCdEf012345!';
const GROUPS = ['openai', 'gemini', 'claude', 'openai-backup', 'openai-all'];

function cli(args: string[], db: GptLoadDatabase, input = '') {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: db.envDir, input, encoding: 'utf8', timeout: 120_000, env: { PATH: process.env.PATH, LANG: 'C' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** No plaintext of any stored key, in its raw or JSON-escaped spelling. */
function assertNoPlaintext(db: GptLoadDatabase, output: string, what: string): void {
  for (const [id, plaintext] of db.plaintexts) {
    for (const spelling of new Set([plaintext, JSON.stringify(plaintext).slice(1, -1)])) {
      assert.ok(!output.includes(spelling), `${what}: the plaintext of key ${id} is printed`);
    }
  }
}

async function groupIds(store: Store, name: string, status?: string): Promise<number[]> {
  const where = status ? ` AND k.status = ${store.p(2)}` : '';
  const rows = await store.query(
    `SELECT k.id FROM api_keys k JOIN ${store.q('groups')} g ON g.id = k.group_id WHERE g.name = ${store.p(1)}${where} ORDER BY k.id`,
    status ? [name, status] : [name],
  );
  return rows.map((r) => Number(r.id));
}

const codec = codecFor(KEY);

for (const engine of ENGINES) {
  test(`keys list: masked keys, filters, keyset paging, --json and the notes column on ${engine}`, async (t) => {
    const db = await createGptLoadDatabase(t, engine, { keys: 260, encryptionKey: KEY, includeVectorRows: true, env: true });
    if (!db) return;
    const store = await db.open();
    await store.execute(`UPDATE api_keys SET notes = ${store.p(1)} WHERE id = 1`, ['team budget 备用\tQ3']);
    await store.execute(`UPDATE api_keys SET notes = '' WHERE id = 2`);
    const stored = String((await store.query(`SELECT key_value FROM api_keys WHERE id = 9`))[0].key_value);
    await store.execute(`UPDATE api_keys SET key_value = ${store.p(1)} WHERE id = 9`, [stored.slice(0, -2) + (stored.endsWith('00') ? '11' : '00')]);

    // Text: KEY always masked and NOTES beside it.
    const text = cli(['keys', 'list', '--limit', '3'], db);
    assert.equal(text.status, 0, text.stderr);
    const [header, row1, row2, row3, tail] = text.stdout.split('\n');
    assert.match(header, /^ID\s+GROUP\s+STATUS\s+KEY\s+REQUESTS\s+FAILURES\s+LAST USED\s+NOTES$/);
    assert.ok(row1.startsWith('1 ') && row1.includes(maskSecret(db.plaintexts.get(1)!)) && row1.endsWith('team budget 备用\\tQ3'), row1);
    assert.ok(row2.startsWith('2 ') && row2.includes(maskSecret(db.plaintexts.get(2)!)), row2);
    assert.ok(row3.startsWith('3 '), row3);
    assert.equal(tail, '-- more: --after 3');

    // Every key, page by page, in JSON: each exactly once, masked as maskSecret masks its plaintext.
    const seen: KeyListItem[] = [];
    let after: number | null = 0;
    while (after !== null) {
      const r = cli(['keys', 'list', '--json', '--limit', '100', '--after', String(after)], db);
      assert.equal(r.status, 0, r.stderr);
      assertNoPlaintext(db, r.stdout, `page after ${after}`);
      const page = JSON.parse(r.stdout) as KeyPage;
      seen.push(...page.items);
      after = page.nextAfterId;
    }
    assert.deepEqual(seen.map((k) => k.id), [...db.plaintexts.keys()].sort((a, b) => a - b));
    assert.deepEqual(Object.keys(seen[0]).sort(), ['failureCount', 'groupId', 'groupName', 'id', 'lastUsedAt', 'masked', 'notes', 'requestCount', 'status']);
    for (const item of seen) {
      assert.equal(item.masked, item.id === 9 ? '(undecryptable)' : maskSecret(db.plaintexts.get(item.id)!), `key ${item.id}`);
      assert.ok(GROUPS.includes(item.groupName));
    }
    const short = seen.filter((k) => Array.from(db.plaintexts.get(k.id)!).length < 16);
    assert.ok(short.length >= 2, 'short vector keys are listed');
    for (const k of short) assert.match(k.masked, /^…\(\d+\)…$/, 'a short key shows its length only');
    assert.equal(seen[0].notes, 'team budget 备用\tQ3');
    assert.ok(seen.some((k) => k.lastUsedAt === null) && seen.some((k) => /^\d{4}-\d{2}-\d{2}T/.test(k.lastUsedAt ?? '')));

    // --group with --limit/--after: every key of the group exactly once, in id order.
    for (const group of ['openai', 'claude']) {
      const ids: number[] = [];
      let next: number | null = 0;
      while (next !== null) {
        const page = JSON.parse(cli(['keys', 'list', '--json', '--group', group, '--limit', '17', '--after', String(next)], db).stdout) as KeyPage;
        assert.ok(page.items.every((k) => k.groupName === group));
        assert.ok(page.items.length <= 17);
        ids.push(...page.items.map((k) => k.id));
        next = page.nextAfterId;
      }
      assert.deepEqual(ids, await groupIds(store, group), group);
    }

    const invalid = JSON.parse(cli(['keys', 'list', '--json', '--group', 'gemini', '--status', 'invalid', '--limit', '1000'], db).stdout) as KeyPage;
    assert.deepEqual(invalid.items.map((k) => k.id), await groupIds(store, 'gemini', 'invalid'));
    assert.ok(invalid.items.length > 0 && invalid.items.every((k) => k.status === 'invalid'));
    assert.equal(invalid.nextAfterId, null);

    const textAll = cli(['keys', 'list', '--limit', '1000'], db);
    assert.match(textAll.stdout, new RegExp(`-- end \\(${db.plaintexts.size} shown\\)\\n$`));
    assertNoPlaintext(db, textAll.stdout, 'text');

    const unknown = cli(['keys', 'list', '--group', 'nope'], db);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, new RegExp(`no group named 'nope' \\(groups: ${GROUPS.join(', ')}\\)`));
    assert.equal(unknown.stdout, '');
    assert.match(cli(['keys', 'list', '--group', 'nope', '--lang', 'zh-CN'], db).stderr, /没有名为 'nope' 的分组/);
  });

  test(`keys find: by exact value from stdin, through key_hash, masked, in every group holding it, on ${engine}`, async (t) => {
    const db = await createGptLoadDatabase(t, engine, { keys: 120, encryptionKey: KEY, includeVectorRows: true, env: true });
    if (!db) return;
    const store = await db.open();
    const groupOf = async (id: number) => Number((await store.query(`SELECT group_id FROM api_keys WHERE id = ${store.p(1)}`, [id]))[0].group_id);
    const target = 10;
    const plaintext = db.plaintexts.get(target)!;
    // The same key in another group (GPT-Load allows it), and one key left in plaintext.
    const otherGroup = (await groupOf(target)) === 2 ? 3 : 2;
    const now = new Date().toISOString().slice(0, 19).replace('T', ' ');
    await store.execute(
      `INSERT INTO api_keys (id, key_value, key_hash, group_id, status, notes, request_count, failure_count, created_at, updated_at)
       VALUES (${store.params(10)})`,
      [5000, codec.encrypt(plaintext), codec.hash(plaintext), otherGroup, 'active', 'copy', 0, 0, now, now],
    );
    const plainId = 20;
    await store.execute(`UPDATE api_keys SET key_value = ${store.p(1)}, key_hash = ${store.p(2)} WHERE id = ${store.p(3)}`, [
      db.plaintexts.get(plainId)!, sha256Hex(db.plaintexts.get(plainId)!), plainId,
    ]);

    const one = cli(['keys', 'find'], db, `  ${plaintext}  \r\n`);
    assert.equal(one.status, 0, one.stderr);
    const lines = one.stdout.trim().split('\n');
    assert.match(lines[0], /^ID\s+GROUP\s+STATUS\s+KEY\s+/);
    assert.deepEqual(lines.slice(1, -1).map((l) => Number(l.split(/\s+/)[0])), [target, 5000]);
    assert.ok(lines.slice(1, -1).every((l) => l.includes(maskSecret(plaintext))));
    assert.equal(lines.at(-1), '-- 1 of 1 found');
    assertNoPlaintext(db, one.stdout + one.stderr, 'keys find');

    // Several values: JSON per stdin line; the plaintext row too; a short GPT-Load vector key; an unknown key.
    const shortId = [...db.plaintexts].find(([, p]) => p === 'sk-proj-abc123')![0];
    const input = [plaintext, '', db.plaintexts.get(plainId)!, 'sk-proj-abc123', 'sk-not-stored-anywhere-0000'].join('\n') + '\n';
    const many = cli(['keys', 'find', '--json'], db, input);
    assert.equal(many.status, 1, 'one key was not found');
    const { results } = JSON.parse(many.stdout) as { results: Array<{ line: number; items: KeyListItem[] }> };
    assert.deepEqual(results.map((r) => [r.line, r.items.map((k) => k.id)]), [[1, [target, 5000]], [3, [plainId]], [4, [shortId]], [5, []]]);
    assert.equal(results[2].items[0].masked, '…(14)…');
    assert.equal(many.stderr, 'line 5: no stored key has this value\n');
    assertNoPlaintext(db, many.stdout + many.stderr, 'keys find --json');

    const textMany = cli(['keys', 'find'], db, input);
    assert.match(textMany.stdout, /^LINE\s+ID\s+GROUP/);
    assert.match(textMany.stdout, /-- 3 of 4 found\n$/);

    const inGroup = cli(['keys', 'find', '--json', '--group', GROUPS[otherGroup - 1]], db, plaintext + '\n');
    assert.deepEqual((JSON.parse(inGroup.stdout) as { results: Array<{ items: KeyListItem[] }> }).results[0].items.map((k) => k.id), [5000]);
    const notActive = cli(['keys', 'find', '--status', 'invalid', '--group', GROUPS[otherGroup - 1]], db, plaintext + '\n');
    assert.equal(notActive.status, 1);

    const nothing = cli(['keys', 'find'], db, '\n  \n');
    assert.equal(nothing.status, 2);
    assert.match(nothing.stderr, /no key on stdin/);
    const unknownGroup = cli(['keys', 'find', '--group', 'nope'], db, plaintext + '\n');
    assert.equal(unknownGroup.status, 2);
    assert.ok(!unknownGroup.stderr.includes(plaintext));
  });
}

test('keys list and find without the key: undecryptable rows, never the ciphertext as a key (SQLite)', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 30, encryptionKey: KEY, env: { ENCRYPTION_KEY: '' } });
  if (!db) return;
  const page = JSON.parse(cli(['keys', 'list', '--json'], db).stdout) as KeyPage;
  assert.equal(page.items.length, 30);
  assert.ok(page.items.every((k) => k.masked === '(undecryptable)'));
  // GPT-Load's search hashes with SHA-256 when no key is set: an encrypted store does not match.
  assert.equal(cli(['keys', 'find'], db, db.plaintexts.get(1)! + '\n').status, 1);
});

test('keys list into a pipe closed early (`| head -1`) stops quietly with exit 0, no stack trace', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 3000, encryptionKey: KEY, env: true });
  if (!db) return;
  const child = spawn(process.execPath, [CLI, 'keys', 'list', '--limit', '3000'], { cwd: db.envDir, env: { PATH: process.env.PATH, LANG: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  // The reader takes its first chunk and goes, as head does.
  child.stdout.once('data', () => child.stdout.destroy());
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(stderr, '');
  assert.equal(status, 0);
});
