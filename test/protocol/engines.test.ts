/**
 * One round-trip per server engine through the daemon: the database check behind an open .env,
 * status, a key page, a find by value and a reveal, on MySQL/MariaDB and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { DaemonDiagnosticCodes, KeysRequest, RevealKeyRequest, StatusRequest } from '../../shared/protocol';
import { createGptLoadDatabase, SERVER_ENGINES } from '../support/databases';
import { fileUri, startDaemon } from './daemon';

const KEY = 'engine-round-trip-key-5Rt8-Pq2z-0aB';

for (const engine of SERVER_ENGINES) {
  test(`round-trip on ${engine}: database diagnostics, status, keys, find, reveal`, async (t) => {
    const db = await createGptLoadDatabase(t, engine, { keys: 80, logs: 20, encryptionKey: KEY, env: true });
    if (!db) return;
    const daemon = await startDaemon(t);
    const envFile = join(db.envDir, '.env');
    const deployment = { envFile };

    const uri = fileUri(envFile);
    // An empty ENCRYPTION_KEY over encrypted data: the check must say the key is missing.
    const missing = daemon.diagnostics(uri, (d) => d.some((x) => x.code === DaemonDiagnosticCodes.keyNotConfigured));
    daemon.open(uri, `AUTH_KEY=engine-auth-key-Zq81-Lp02-Xc55\nENCRYPTION_KEY=\nDATABASE_DSN=${db.dsn}\n`);
    const diagnostics = await missing;
    const finding = diagnostics.find((d) => d.code === DaemonDiagnosticCodes.keyNotConfigured)!;
    assert.match(String(finding.message), /^80 of 80 stored keys are encrypted/);

    const status = await daemon.rpc.sendRequest(StatusRequest.type, { deployment });
    assert.equal(status.engine, engine);
    assert.equal(status.state, 'ok');
    assert.equal(status.apiKeys.encrypted, 80);
    // The daemon reads no shell environment: its key is the .env's, and the report says so.
    assert.deepEqual(status.keySource, { from: 'env-file', hiddenEnvFileKey: null, container: null });

    const page = await daemon.rpc.sendRequest(KeysRequest.type, { deployment, limit: 30 });
    assert.equal(page.items.length, 30);
    const rest = await daemon.rpc.sendRequest(KeysRequest.type, { deployment, limit: 100, afterId: page.nextAfterId! });
    assert.equal(rest.items.length, 50);
    assert.equal(rest.nextAfterId, null);

    const [id, plaintext] = [...db.plaintexts][11];
    const found = await daemon.rpc.sendRequest(KeysRequest.type, { deployment, value: plaintext });
    assert.deepEqual(found.items.map((k) => k.id), [id]);
    assert.equal((await daemon.rpc.sendRequest(RevealKeyRequest.type, { deployment, id })).key, plaintext);
  });
}
