import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { codecFor, deriveKey, keyFingerprint, sha256Hex } from '../../server/core/crypto';
import { KeystoreError } from '../../server/core/errors';
import type { CliIO, ParsedArgs } from '../../server/cli/command';
import { migrateKeysCommand, resolveMigrationKeys, type SecretPrompt } from '../../server/cli/migrateKeys';
import { createCryptoRunner, INLINE_BELOW_ROWS } from '../../server/keystore/cryptoPool';
import { resolveDeployment } from '../../server/keystore/deployment';
import { explainJournal, newJournal, readJournal, removeJournal, writeJournal } from '../../server/keystore/journal';
import {
  MigrationCrypto,
  ROW_EMPTY,
  ROW_PLAINTEXT,
  ROW_NO_HASH,
  ROW_WRONG_HASH,
  ROW_SOURCE,
  ROW_TARGET,
  ROW_UNKNOWN,
  ROW_VERIFY_FAILED,
} from '../../server/keystore/migrate/crypto';
import { applyEnvChanges, PENDING_KEY_VAR, readPendingKey, restartHint } from '../../server/keystore/migrate/env';
import { alreadyDoneRefusal, decide, emptyTableCounts, migrationMode, tallyStates, type TableCounts } from '../../server/keystore/migrate/plan';
import { gptLoadVectors } from '../support/gptload';
import { previousKeyBackupNote } from '../../server/keystore/backup/beforeWrite';

const vectors = gptLoadVectors();

const GPT_LOAD_KEY = 'my-32-char-secret-key-AbCdEf012345!';
const NEW_KEY = 'Zq8-new_key.for-tests-0123456789';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'glk-migrate-unit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// ---------------------------------------------------------------------------------------------
// GPT-Load's flag rules

test('modes follow GPT-Load: --to enables, --from disables, both change, same twice or neither is usage', () => {
  assert.equal(migrationMode('', 'k'), 'enable');
  assert.equal(migrationMode('k', ''), 'disable');
  assert.equal(migrationMode('a', 'b'), 'change');
  assert.throws(() => migrationMode('a', 'a'), (e: unknown) => e instanceof KeystoreError && e.code === 'usage' && /same as the old key/.test(e.message));
  assert.throws(() => migrationMode('', ''), (e: unknown) => e instanceof KeystoreError && e.code === 'usage' && /--to NEW/.test(e.message));
});

// ---------------------------------------------------------------------------------------------
// per-row crypto, on GPT-Load's own ciphertexts

const gptLoadRows = vectors.filter((v) => v.password === GPT_LOAD_KEY && v.plaintext !== '');

test('classification against both sides, on GPT-Load ciphertexts', () => {
  assert.ok(gptLoadRows.length >= 5);
  const change = new MigrationCrypto({ source: deriveKey(GPT_LOAD_KEY), target: deriveKey(NEW_KEY) });
  const rows = { values: gptLoadRows.map((v) => v.ciphertext), hashes: gptLoadRows.map((v) => v.hash) };
  assert.deepEqual([...change.classify(rows)], rows.values.map(() => ROW_SOURCE));
  // The same rows seen from a run towards them: already in the target state.
  const toThem = new MigrationCrypto({ source: null, target: deriveKey(GPT_LOAD_KEY) });
  assert.deepEqual([...toThem.classify(rows)], rows.values.map(() => ROW_TARGET));
  // With neither key: unknown; plaintext rows in a change: plaintext; empty rows: empty.
  const other = new MigrationCrypto({ source: deriveKey('another-key-0123456789abcdef'), target: deriveKey(NEW_KEY) });
  const plain = gptLoadRows[0].plaintext;
  assert.deepEqual(
    [...other.classify({ values: [gptLoadRows[0].ciphertext, plain, '', gptLoadRows[0].ciphertext], hashes: [gptLoadRows[0].hash, sha256Hex(plain), '', 'bad-hash'] })],
    [ROW_UNKNOWN, ROW_PLAINTEXT, ROW_EMPTY, ROW_UNKNOWN],
  );
  // Disable: plaintext is the target state.
  const disable = new MigrationCrypto({ source: deriveKey(GPT_LOAD_KEY), target: null });
  assert.deepEqual([...disable.classify({ values: [plain], hashes: [sha256Hex(plain)] })], [ROW_TARGET]);
  // A decryptable value whose key_hash does not match (or is missing) is brought along, re-hashed.
  assert.deepEqual([...change.classify({ values: [gptLoadRows[0].ciphertext, gptLoadRows[1].ciphertext], hashes: [sha256Hex('x'), ''] })], [ROW_WRONG_HASH, ROW_WRONG_HASH]);
  // Plaintext GPT-Load wrote before v1.1.0 (no key_hash); a ciphertext-shaped value without a hash that no key opens stays unknown.
  assert.deepEqual([...change.classify({ values: [plain, other.source.encrypt(plain)], hashes: ['', ''] })], [ROW_NO_HASH, ROW_UNKNOWN]);
});

