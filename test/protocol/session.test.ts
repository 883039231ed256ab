/**
 * A whole editor session against the built daemon over stdio with a plain JSON-RPC client:
 * initialize → didOpen → diagnostics (lint, then the database check) → code actions → hover →
 * keystore requests → shutdown/exit. SQLite; one round-trip on each server engine is in engines.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { CodeAction, Diagnostic, Hover } from 'vscode-languageserver-protocol';
import { codecFor, sha256Hex } from '../../server/core/crypto';
import {
  DaemonDiagnosticCodes,
  DecryptRequest,
  EncryptRequest,
  EnvReadRequest,
  EnvWriteRequest,
  GenerateSecretRequest,
  GroupsRequest,
  HashRequest,
  KeyBackupsRequest,
  KeysRequest,
  KeystoreErrorCodes,
  RevealKeyRequest,
  StatusRequest,
  type ErrorData,
} from '../../shared/protocol';
import { createGptLoadDatabase } from '../support/databases';
import { fileUri, startDaemon } from './daemon';

const KEY = 'Kx7-protocol-test-encryption-key-2f9Q';
const WRONG = 'Wz4-not-the-key-the-data-was-encrypted-8aL';

function messageOf(d: Diagnostic): string {
  return typeof d.message === 'string' ? d.message : d.message.value;
}

function codes(diagnostics: Diagnostic[]): string[] {
  return diagnostics.map((d) => String(d.code));
}

test('a full session over stdio: diagnostics, code actions, hover, keystore requests, clean exit', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 120, logs: 30, encryptionKey: KEY, env: true });
  assert.ok(db);
  const envPath = join(db.envDir, '.env');
  const uri = fileUri(envPath);
  const daemon = await startDaemon(t);
  assert.equal(daemon.initialize.serverInfo?.name, 'gpt-load-keystore');
  const deployment = { envFile: envPath };

  // The editor shows a wrong ENCRYPTION_KEY (unsaved): the database check uses the editor's text.
  const text = readFileSync(envPath, 'utf8').replace(/^ENCRYPTION_KEY=.*$/m, `ENCRYPTION_KEY=${WRONG}`) + 'AUTH_KEY=short\n';
  const mismatch = daemon.diagnostics(uri, (d) => codes(d).includes(DaemonDiagnosticCodes.keyMismatch));
  daemon.open(uri, text);
  const diagnostics = await mismatch;
  const wrongKey = diagnostics.find((d) => d.code === DaemonDiagnosticCodes.keyMismatch)!;
  assert.match(messageOf(wrongKey), /^0 of 120 stored keys decrypt with this ENCRYPTION_KEY/);
  assert.equal(wrongKey.range.start.line, 1, 'on the ENCRYPTION_KEY line');
  assert.ok(codes(diagnostics).includes('duplicate-key'));
  assert.ok(codes(diagnostics).includes('secret-too-short'));
  for (const d of diagnostics) assert.ok(!messageOf(d).includes(WRONG) && !messageOf(d).includes(KEY), 'no secret in a diagnostic');

  const actions = (await daemon.rpc.sendRequest('textDocument/codeAction', {
    textDocument: { uri },
    range: wrongKey.range,
    context: { diagnostics: [wrongKey] },
  })) as CodeAction[];
  const migrate = actions.find((a) => a.command?.command === 'gptLoad.migrateKeys');
  assert.ok(migrate, 'Migrate keys… offered on the mismatch');
  assert.deepEqual(migrate.command!.arguments, [uri]);

  const short = diagnostics.find((d) => d.code === 'secret-too-short')!;
  const [generate] = (await daemon.rpc.sendRequest('textDocument/codeAction', { textDocument: { uri }, range: short.range, context: { diagnostics: [short] } })) as CodeAction[];
  assert.equal(generate.title, 'Generate a strong AUTH_KEY');
  const edit = generate.edit!.changes![uri][0];
  assert.deepEqual(edit.range, short.range);
  assert.match(edit.newText, /^[A-Za-z0-9._-]{32}$/);

  const hover = (await daemon.rpc.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 1, character: 3 } })) as Hover;
  const hoverText = (hover.contents as { value: string }).value;
  assert.match(hoverText, /\*\*ENCRYPTION_KEY\*\*/);
  assert.match(hoverText, /0 decrypt with it/);
  assert.ok(!hoverText.includes('\n'), `one paragraph: ${hoverText}`);
  assert.ok(!hoverText.includes(WRONG), 'hover masks the key');

  // Fixing the key in the editor clears the mismatch.
  const fixed = daemon.diagnostics(uri, (d, version) => version === 2 && !codes(d).includes(DaemonDiagnosticCodes.keyMismatch) && !codes(d).includes('duplicate-key'));
  daemon.change(uri, readFileSync(envPath, 'utf8'), 2);
  await fixed;

  // Keystore requests.
  const status = await daemon.rpc.sendRequest(StatusRequest.type, { deployment, workDoneToken: 'status-1' });
  assert.equal(status.state, 'ok');
  assert.equal(status.apiKeys.encrypted, 120);
  assert.equal(status.requestLogs.total, 30);
  assert.equal(status.keyFingerprint, codecFor(KEY).fingerprint);

  // Without a client token the daemon creates one (window/workDoneProgress/create) and reports on it.
  const created: unknown[] = [];
  const progress: Array<{ token: unknown; value: { kind: string } }> = [];
  daemon.rpc.onRequest('window/workDoneProgress/create', (p: { token: unknown }) => {
    created.push(p.token);
    return null;
  });
  daemon.rpc.onNotification('$/progress', (p: { token: unknown; value: { kind: string } }) => {
    progress.push(p);
  });
  await daemon.rpc.sendRequest(StatusRequest.type, { deployment, skipLogs: true });
  assert.equal(created.length, 1);
  const kinds = progress.filter((p) => p.token === created[0]).map((p) => p.value.kind);
  assert.equal(kinds[0], 'begin');
  assert.equal(kinds.at(-1), 'end');

  const { groups } = await daemon.rpc.sendRequest(GroupsRequest.type, { deployment });
  assert.deepEqual(groups.map((g) => g.name), db.seeded!.groups.map((g) => g.name));

  const first = await daemon.rpc.sendRequest(KeysRequest.type, { deployment, limit: 50 });
  assert.equal(first.items.length, 50);
  assert.ok(first.nextAfterId);
  const second = await daemon.rpc.sendRequest(KeysRequest.type, { deployment, limit: 50, afterId: first.nextAfterId });
  assert.ok(second.items[0].id > first.items[49].id);
  for (const item of first.items) assert.ok(!item.masked.includes(db.plaintexts.get(item.id)!), 'masked, never whole');

  const [id, plaintext] = [...db.plaintexts][7];
  const found = await daemon.rpc.sendRequest(KeysRequest.type, { deployment, value: plaintext });
  assert.deepEqual(found.items.map((k) => k.id), [id], 'found by exact value through its hash');
  const openai = db.seeded!.groups.find((g) => g.name === 'openai')!;
  const invalid = await daemon.rpc.sendRequest(KeysRequest.type, { deployment, groupName: 'openai', status: 'invalid', limit: 1000 });
  assert.equal(invalid.items.length, openai.invalid);
  assert.ok(invalid.items.every((k) => k.status === 'invalid' && k.groupName === 'openai'));

  const revealed = await daemon.rpc.sendRequest(RevealKeyRequest.type, { deployment, id });
  assert.equal(revealed.key, plaintext);

  const encrypted = await daemon.rpc.sendRequest(EncryptRequest.type, { deployment, values: ['sk-one', 'sk-two'] });
  const decrypted = await daemon.rpc.sendRequest(DecryptRequest.type, { deployment, values: [...(encrypted.results as string[]), 'not-hex'] });
  assert.deepEqual(decrypted.results, ['sk-one', 'sk-two', null]);
  assert.deepEqual(decrypted.failures, [{ index: 2, reason: 'not-hex' }]);
  const hashed = await daemon.rpc.sendRequest(HashRequest.type, { values: ['sk-one'] });
  assert.deepEqual(hashed.results, [sha256Hex('sk-one')], 'no key: GPT-Load disabled mode');

  const copies = await daemon.rpc.sendRequest(KeyBackupsRequest.type, { deployment, candidates: [WRONG, KEY] });
  assert.deepEqual(copies.results.map((r) => [r.works, r.matchesEnv]), [[false, false], [true, true]]);
  assert.equal(copies.results[1].fingerprint, codecFor(KEY).fingerprint);

  const secret = await daemon.rpc.sendRequest(GenerateSecretRequest.type, { name: 'AUTH_KEY' });
  assert.equal(secret.value.length, 32);
  assert.equal(secret.strength.risk, null);

  const written = await daemon.rpc.sendRequest(EnvWriteRequest.type, { envFile: envPath, key: 'AUTH_KEY', value: secret.value });
  assert.deepEqual(written, { path: envPath, created: false, changed: true });
  const read = await daemon.rpc.sendRequest(EnvReadRequest.type, { envFile: uri });
  assert.ok(!JSON.stringify(read).includes(secret.value) && !JSON.stringify(read).includes(KEY), 'env/read never returns values unasked');
  const auth = read.entries.find((e) => e.key === 'AUTH_KEY')!;
  assert.equal(auth.length, 32);
  assert.equal(auth.strength?.risk, null);
  const one = await daemon.rpc.sendRequest(EnvReadRequest.type, { envFile: envPath, reveal: 'AUTH_KEY' });
  assert.deepEqual(one.revealed, { key: 'AUTH_KEY', value: secret.value });

  assert.equal(await daemon.stop(), 0, 'shutdown + exit ends the process with 0');
  assert.equal(daemon.strayStdout(), '', 'stdout carried protocol messages only');
});

