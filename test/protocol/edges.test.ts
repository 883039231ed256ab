/**
 * Protocol edges (issue 12 item 6): requests before `initialize` answer -32002 and run nothing; a
 * broken frame makes the daemon log it and exit non-zero (the client restarts it) instead of
 * staying alive and deaf; `window/workDoneProgress/cancel` stops a migration on a daemon-created
 * progress even though the client declared `window.workDoneProgress`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { codecFor } from '../../server/core/crypto';
import { KeystoreErrorCodes, MigrateRequest, StatusRequest, type ErrorData } from '../../shared/protocol';
import { createGptLoadDatabase } from '../support/databases';
import { DEFAULT_CAPABILITIES, SERVER_JS, startDaemon } from './daemon';

function spawnRaw(t: TestContext) {
  const child = spawn(process.execPath, [SERVER_JS, '--stdio'], { stdio: 'pipe' });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(() => {
    child.kill('SIGKILL');
  });
  return { child, exited, stderr: () => stderr };
}

test('requests before initialize answer -32002; after initialize they are served', async (t) => {
  const { child } = spawnRaw(t);
  const rpc = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  rpc.listen();
  t.after(() => rpc.dispose());
  for (const [method, params] of [
    ['gptLoad/generateSecret', {}],
    ['gptLoad/status', { deployment: { envFile: '/nowhere/.env' } }],
    ['textDocument/hover', { textDocument: { uri: 'file:///nowhere/.env' }, position: { line: 0, character: 0 } }],
    ['textDocument/codeAction', { textDocument: { uri: 'file:///nowhere/.env' }, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, context: { diagnostics: [] } }],
  ] as const) {
    await assert.rejects(rpc.sendRequest(method, params), (err: { code: number; message: string }) => {
      assert.equal(err.code, -32002, method);
      assert.match(err.message, /not initialized/);
      return true;
    });
  }
  await rpc.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: DEFAULT_CAPABILITIES });
  await rpc.sendNotification('initialized', {});
  const secret = (await rpc.sendRequest('gptLoad/generateSecret', {})) as { value: string };
  assert.equal(secret.value.length, 32);
});

const BROKEN_FRAMES: Array<[string, (body: string) => string]> = [
  ['Content-Length is not a number', (body) => `Content-Length: abc\r\n\r\n${body}`],
  ['a length one byte short', (body) => `Content-Length: ${Buffer.byteLength(body) - 1}\r\n\r\n${body}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`],
  ['a length one byte long', (body) => `Content-Length: ${Buffer.byteLength(body) + 1}\r\n\r\n${body}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`],
  ['an absurdly large length', () => 'Content-Length: 99999999999999\r\n\r\n{"jsonrpc":"2.0"'],
  ['no Content-Length at all', (body) => `Content-Type: application/json\r\n\r\n${body}`],
];

for (const [name, frame] of BROKEN_FRAMES) {
  test(`a broken frame (${name}) is logged and the daemon exits non-zero`, async (t) => {
    const daemon = await startDaemon(t);
    const exited = new Promise<number | null>((resolve) => daemon.child.once('exit', (code) => resolve(code)));
    const body = JSON.stringify({ jsonrpc: '2.0', id: 9001, method: 'gptLoad/generateSecret', params: {} });
    daemon.child.stdin.write(frame(body));
    const code = await exited;
    assert.notEqual(code, 0);
    assert.notEqual(code, null, 'exited by itself, not killed');
    assert.match(daemon.stderr(), /broken frame on stdin \(.+\).*exiting so the client restarts the daemon/);
  });
}

test('window/workDoneProgress/cancel stops a migration on a daemon-created progress while the client declares workDoneProgress', async (t) => {
  const OLD = 'Old-cancel-edge-key-7Hq2-xP9w-ZZ41';
  const NEW = 'New-cancel-edge-Kv-3Lm8-vQ0e-KK73';
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 40_000, encryptionKey: OLD, env: true });
  assert.ok(db);
  const daemon = await startDaemon(t);
  assert.equal(DEFAULT_CAPABILITIES.window.workDoneProgress, true);
  const envFile = join(db.envDir, '.env');
  const created = new Set<string | number>();
  let cancelled = false;
  daemon.rpc.onRequest('window/workDoneProgress/create', (p: { token: string | number }) => {
    created.add(p.token);
    return null;
  });
  daemon.rpc.onNotification('$/progress', (p: { token: string | number; value: { kind: string } }) => {
    if (!cancelled && created.has(p.token) && p.value.kind === 'report') {
      cancelled = true;
      void daemon.rpc.sendNotification('window/workDoneProgress/cancel', { token: p.token });
    }
  });
  // No workDoneToken: the daemon creates the progress, as for editors that show server-side progress.
  await assert.rejects(daemon.rpc.sendRequest(MigrateRequest.type, { deployment: { envFile }, toKey: NEW, updateEnv: true }), (err: { code: number; data: ErrorData }) => {
    assert.equal(err.code, KeystoreErrorCodes.cancelled);
    assert.equal(err.data.code, 'cancelled');
    return true;
  });
  assert.ok(cancelled, 'the cancel went out on the daemon-created token');
  const status = await daemon.rpc.sendRequest(StatusRequest.type, { deployment: { envFile } });
  assert.equal(status.keyFingerprint, codecFor(OLD).fingerprint, 'still the old key');
  assert.equal(status.apiKeys.encrypted, 40_000);
});
