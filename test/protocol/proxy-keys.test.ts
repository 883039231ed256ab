/**
 * The proxy-key, service-check and status-summary requests over JSON-RPC: list and remove with the
 * result shapes the client expects, a fake GPT-Load answering /health on the .env's PORT read as
 * running (and a closed port as stopped), other database sessions counted without the daemon's
 * own, and the dashboard verdict with row counts without classifying rows. No proxy key reaches
 * the daemon's log.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { CodeAction, Diagnostic } from 'vscode-languageserver-protocol';
import { codecFor } from '../../server/core/crypto';
import { CommandIds } from '../../shared/commands';
import { maskSecret } from '../../server/core/secrets';
import {
  DaemonDiagnosticCodes,
  KeysRequest,
  KeystoreErrorCodes,
  ListProxyKeysRequest,
  RemoveProxyKeyRequest,
  ServiceCheckRequest,
  StatusRequest,
  StatusSummaryRequest,
  type ErrorData,
} from '../../shared/protocol';
import { createGptLoadDatabase, SERVER_ENGINES, type GptLoadDatabase } from '../support/databases';
import { closedPort, startFakeGptLoad } from '../support/gptload';
import { fileUri, startDaemon } from './daemon';

const KEY = 'Proxy-protocol-enc-key-8Jd3-Kq5w-Zx71';
const OLD = 'Old-Ag7Rt5Yu9Io1Pa3Sd5Fg7Hj9Lz2Xc4V';
const SHORT = 'Kp1-short9';
const SHARED = 'Grp-Mn4Bv6Cx8Zl0Kj2Hg4Fd6Sa8Qw0Er2T';

async function setLists(db: GptLoadDatabase, global: string, groups: Record<number, string>): Promise<void> {
  const store = await db.open();
  try {
    await store.execute(`UPDATE system_settings SET setting_value = ${store.p(1)} WHERE setting_key = 'proxy_keys'`, [global]);
    await store.execute(`UPDATE ${store.q('groups')} SET proxy_keys = ''`);
    for (const [id, list] of Object.entries(groups)) await store.execute(`UPDATE ${store.q('groups')} SET proxy_keys = ${store.p(1)} WHERE id = ${store.p(2)}`, [list, Number(id)]);
  } finally {
    await store.close();
  }
}

async function storedLists(db: GptLoadDatabase): Promise<string[]> {
  const store = await db.open();
  try {
    const [setting] = await store.query(`SELECT setting_value FROM system_settings WHERE setting_key = 'proxy_keys'`);
    const groups = await store.query(`SELECT proxy_keys FROM ${store.q('groups')} ORDER BY id`);
    return [String(setting.setting_value), ...groups.map((g) => String(g.proxy_keys ?? ''))];
  } finally {
    await store.close();
  }
}

test('proxyKeys/list and proxyKeys/remove: shapes the client expects, trimmed match, running GPT-Load reported, nothing logged', async (t) => {
  const gptLoad = await startFakeGptLoad(t);
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 10, encryptionKey: KEY, authKey: OLD, env: { PORT: String(gptLoad.port) } });
  assert.ok(db);
  await setLists(db, ` ${OLD} ,${SHORT}`, { 1: `${SHARED},${OLD}`, 3: SHARED });
  const daemon = await startDaemon(t, { args: ['--log-level', 'trace'] });
  const deployment = { envFile: join(db.envDir, '.env') };

  const listed = await daemon.rpc.sendRequest(ListProxyKeysRequest.type, { deployment });
  assert.deepEqual(listed, {
    keys: [
      { masked: maskSecret(OLD), system: true, groups: ['openai'], strength: { length: 35, risk: null, message: null }, isAuthKey: true, reused: true },
      {
        masked: maskSecret(SHORT),
        system: true,
        groups: [],
        strength: { length: 10, risk: 'high', message: 'Proxy key is too short (10 characters), recommend at least 16 characters' },
        isAuthKey: false,
        reused: false,
      },
      { masked: maskSecret(SHARED), system: false, groups: ['openai', 'claude'], strength: { length: 35, risk: null, message: null }, isAuthKey: false, reused: true },
    ],
  });

  // As the client sends it: the old AUTH_KEY read from the .env, padding included.
  const removed = await daemon.rpc.sendRequest(RemoveProxyKeyRequest.type, { deployment, value: `  ${OLD}\n` });
  const { notes, ...rest } = removed;
  assert.deepEqual(rest, { system: true, groups: ['openai'], restartRequired: true, running: true, restartCommand: null, globalEmptied: false });
  assert.equal(notes.length, 1);
  assert.match(notes[0], new RegExp(`^GPT-Load looks running \\(GPT-Load answers at http://127\\.0\\.0\\.1:${gptLoad.port}/health \\(HTTP 200\\)\\) and keeps accepting the removed key until it restarts`));
  assert.deepEqual(await storedLists(db), [SHORT, SHARED, '', SHARED, '', '']);

  assert.deepEqual(await daemon.rpc.sendRequest(RemoveProxyKeyRequest.type, { deployment, value: OLD }), {
    system: false,
    groups: [],
    restartRequired: false,
    running: true,
    restartCommand: null,
    globalEmptied: false,
    notes: [],
  });
  const after = await daemon.rpc.sendRequest(ListProxyKeysRequest.type, { deployment });
  assert.deepEqual(after.keys.map((k) => k.masked), [maskSecret(SHORT), maskSecret(SHARED)]);

  for (const params of [{ deployment, value: `${OLD},${SHARED}` }, { deployment, value: ' ' }, { deployment }]) {
    await assert.rejects(daemon.rpc.sendRequest(RemoveProxyKeyRequest.type, params as never), (err: { code: number; data: ErrorData; message: string }) => {
      assert.equal(err.code, KeystoreErrorCodes.usage);
      assert.equal(err.data.code, 'usage');
      assert.ok(!err.message.includes(OLD));
      return true;
    });
  }
  assert.deepEqual(await storedLists(db), [SHORT, SHARED, '', SHARED, '', '']);

  await daemon.stop();
  for (const secret of [OLD, SHARED]) assert.ok(!daemon.stderr().includes(secret), 'a proxy key in the daemon log');
});

test("the .env's proxy-key diagnostics follow the lists as GPT-Load numbers them, and a removal refreshes them", async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 5, authKey: OLD, env: { PORT: String(await closedPort()) } });
  assert.ok(db);
  await setLists(db, ` ${OLD} ,,${SHORT}`, { 1: `${SHARED},${OLD}`, 3: SHARED });
  const daemon = await startDaemon(t);
  const envFile = join(db.envDir, '.env');
  const uri = fileUri(envFile);
  const authReuse = (d: Diagnostic) => d.code === DaemonDiagnosticCodes.reusedProxyKey && String(d.message).startsWith('AUTH_KEY is also stored');
  const weak = (d: Diagnostic) => d.code === DaemonDiagnosticCodes.weakProxyKey;

  const first = daemon.diagnostics(uri, (d) => d.some(authReuse));
  daemon.open(uri, readFileSync(envFile, 'utf8'));
  const before = await first;
  assert.match(String(before.find(authReuse)!.message), /^AUTH_KEY is also stored as a proxy key \(Global proxy key #1, Group proxy key \[openai\] #2;/);
  const messages = before.map((d) => String(d.message));
  assert.ok(messages.some((m) => m.startsWith(`GPT-Load dashboard — Global proxy key #3 (${maskSecret(SHORT)}): Proxy key is too short`)), messages.join('\n'));
  assert.ok(messages.some((m) => m.startsWith(`The proxy key ${maskSecret(SHARED)} is reused in 2 places (Group proxy key [openai] #1, Group proxy key [claude] #1)`)));
  // The AUTH_KEY finding has a fix (proxy-keys remove): offered as a quick fix running the client's command on this .env.
  const reuse = before.find(authReuse)!;
  const actions = (await daemon.rpc.sendRequest('textDocument/codeAction', { textDocument: { uri }, range: reuse.range, context: { diagnostics: [reuse] } })) as CodeAction[];
  const fix = actions.find((a) => a.command?.command === CommandIds.removeAuthKeyFromProxyKeys);
  assert.ok(fix, `no proxy-key quick fix among: ${actions.map((a) => a.title).join(' | ')}`);
  assert.equal(fix.kind, 'quickfix');
  assert.deepEqual(fix.command?.arguments, [uri]);
  assert.match(fix.title, /Remove AUTH_KEY from GPT-Load's stored proxy keys/);
  // The other reuse finding (a shared group key) has no such fix.
  const shared = before.find((d) => d.code === DaemonDiagnosticCodes.reusedProxyKey && !authReuse(d))!;
  const sharedActions = (await daemon.rpc.sendRequest('textDocument/codeAction', { textDocument: { uri }, range: shared.range, context: { diagnostics: [shared] } })) as CodeAction[];
  assert.ok(!sharedActions.some((a) => a.command?.command === CommandIds.removeAuthKeyFromProxyKeys));

  // The database check after the removal (the lint-only stage in between has no proxy-key findings).
  const refreshed = daemon.diagnostics(uri, (d) => d.some(weak) && !d.some(authReuse));
  await daemon.rpc.sendRequest(RemoveProxyKeyRequest.type, { deployment: { envFile }, value: OLD });
  assert.equal((await refreshed).filter(weak).length, 1, 'the short global key is still flagged');
});

test('service/check: a fake /health on the .env PORT reads as running, a closed port as stopped (SQLite)', async (t) => {
  const gptLoad = await startFakeGptLoad(t);
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 5, env: { PORT: String(gptLoad.port) } });
  assert.ok(db);
  const stoppedEnv = join(db.envDir, 'stopped.env');
  writeFileSync(stoppedEnv, `AUTH_KEY=x\nHOST=0.0.0.0\nPORT=${await closedPort()}\n`);
  const daemon = await startDaemon(t);

  const running = await daemon.rpc.sendRequest(ServiceCheckRequest.type, { deployment: { envFile: join(db.envDir, '.env') } });
  assert.deepEqual(running, {
    running: true,
    url: `http://127.0.0.1:${gptLoad.port}/health`,
    otherSessions: null,
    answered: true,
    message: `GPT-Load answers at http://127.0.0.1:${gptLoad.port}/health (HTTP 200)`,
  });
  assert.deepEqual(gptLoad.hits, ['/health']);

  const stopped = await daemon.rpc.sendRequest(ServiceCheckRequest.type, { deployment: { envFile: stoppedEnv } });
  assert.equal(stopped.running, false);
  assert.equal(stopped.answered, false);
  assert.equal(stopped.message, null);
  assert.equal(stopped.otherSessions, null);
  assert.match(stopped.url, /^http:\/\/127\.0\.0\.1:\d+\/health$/);

  await gptLoad.close();
  const gone = await daemon.rpc.sendRequest(ServiceCheckRequest.type, { deployment: { envFile: join(db.envDir, '.env') } });
  assert.equal(gone.running, false);
});

for (const engine of SERVER_ENGINES) {
  test(`service/check on ${engine}: other sessions count, the daemon's own pooled connection does not`, async (t) => {
    const db = await createGptLoadDatabase(t, engine, { keys: 5, env: { PORT: String(await closedPort()) } });
    if (!db) return;
    const daemon = await startDaemon(t);
    const deployment = { envFile: join(db.envDir, '.env') };
    await daemon.rpc.sendRequest(KeysRequest.type, { deployment, limit: 5 });

    const alone = await daemon.rpc.sendRequest(ServiceCheckRequest.type, { deployment });
    assert.deepEqual({ running: alone.running, otherSessions: alone.otherSessions, answered: alone.answered }, { running: false, otherSessions: 0, answered: false });

    const other = await db.open();
    await other.query('SELECT 1');
    const busy = await daemon.rpc.sendRequest(ServiceCheckRequest.type, { deployment });
    assert.equal(busy.running, true);
    assert.ok(busy.otherSessions! >= 1);
    assert.match(busy.message!, /other session\(s\) are connected to the database/);
  });
}

test('status/summary: the dashboard verdict and row counts, the same verdict as gptLoad/status (SQLite)', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 40, logs: 15, encryptionKey: KEY, env: true });
  assert.ok(db);
  const daemon = await startDaemon(t);
  const deployment = { envFile: join(db.envDir, '.env') };

  const summary = await daemon.rpc.sendRequest(StatusSummaryRequest.type, { deployment });
  const status = await daemon.rpc.sendRequest(StatusRequest.type, { deployment });
  assert.deepEqual(summary, {
    target: status.target,
    engine: 'sqlite',
    encryptionEnabled: true,
    keyFingerprint: codecFor(KEY).fingerprint,
    dashboard: status.dashboard,
    apiKeys: 40,
    requestLogs: 15,
  });
  assert.deepEqual(summary.dashboard, { verdict: null, sampled: 20, plaintextShare: 0, decryptShare: 1 });
  assert.equal((await daemon.rpc.sendRequest(StatusSummaryRequest.type, { deployment, skipLogs: true })).requestLogs, null);

  // The same database read by a .env without the key: GPT-Load's dashboard says "key not configured".
  const keyless = join(db.envDir, 'keyless.env');
  writeFileSync(keyless, 'AUTH_KEY=x\nENCRYPTION_KEY=\n');
  const missing = await daemon.rpc.sendRequest(StatusSummaryRequest.type, { deployment: { envFile: keyless } });
  assert.equal(missing.dashboard.verdict, 'key_not_configured');
  assert.equal(missing.encryptionEnabled, false);
  assert.equal(missing.apiKeys, 40);
});