test('errors carry stable codes, the CLI message, and the client language', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 5, encryptionKey: KEY, env: true });
  assert.ok(db);
  const daemon = await startDaemon(t, { locale: 'zh-cn' });
  const envFile = join(db.envDir, '.env');

  writeFileSync(envFile, readFileSync(envFile, 'utf8').replace(/^ENCRYPTION_KEY=.*$/m, `ENCRYPTION_KEY=${WRONG}`));
  await assert.rejects(daemon.rpc.sendRequest(RevealKeyRequest.type, { deployment: { envFile }, id: 1 }), (err: { code: number; message: string; data: ErrorData }) => {
    assert.equal(err.code, KeystoreErrorCodes['wrong-key']);
    assert.equal(err.data.code, 'wrong-key');
    assert.match(err.message, /无法用当前 ENCRYPTION_KEY 解密/);
    return true;
  });
  await assert.rejects(daemon.rpc.sendRequest(StatusRequest.type, { deployment: { envFile: join(db.envDir, 'nowhere', '.env') } }), (err: { code: number; data: ErrorData; message: string }) => {
    assert.equal(err.data.code, 'database-missing');
    assert.equal(err.code, KeystoreErrorCodes['database-missing']);
    assert.match(err.message, /GPT-Load/);
    return true;
  });
  writeFileSync(envFile, 'AUTH-KEY=x\n');
  await assert.rejects(daemon.rpc.sendRequest(GroupsRequest.type, { deployment: { envFile } }), (err: { data: ErrorData }) => err.data.code === 'env-parse');
  await assert.rejects(daemon.rpc.sendRequest(KeysRequest.type, { deployment: { envFile: 'relative/.env' } }), (err: { code: number; data: ErrorData; message: string }) => {
    assert.equal(err.code, KeystoreErrorCodes.usage);
    assert.match(err.message, /envFile/);
    return true;
  });
});