test("leftovers of GPT-Load's history are migrated with the source rows, each to what GPT-Load reads", () => {
  const [a, b, c] = gptLoadRows;
  const crypto = new MigrationCrypto({ source: deriveKey(GPT_LOAD_KEY), target: deriveKey(NEW_KEY) });
  const out = crypto.migrate({ values: [a.ciphertext, b.plaintext, c.plaintext, a.ciphertext], hashes: [a.hash, sha256Hex(b.plaintext), '', ''] });
  assert.deepEqual([...out.states], [ROW_SOURCE, ROW_PLAINTEXT, ROW_NO_HASH, ROW_WRONG_HASH]);
  const reader = codecFor(NEW_KEY);
  [a.plaintext, b.plaintext, c.plaintext, a.plaintext].forEach((plain, i) => {
    assert.equal(reader.decrypt(out.values[i]), plain, `row ${i}`);
    assert.equal(out.hashes[i], reader.hash(plain), `row ${i}: key_hash`);
  });
  // Disabling: a row without a hash gets GPT-Load's SHA-256.
  const disable = new MigrationCrypto({ source: deriveKey(GPT_LOAD_KEY), target: null });
  const off = disable.migrate({ values: [c.plaintext], hashes: [''] });
  assert.deepEqual([[...off.states], off.values, off.hashes], [[ROW_NO_HASH], [c.plaintext], [sha256Hex(c.plaintext)]]);
});

test('migrated values are exactly what GPT-Load reads: the vectors-checked codec decrypts them, key_hash is its HMAC', () => {
  const crypto = new MigrationCrypto({ source: deriveKey(GPT_LOAD_KEY), target: deriveKey(NEW_KEY) });
  const out = crypto.migrate({ values: gptLoadRows.map((v) => v.ciphertext), hashes: gptLoadRows.map((v) => v.hash) });
  const reader = codecFor(NEW_KEY);
  gptLoadRows.forEach((v, i) => {
    assert.equal(out.states[i], ROW_SOURCE);
    assert.match(out.values[i], /^[0-9a-f]+$/);
    assert.equal(out.values[i].length, v.ciphertext.length, 'GPT-Load layout: nonce ‖ ciphertext ‖ tag');
    assert.equal(reader.decrypt(out.values[i]), v.plaintext);
    assert.equal(out.hashes[i], reader.hash(v.plaintext));
  });
  assert.equal(new Set(out.values.map((v) => v.slice(0, 24))).size, out.values.length, 'fresh nonces');
  // Enable from plaintext; disable back to plaintext with SHA-256 hashes.
  const plains = gptLoadRows.map((v) => v.plaintext);
  const enabled = new MigrationCrypto({ source: null, target: deriveKey(NEW_KEY) }).migrate({ values: plains, hashes: plains.map(sha256Hex) });
  plains.forEach((p, i) => assert.equal(reader.decrypt(enabled.values[i]), p));
  const disabled = new MigrationCrypto({ source: deriveKey(NEW_KEY), target: null }).migrate({ values: enabled.values, hashes: enabled.hashes });
  assert.deepEqual(disabled.values, plains);
  assert.deepEqual(disabled.hashes, plains.map(sha256Hex));
  // Rows not in the source state are classified, never rewritten.
  const mixed = new MigrationCrypto({ source: null, target: deriveKey(NEW_KEY) }).migrate({ values: [enabled.values[0], ''], hashes: [enabled.hashes[0], ''] });
  assert.deepEqual([...mixed.states], [ROW_TARGET, ROW_EMPTY]);
  assert.deepEqual(mixed.values, ['', '']);
});

