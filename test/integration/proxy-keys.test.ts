/**
 * `proxy-keys list` and `proxy-keys remove` through dist/cli.js on SQLite, MariaDB (as MySQL) and
 * PostgreSQL: a value removed from the global list and from every group list in one go, trimmed as
 * GPT-Load trims, the other entries kept as written; --dry-run changes nothing; GPT-Load's warnings,
 * AUTH_KEY reuse and reuse across groups flagged; no proxy key is ever printed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { maskSecret } from '../../server/core/secrets';
import type { Store } from '../../server/store/connect';
import { createGptLoadDatabase, ENGINES, type GptLoadDatabase } from '../support/databases';
import { closedPort } from '../support/gptload';
import { REPO_ROOT } from '../support/paths';

const CLI = join(REPO_ROOT, 'dist', 'cli.js');

/** The AUTH_KEY GPT-Load copied into the global proxy keys on first start. */
const OLD = 'Old-Ag7Rt5Yu9Io1Pa3Sd5Fg7Hj9Lz2Xc4V';
/** Too short for GPT-Load's dashboard (high). */
const SHORT = 'Kp1-short9';
/** In two groups. */
const SHARED = 'Grp-Mn4Bv6Cx8Zl0Kj2Hg4Fd6Sa8Qw0Er2T';
/** Contains OLD: must not match it. */
const LONGER = `x${OLD}`;
const SECRETS = [OLD, SHORT, SHARED, LONGER];

/** Global list: OLD twice (padded with spaces and a tab, as GPT-Load trims them), an empty entry. */
const GLOBAL = ` ${OLD} ,${SHORT},,${OLD}\t`;
/** groups 1..5 (openai, gemini, claude, openai-backup, openai-all). */
const GROUP_LISTS = [`${SHARED}, ${OLD}`, OLD, SHARED, LONGER, ''];

