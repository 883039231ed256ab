/**
 * Secrets never reach logs: a full session at the highest log level, with a log file, handles known
 * secrets (ENCRYPTION_KEY, AUTH_KEY, database passwords, key copies, a revealed and a generated key,
 * failing connections and a .env godotenv refuses). None of them may appear in stderr or the log
 * file; stdout holds only protocol messages, and a secret appears there only in the one answer that
 * returns it.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import {
  DaemonDiagnosticCodes,
  DecryptRequest,
  EncryptRequest,
  EnvReadRequest,
  EnvWriteRequest,
  GenerateSecretRequest,
  GroupsRequest,
  KeyBackupsRequest,
  KeysRequest,
  RevealKeyRequest,
  StatusRequest,
} from '../../shared/protocol';
import { createGptLoadDatabase } from '../support/databases';
import { fileUri, startDaemon } from './daemon';

const KEY = 'enc-Secret-4d1a9Q-never-logged-7f';
const WRONG = 'wrong-Secret-2b6d-never-logged-5c';
const AUTH = 'auth-Secret-9c2bX-never-logged-1e';
const MYSQL_PASSWORD = 'mysqlPw-Secret-5b8e-never-logged';
const PG_PASSWORD = 'pgPw-Secret-3a7c-never-logged';
const COPY = 'copy-Secret-8e1f-never-logged-0a';
const BEHIND_ERROR = 'after-error-Secret-6f0e-never-logged';

function occurrences(text: string, secret: string): number {
  return text.split(secret).length - 1;
}

test('a full session at trace level leaks no secret into stderr, stdout or the log file', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 30, logs: 10, encryptionKey: KEY, authKey: AUTH, env: true });
  assert.ok(db);
  const envFile = join(db.envDir, '.env');
  const logFile = join(db.envDir, 'daemon.log');
  const daemon = await startDaemon(t, { args: ['--log-level', 'trace', '--log-file', logFile], recordStdout: true });
  const deployment = { envFile };
  const uri = fileUri(envFile);
  const [id, plaintext] = [...db.plaintexts][3];

  // Editor traffic: a wrong key typed, diagnostics, fixes, hovers.
  const text = readFileSync(envFile, 'utf8');
  const checked = daemon.diagnostics(uri, (d: Diagnostic[]) => d.some((x) => x.code === DaemonDiagnosticCodes.keyMismatch));
  daemon.open(uri, text.replace(KEY, WRONG));
  const diagnostics = await checked;
  await daemon.rpc.sendRequest('textDocument/codeAction', { textDocument: { uri }, range: diagnostics[0].range, context: { diagnostics } });
  for (let line = 0; line < 3; line++) await daemon.rpc.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line, character: 2 } });
  const dsnUri = fileUri(join(db.envDir, 'other', '.env'));
  const unreachable = daemon.diagnostics(dsnUri, (d) => d.some((x) => x.code === DaemonDiagnosticCodes.databaseUnreachable));
  daemon.open(dsnUri, `AUTH_KEY=${AUTH}\nENCRYPTION_KEY=${KEY}\nDATABASE_DSN=root:${MYSQL_PASSWORD}@tcp(127.0.0.1:3306)/glk_no_such_db\n`);
  await unreachable;

  // Keystore traffic.
  await daemon.rpc.sendRequest(StatusRequest.type, { deployment });
  await daemon.rpc.sendRequest(GroupsRequest.type, { deployment });
  await daemon.rpc.sendRequest(KeysRequest.type, { deployment, value: plaintext });
  const revealed = await daemon.rpc.sendRequest(RevealKeyRequest.type, { deployment, id });
  assert.equal(revealed.key, plaintext);
  const sealed = await daemon.rpc.sendRequest(EncryptRequest.type, { encryptionKey: COPY, values: ['sk-sealed-under-copy'] });
  await daemon.rpc.sendRequest(DecryptRequest.type, { encryptionKey: WRONG, values: sealed.results as string[] });
  await daemon.rpc.sendRequest(KeyBackupsRequest.type, { deployment, candidates: [COPY, KEY] });
  const generated = await daemon.rpc.sendRequest(GenerateSecretRequest.type, {});
  await daemon.rpc.sendRequest(EnvWriteRequest.type, { envFile, key: 'AUTH_KEY', value: generated.value });
  const read = await daemon.rpc.sendRequest(EnvReadRequest.type, { envFile, reveal: 'AUTH_KEY' });
  assert.equal(read.revealed?.value, generated.value);

  // Failures whose raw causes could quote secrets.
  const failing = [
    { envFile, dsn: `root:${MYSQL_PASSWORD}@tcp(127.0.0.1:3306)/glk_no_such_db` },
    { envFile, dsn: `postgres://postgres:${PG_PASSWORD}@127.0.0.1:5432/glk_no_such_db?sslmode=disable` },
    { envFile, dsn: `postgres://postgres:${PG_PASSWORD}@glk-no-such-host.invalid:5432/db` },
  ];
  for (const d of failing) await assert.rejects(daemon.rpc.sendRequest(StatusRequest.type, { deployment: d }));
  writeFileSync(envFile, `AUTH_KEY=${AUTH}\nBAD-NAME=1\nENCRYPTION_KEY=${BEHIND_ERROR}\n`);
  await assert.rejects(daemon.rpc.sendRequest(StatusRequest.type, { deployment }), (err: Error) => {
    assert.ok(!err.message.includes(BEHIND_ERROR) && !err.message.includes(AUTH), 'the parse error quotes no file content');
    return true;
  });

  assert.equal(await daemon.stop(), 0);
  const log = readFileSync(logFile, 'utf8');
  assert.match(log, /→ gptLoad\/revealKey/, 'trace level really logged the session');
  const stderr = daemon.stderr();
  const stdout = daemon.stdout();
  const never = { KEY, WRONG, AUTH, MYSQL_PASSWORD, PG_PASSWORD, COPY, BEHIND_ERROR };
  for (const [name, secret] of Object.entries({ ...never, plaintext, generated: generated.value })) {
    assert.equal(occurrences(stderr, secret), 0, `${name} in stderr`);
    assert.equal(occurrences(log, secret), 0, `${name} in the log file`);
  }
  for (const [name, secret] of Object.entries(never)) assert.equal(occurrences(stdout, secret), 0, `${name} in stdout`);
  assert.equal(occurrences(stdout, plaintext), 1, 'the revealed key only in the reveal answer');
  assert.equal(occurrences(stdout, generated.value), 2, 'the generated key only in its answer and the one env/read that asked for it');
  assert.equal(daemon.strayStdout(), '');
});