test('a fault shared by the batch sealer and opener is caught by Node\'s own GCM: every new value of the batch fails', () => {
  const crypto = new MigrationCrypto({ source: deriveKey(GPT_LOAD_KEY), target: deriveKey(NEW_KEY) });
  const rows = { values: gptLoadRows.map((v) => v.ciphertext), hashes: gptLoadRows.map((v) => v.hash) };
  const target = crypto.target;
  const sound = target.encryptMany.bind(target);
  // A sealer whose tags are wrong, and an opener that agrees with it (as a shared GHASH fault would).
  target.encryptMany = (plains) => sound(plains).map((value) => value.slice(0, -2) + (value.endsWith('00') ? '01' : '00'));
  target.decryptMany = () => gptLoadRows.map((v) => v.plaintext);
  const out = crypto.migrate(rows);
  assert.deepEqual([...out.states], gptLoadRows.map(() => ROW_VERIFY_FAILED));
  assert.deepEqual(out.values, gptLoadRows.map(() => ''));
});

test('the worker pool (worker.ts under tsx) gives the same answers as the main thread', async () => {
  const codec = codecFor(GPT_LOAD_KEY);
  const n = INLINE_BELOW_ROWS;
  const plains = Array.from({ length: 300 }, (_, i) => `sk-proj-${i}-abcdefghijklmnopqrstuvwxyz`);
  const values = plains.map((p) => codec.encrypt(p));
  const hashes = plains.map((p) => codec.hash(p));
  const runner = await createCryptoRunner({ source: deriveKey(GPT_LOAD_KEY), target: deriveKey(NEW_KEY) }, { rows: n, threads: 2 });
  try {
    assert.equal(runner.threads, 2);
    const [states, out] = await Promise.all([runner.classify({ values, hashes }), runner.migrate({ values, hashes })]);
    assert.deepEqual([...states], values.map(() => ROW_SOURCE));
    const reader = codecFor(NEW_KEY);
    plains.forEach((p, i) => {
      assert.equal(reader.decrypt(out.values[i]), p);
      assert.equal(out.hashes[i], reader.hash(p));
    });
  } finally {
    await runner.close();
  }
  const inline = await createCryptoRunner({ source: null, target: null }, { rows: n - 1 });
  assert.equal(inline.threads, 0);
  await inline.close();
});

test('the pool starts before the keys are derived and gets them first; one worker per CPU, less one where a server reads the rows', async () => {
  const codec = codecFor(GPT_LOAD_KEY);
  const plains = ['sk-late-keys-0123456789', 'sk-late-keys-abcdefghij'];
  let derive!: (keys: { source: Buffer; target: Buffer }) => void;
  const keys = new Promise<{ source: Buffer; target: Buffer }>((resolve) => (derive = resolve));
  const starting = createCryptoRunner(keys, { rows: INLINE_BELOW_ROWS, engine: 'sqlite' });
  setTimeout(() => derive({ source: deriveKey(GPT_LOAD_KEY), target: deriveKey(NEW_KEY) }), 50);
  const runner = await starting;
  try {
    assert.equal(runner.threads, availableParallelism());
    const out = await runner.migrate({ values: plains.map((p) => codec.encrypt(p)), hashes: plains.map((p) => codec.hash(p)) });
    assert.deepEqual(out.values.map((v) => codecFor(NEW_KEY).decrypt(v)), plains);
  } finally {
    await runner.close();
  }
  for (const engine of ['mysql', 'postgres'] as const) {
    const server = await createCryptoRunner({ source: null, target: null }, { rows: INLINE_BELOW_ROWS, engine });
    assert.equal(server.threads, Math.max(1, availableParallelism() - 1), engine);
    await server.close();
  }
});