function cli(args: string[], db: GptLoadDatabase, input = '') {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: db.envDir, input, encoding: 'utf8', timeout: 120_000, env: { PATH: process.env.PATH, LANG: 'C' } });
  const output = r.stdout + r.stderr;
  for (const secret of SECRETS) assert.ok(!output.includes(secret), `${args.join(' ')}: a proxy key is printed`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function storedLists(db: GptLoadDatabase): Promise<{ global: string; groups: string[] }> {
  const store = await db.open();
  try {
    const [setting] = await store.query(`SELECT setting_value FROM system_settings WHERE setting_key = 'proxy_keys'`);
    const groups = await store.query(`SELECT proxy_keys FROM ${store.q('groups')} ORDER BY id`);
    return { global: String(setting.setting_value), groups: groups.map((g) => (g.proxy_keys === null ? '' : String(g.proxy_keys))) };
  } finally {
    // Closed before the CLI runs: on MySQL/PostgreSQL an open session would read as a running GPT-Load.
    await store.close();
  }
}

async function writeLists(store: Store): Promise<void> {
  await store.execute(`UPDATE system_settings SET setting_value = ${store.p(1)} WHERE setting_key = 'proxy_keys'`, [GLOBAL]);
  for (const [i, list] of GROUP_LISTS.entries()) {
    await store.execute(`UPDATE ${store.q('groups')} SET proxy_keys = ${store.p(1)} WHERE id = ${store.p(2)}`, [list, i + 1]);
  }
}

async function deployment(t: import('node:test').TestContext, engine: (typeof ENGINES)[number]): Promise<GptLoadDatabase | undefined> {
  // AUTH_KEY is still the old value here; PORT points where nothing listens (GPT-Load stopped).
  const db = await createGptLoadDatabase(t, engine, { keys: 10, authKey: OLD, env: { PORT: String(await closedPort()) } });
  if (!db) return undefined;
  const store = await db.open();
  await writeLists(store);
  await store.close();
  return db;
}

interface ListedKey {
  masked: string;
  length: number;
  settings: number;
  groups: Array<{ id: number; name: string }>;
  isAuthKey: boolean;
  reused: boolean;
  warnings: Array<{ code: string; severity: string; message: string }>;
}

for (const engine of ENGINES) {
  test(`proxy-keys list: masked, where used, GPT-Load's warnings, AUTH_KEY reuse and reuse across groups on ${engine}`, async (t) => {
    const db = await deployment(t, engine);
    if (!db) return;

    const json = cli(['proxy-keys', 'list', '--json'], db);
    assert.equal(json.status, 1, json.stderr);
    const { keys } = JSON.parse(json.stdout) as { keys: ListedKey[] };
    assert.deepEqual(
      keys.map((k) => [k.masked, k.length, k.settings, k.groups.map((g) => g.name), k.isAuthKey, k.reused]),
      [
        [maskSecret(OLD), OLD.length, 2, ['openai', 'gemini'], true, true],
        [maskSecret(SHORT), SHORT.length, 1, [], false, false],
        [maskSecret(SHARED), SHARED.length, 0, ['openai', 'claude'], false, true],
        [maskSecret(LONGER), LONGER.length, 0, ['openai-backup'], false, false],
      ],
    );
    assert.deepEqual(keys[0].groups, [{ id: 1, name: 'openai' }, { id: 2, name: 'gemini' }]);
    assert.deepEqual(keys[1].warnings, [{ code: 'secret-too-short', severity: 'high', message: 'Proxy key is too short (10 characters), recommend at least 16 characters' }]);
    assert.deepEqual(keys[0].warnings, []);

    const text = cli(['proxy-keys', 'list'], db);
    assert.equal(text.status, 1);
    const lines = text.stdout.trimEnd().split('\n');
    assert.equal(lines[0], `#1  ${maskSecret(OLD)}  the global proxy keys (×2); groups openai, gemini`);
    assert.match(lines[1], /^ {4}! it is AUTH_KEY of .*\.env: whoever holds this proxy key can also log into the admin UI/);
    assert.match(lines[2], /^ {4}! stored in more than one place/);
    assert.ok(lines.includes('    ! high: Proxy key is too short (10 characters), recommend at least 16 characters'));
    assert.equal(lines.at(-1), '-- 4 proxy key(s), 3 with findings');
    assert.match(cli(['proxy-keys', 'list', '--lang', 'zh-CN'], db).stdout, /全局代理密钥 \(×2\)；分组 openai、gemini/);
  });

  test(`proxy-keys remove: from the global list and every group in one go, others kept as written, dry run first, on ${engine}`, async (t) => {
    const db = await deployment(t, engine);
    if (!db) return;
    const before = await storedLists(db);
    assert.deepEqual(before, { global: GLOBAL, groups: GROUP_LISTS });

    // --dry-run: where it is stored, nothing changed; the value arrives padded, as pasted.
    const dry = cli(['proxy-keys', 'remove', '--dry-run'], db, `  ${OLD}  \r\n`);
    assert.equal(dry.status, 0, dry.stderr);
    assert.equal(dry.stdout, 'Stored in: the global proxy keys (×2); groups openai, gemini. Nothing changed (dry run).\n');
    const dryJson = cli(['proxy-keys', 'remove', '--dry-run', '--json'], db, OLD + '\n');
    assert.deepEqual(JSON.parse(dryJson.stdout), { dryRun: true, settings: 2, groups: [{ id: 1, name: 'openai' }, { id: 2, name: 'gemini' }] });
    assert.deepEqual(await storedLists(db), before, 'a dry run changes nothing');

    const removed = cli(['proxy-keys', 'remove', '--json'], db, OLD + '\n');
    assert.equal(removed.status, 0, removed.stderr);
    const result = JSON.parse(removed.stdout) as Record<string, unknown>;
    assert.deepEqual(
      { ...result, notes: undefined },
      {
        settings: 2,
        groups: [{ id: 1, name: 'openai' }, { id: 2, name: 'gemini' }],
        globalEmptied: false,
        running: false,
        restartRequired: true,
        restartCommand: null,
        notes: undefined,
      },
    );
    assert.deepEqual(result.notes, ['GPT-Load reads proxy keys when it starts: the change takes effect at its next start.']);
    // Every other entry as it was written, in its order; LONGER (which contains OLD) untouched.
    assert.deepEqual(await storedLists(db), { global: `${SHORT},`, groups: [SHARED, '', SHARED, LONGER, ''] });

    const again = cli(['proxy-keys', 'remove'], db, OLD + '\n');
    assert.equal(again.status, 1);
    assert.equal(again.stdout, '');
    assert.equal(again.stderr, 'no stored proxy key has this value; nothing changed\n');

    // The last global key: the note says clients now need group keys; the row stays (GPT-Load
    // would copy AUTH_KEY into a missing one on its next start).
    const last = cli(['proxy-keys', 'remove'], db, SHORT + '\n');
    assert.equal(last.status, 0, last.stderr);
    assert.equal(last.stdout.split('\n')[0], 'Removed from the global proxy keys.');
    assert.match(last.stdout, /The global proxy keys are now empty/);
    assert.deepEqual(await storedLists(db), { global: '', groups: [SHARED, '', SHARED, LONGER, ''] });
  });
}

test('proxy-keys remove: the key comes from stdin only, one line, no comma (SQLite)', async (t) => {
  const db = await deployment(t, 'sqlite');
  assert.ok(db);
  const before = await storedLists(db);
  for (const [input, status, message] of [
    ['', 2, /no proxy key on stdin/],
    [' \n\t\n', 2, /no proxy key on stdin/],
    [`${OLD}\n${SHARED}\n`, 2, /stdin has 2 non-blank lines/],
    [`${OLD},${SHARED}\n`, 2, /a proxy key cannot contain a comma/],
  ] as const) {
    const r = cli(['proxy-keys', 'remove'], db, input);
    assert.equal(r.status, status, JSON.stringify(input));
    assert.match(r.stderr, message);
  }
  const argv = cli(['proxy-keys', 'remove', OLD.slice(1)], db);
  assert.equal(argv.status, 2);
  assert.match(argv.stderr, /Unexpected argument \(not shown: it may be a secret\)/);
  assert.ok(!argv.stderr.includes(OLD.slice(1)));
  assert.deepEqual(await storedLists(db), before);
});