// ---------------------------------------------------------------------------------------------
// decisions

function counts(partial: Partial<TableCounts>): TableCounts {
  const c = { ...emptyTableCounts(), ...partial };
  c.total = c.empty + c.source + c.target + c.plaintext + c.noHash + c.wrongHash + c.unknown;
  return c;
}

test('tallying states keeps exact counts and a few ids of blocking rows', () => {
  const c = emptyTableCounts();
  tallyStates(c, Uint8Array.from([ROW_SOURCE, ROW_TARGET, ROW_UNKNOWN, ROW_EMPTY, ROW_PLAINTEXT, ROW_UNKNOWN, ROW_NO_HASH, ROW_WRONG_HASH]), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(c, { total: 8, empty: 1, source: 1, target: 1, plaintext: 1, noHash: 1, wrongHash: 1, unknown: 2, sampleIds: [3, 6], leftoverIds: [5, 7, 8] });
});

test('decisions: migrate, finish a partial change, complete, refuse with counts per table and state', () => {
  assert.deepEqual(decide('enable', { api_keys: counts({ source: 10, empty: 1 }), request_logs: counts({ source: 5, empty: 7 }) }), { action: 'migrate', rows: 15 });
  assert.deepEqual(decide('change', { api_keys: counts({ target: 10 }), request_logs: counts({ source: 5 }) }), { action: 'finish', rows: 5, alreadyDone: 10 });
  assert.deepEqual(decide('change', { api_keys: counts({ target: 10 }), request_logs: null }), { action: 'complete', alreadyDone: 10 });
  assert.deepEqual(decide('enable', { api_keys: counts({}), request_logs: counts({ empty: 3 }) }), { action: 'complete', alreadyDone: 0 });

  const wrongFrom = decide('change', { api_keys: counts({ source: 8, unknown: 4, sampleIds: [3, 9] }), request_logs: counts({ source: 2 }) });
  assert.equal(wrongFrom.action, 'refuse');
  if (wrongFrom.action === 'refuse') {
    assert.match(wrongFrom.reason.en, /^changing the key refused: 4 of 12 api_keys rows decrypt with neither key/);
    assert.match(wrongFrom.reason.en, /api_keys: 12 rows — 8 encrypted with the --from key, 4 decryptable with neither key \(undecryptable, e\.g\. ids 3, 9\)/);
    assert.match(wrongFrom.reason.en, /keys list --undecryptable.*--leave-undecryptable/);
    assert.match(wrongFrom.reason.en, /Nothing was written/);
    assert.match(wrongFrom.reason.zh, /拒绝更换密钥/);
  }
  const alreadyOther = decide('enable', { api_keys: counts({ unknown: 12000 }), request_logs: null });
  assert.ok(alreadyOther.action === 'refuse' && /12,000 of 12,000 api_keys rows are already encrypted with another key/.test(alreadyOther.reason.en));
  // Leftovers of GPT-Load's history are brought along, not refused.
  assert.deepEqual(decide('change', { api_keys: counts({ source: 5, plaintext: 2 }), request_logs: null }), { action: 'migrate', rows: 7 });
  assert.deepEqual(decide('change', { api_keys: counts({ source: 5 }), request_logs: counts({ source: 3, plaintext: 4, noHash: 2, wrongHash: 1 }) }), { action: 'migrate', rows: 15 });
  // --leave-undecryptable: unknown rows stay, the rest migrates.
  assert.deepEqual(decide('change', { api_keys: counts({ source: 8, unknown: 4 }), request_logs: counts({ unknown: 1 }) }, true), { action: 'migrate', rows: 8 });
  const logs = decide('change', { api_keys: counts({ source: 5 }), request_logs: counts({ source: 3, unknown: 4 }) });
  assert.ok(logs.action === 'refuse' && /4 of 7 request_logs rows decrypt with neither key/.test(logs.reason.en));
});

test("GPT-Load's refusal to enable on encrypted data names the target key decrypting it", () => {
  const text = alreadyDoneRefusal('enable', { api_keys: counts({ target: 12000 }), request_logs: null });
  assert.match(text.en, /^enabling encryption refused: 12,000 of 12,000 api_keys rows are already encrypted — and the target key decrypts them: the data is already encrypted with this key\. Nothing was written;/);
  assert.match(alreadyDoneRefusal('change', { api_keys: counts({ target: 3 }), request_logs: null }).en, /already under the new key\. Nothing was written; the \.env names another key/);
});

// ---------------------------------------------------------------------------------------------
// .env, restart hint, journal

test('.env: several variables in one atomic write, read back as godotenv reads them', (t) => {
  const dir = tempDir(t);
  const path = join(dir, '.env');
  writeFileSync(path, '# GPT-Load\nAUTH_KEY=abc\nENCRYPTION_KEY=\nPORT=3001\n');
  assert.equal(applyEnvChanges(path, { [PENDING_KEY_VAR]: 'new$key#with"odd chars' }), true);
  assert.equal(readPendingKey(path), 'new$key#with"odd chars');
  assert.equal(applyEnvChanges(path, { ENCRYPTION_KEY: 'new$key#with"odd chars', [PENDING_KEY_VAR]: null }), true);
  const after = readFileSync(path, 'utf8');
  assert.ok(after.startsWith('# GPT-Load\nAUTH_KEY=abc\nENCRYPTION_KEY='));
  assert.ok(!after.includes(PENDING_KEY_VAR));
  assert.equal(resolveDeployment({ cwd: dir, processEnv: {} }).encryptionKey, 'new$key#with"odd chars');
  assert.equal(applyEnvChanges(path, { ENCRYPTION_KEY: null }), true);
  assert.equal(readFileSync(path, 'utf8'), '# GPT-Load\nAUTH_KEY=abc\nPORT=3001\n');
  assert.equal(applyEnvChanges(path, { ENCRYPTION_KEY: null }), false);
});

test('restart hint from what lies beside .env', (t) => {
  const dir = tempDir(t);
  // Nothing detected: no command is guessed, the sentence says how to find out.
  const unknown = restartHint(dir);
  assert.equal(unknown.deployment, 'unknown');
  assert.equal(unknown.command, null);
  assert.doesNotMatch(unknown.advice.en, /\.\/gpt-load|make run|docker compose/);
  assert.match(unknown.advice.zh, /请按此处运行 GPT-Load 的方式重启/);
  writeFileSync(join(dir, 'gpt-load'), '');
  assert.equal(restartHint(dir).command, './gpt-load');
  assert.match(restartHint(dir).advice.en, /^Restart GPT-Load: stop the running gpt-load, then start \.\/gpt-load again/);
  writeFileSync(join(dir, 'Makefile'), 'run:\n\tgo run .\n');
  assert.equal(restartHint(dir).command, 'make run');
  assert.match(restartHint(dir).advice.zh, /make run/);
  writeFileSync(
    join(dir, 'docker-compose.yml'),
    'services:\n  mysql:\n    image: mysql:8.2\n  llm-proxy:\n    image: ghcr.io/tbphp/gpt-load:latest\n    env_file:\n      - .env\n  redis:\n    image: redis:latest\n',
  );
  const compose = restartHint(dir);
  assert.deepEqual([compose.deployment, compose.command], ['docker-compose', 'docker compose up -d --force-recreate llm-proxy']);
  assert.equal(compose.advice.en, 'Restart GPT-Load by recreating its container (a plain restart keeps the old environment): docker compose up -d --force-recreate llm-proxy');
});

test('journal: written, explained, removed; no key material in it', (t) => {
  const dir = tempDir(t);
  assert.equal(readJournal(dir), null);
  const journal = newJournal({ mode: 'change', from: keyFingerprint(GPT_LOAD_KEY), to: keyFingerprint(NEW_KEY), target: 'sqlite x', updateEnv: true, skipLogs: false });
  writeJournal(dir, journal);
  const text = readFileSync(join(dir, '.gpt-load-keystore', 'migration.json'), 'utf8');
  assert.ok(!text.includes(GPT_LOAD_KEY) && !text.includes(NEW_KEY) && !text.includes(deriveKey(NEW_KEY).toString('hex')));
  assert.deepEqual(readJournal(dir), journal);
  const explained = explainJournal({ ...journal, phase: 'committed' }, 'new', keyFingerprint(GPT_LOAD_KEY));
  assert.match(explained.en, new RegExp(`database is entirely under the new key \\(fingerprint ${journal.to}\\) but \\.env still has the old key \\(${journal.from}\\): rerun the same command to finish`));
  assert.match(explainJournal(journal, 'old', null).en, /never committed/);
  removeJournal(dir);
  assert.equal(readJournal(dir), null);
});

// ---------------------------------------------------------------------------------------------
// keys from flags

function fakeIo(dir: string, env: NodeJS.ProcessEnv = {}, tty = false): CliIO {
  const stdin = Object.assign(new PassThrough(), { isTTY: tty });
  return { stdout: new PassThrough(), stderr: new PassThrough(), stdin, env, cwd: dir, lang: 'en', cancellation: { cancelled: false } };
}

function args(values: ParsedArgs['values']): ParsedArgs {
  return { values, positionals: [] };
}

async function rejectsWith(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => e instanceof KeystoreError && e.code === code && pattern.test(e.message));
}

test('key flags: one way per side, env vars, files, prompts only on a terminal', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, '.env'), 'ENCRYPTION_KEY=old-key-in-env-file-0123456789\n');
  writeFileSync(join(dir, 'new.key'), `${NEW_KEY}\n`);
  const io = fakeIo(dir, { OLD: GPT_LOAD_KEY, EMPTY: '' });
  const deployment = resolveDeployment({ cwd: dir, processEnv: {} });
  const noPrompt: SecretPrompt = async () => assert.fail('must not prompt');

  let keys = await resolveMigrationKeys(args({ to: NEW_KEY }), io, deployment, noPrompt);
  assert.deepEqual([keys.fromKey, keys.toKey, keys.toSource], ['', NEW_KEY, 'flag']);
  assert.match(keys.notices[0].en, /shell history/);
  keys = await resolveMigrationKeys(args({ 'from-env': 'OLD' }), io, deployment, noPrompt);
  assert.deepEqual([keys.fromKey, keys.toKey, keys.notices.length], [GPT_LOAD_KEY, '', 0]);
  keys = await resolveMigrationKeys(args({ 'from-env': 'OLD', 'to-file': 'new.key' }), io, deployment, noPrompt);
  assert.deepEqual([keys.fromKey, keys.toKey], [GPT_LOAD_KEY, NEW_KEY]);

  await rejectsWith(resolveMigrationKeys(args({}), io, deployment, noPrompt), 'usage', /--to NEW to enable/);
  await rejectsWith(resolveMigrationKeys(args({ to: 'a', 'to-env': 'OLD' }), io, deployment, noPrompt), 'usage', /one way only/);
  await rejectsWith(resolveMigrationKeys(args({ to: '' }), io, deployment, noPrompt), 'usage', /leave --to out/);
  await rejectsWith(resolveMigrationKeys(args({ 'to-env': 'MISSING' }), io, deployment, noPrompt), 'key-required', /MISSING is set neither in the environment nor in .*\.env/);
  await rejectsWith(resolveMigrationKeys(args({ 'to-env': 'EMPTY' }), io, deployment, noPrompt), 'key-required', /EMPTY is empty/);
  await rejectsWith(resolveMigrationKeys(args({ 'to-file': 'nope.key' }), io, deployment, noPrompt), 'key-required', /cannot read nope\.key/);
  await rejectsWith(resolveMigrationKeys(args({ 'to-prompt': true }), io, deployment, noPrompt), 'usage', /not a terminal/);

  const tty = fakeIo(dir, {}, true);
  const answers = (list: string[]): SecretPrompt => async () => list.shift()!;
  keys = await resolveMigrationKeys(args({ 'from-prompt': true, 'to-prompt': true }), tty, deployment, answers([GPT_LOAD_KEY, NEW_KEY, NEW_KEY]));
  assert.deepEqual([keys.fromKey, keys.toKey], [GPT_LOAD_KEY, NEW_KEY]);
  await rejectsWith(resolveMigrationKeys(args({ 'to-prompt': true }), tty, deployment, answers([NEW_KEY, 'typo'])), 'key-required', /differ/);
});

test('--generate makes a strong key, or reuses the one an interrupted run parked in .env', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, '.env'), 'ENCRYPTION_KEY=old-key-in-env-file-0123456789\n');
  const io = fakeIo(dir);
  const deployment = resolveDeployment({ cwd: dir, processEnv: {} });
  const fresh = await resolveMigrationKeys(args({ generate: true }), io, deployment);
  assert.equal(fresh.toSource, 'generated');
  assert.equal(fresh.fromKey, '');
  assert.ok(fresh.toKey.length >= 32 && /^[A-Za-z0-9._-]+$/.test(fresh.toKey));

  applyEnvChanges(join(dir, '.env'), { [PENDING_KEY_VAR]: NEW_KEY });
  const reused = await resolveMigrationKeys(args({ generate: true }), io, deployment);
  assert.deepEqual([reused.toKey, reused.toSource], [NEW_KEY, 'pending']);
  assert.match(reused.notices[0].en, /parked/);
  // The bare command resumes: from = the key .env still names, to = the parked one.
  const resumed = await resolveMigrationKeys(args({}), io, deployment);
  assert.deepEqual([resumed.fromKey, resumed.toKey], ['old-key-in-env-file-0123456789', NEW_KEY]);
});

test('migrate-keys --help documents every key input and the exit codes', () => {
  for (const word of ['--from-env', '--to-env', '--to-file', '--to-prompt', '--generate', '--update-env', '--skip-logs', '--dry-run', '--force', '--yes', '--json', '5 refused', '6 GPT-Load is running', '7 cannot connect']) {
    assert.ok(migrateKeysCommand.help.includes(word), word);
  }
});

test('after a key change the summary says the backup of the state before needs the previous key, and to back up under the new one', () => {
  const backup = { file: '/srv/gpt-load/backups/b.db', keyFingerprint: '0123456789abcdef', rows: { api_keys: 3 }, plaintext: null };
  const note = previousKeyBackupNote(backup)!;
  for (const text of [note.en, note.zh]) {
    assert.ok(text.includes('/srv/gpt-load/backups/b.db') && text.includes('0123456789abcdef') && text.includes('gpt-load-keystore backup create'), text);
  }
  assert.equal(previousKeyBackupNote(null), null);
  assert.equal(previousKeyBackupNote({ ...backup, plaintext: { apiKeys: 3, requestLogs: 0 } }), null, 'a plaintext backup has its own warning');
});
