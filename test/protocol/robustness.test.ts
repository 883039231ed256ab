/**
 * The daemon never crashes or hangs on bad input: thousands of random and truncated `.env` and
 * compose documents, malformed requests, unknown methods, broken frames, and a database that
 * disappears between two pages. Each gets an answer (diagnostics or an error) and the daemon keeps
 * serving.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { GenerateSecretRequest, KeysRequest, KeystoreErrorCodes, StatusRequest, type ErrorData } from '../../shared/protocol';
import { createGptLoadDatabase, SERVER_ENGINES } from '../support/databases';
import { fileUri, startDaemon, type Daemon } from './daemon';

/** mulberry32: reproducible documents, so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  'AUTH_KEY', 'ENCRYPTION_KEY', 'DATABASE_DSN', 'A', 'B_2', 'export ', '=', '=', ':', ' ', '\t', '\n', '\n', '\r\n', '\r',
  '"', "'", '`', '\\', '$', '${', '}', '$A', '#', ' #', 'sk-', '123456', '\uFEFF', 'é', '密钥', '\u00a0', '\u0085', '-', '.',
  '@tcp(', 'postgres://u:p@h/db', '/tmp/x.db', 'services:\n', '  app:\n', '    environment:\n', '      AUTH_KEY: ', '      - ENCRYPTION_KEY=',
  '\0', '\uD800', '{', '[', '- ',
];

const REALISTIC = `# GPT-Load
export AUTH_KEY="sk-Ab$9Xyz # not a comment"
ENCRYPTION_KEY='k3y-with-$-and-#'
DATABASE_DSN=root:pa:ss@tcp(mysql:3306)/gpt-load?charset=utf8mb4&parseTime=True&loc=Local
REDIS_DSN=redis://redis:6379/0
MULTI="line1
line2\\n\\"quoted\\""
AUTH_KEY: \${ENCRYPTION_KEY}
`;

function randomDocument(random: () => number): string {
  const length = Math.floor(random() * 60);
  let text = '';
  for (let i = 0; i < length; i++) text += PIECES[Math.floor(random() * PIECES.length)];
  return text;
}

async function stillServing(daemon: Daemon): Promise<void> {
  const secret = await daemon.rpc.sendRequest(GenerateSecretRequest.type, {});
  assert.equal(secret.value.length, 32);
}

test('thousands of random and truncated documents: diagnostics for each final text, no crash, no rule failure', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'glk-fuzz-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const daemon = await startDaemon(t);
  const random = prng(405);
  const env = fileUri(join(dir, '.env'));
  const compose = fileUri(join(dir, 'docker-compose.yml'));
  daemon.open(env, '');
  daemon.open(compose, '', 'yaml');
  const DOCUMENTS = 3000;
  for (let i = 0; i < DOCUMENTS; i++) {
    const version = i + 2;
    const text = i % 3 === 0 ? REALISTIC.slice(0, Math.floor(random() * (REALISTIC.length + 1))) : randomDocument(random);
    const uri = i % 4 === 0 ? compose : env;
    // Each document is linted on its own: wait for its diagnostics before the next one.
    const published = daemon.diagnostics(uri, (_, v) => v === version);
    daemon.change(uri, text, version);
    const diagnostics = await published;
    if (i % 10 === 0) {
      // Hovers and fixes on the same garbage must answer too.
      const position = { line: Math.floor(random() * 5), character: Math.floor(random() * 20) };
      await daemon.rpc.sendRequest('textDocument/hover', { textDocument: { uri }, position });
      const range = { start: { line: 0, character: 0 }, end: { line: 50, character: 0 } };
      await daemon.rpc.sendRequest('textDocument/codeAction', { textDocument: { uri }, range, context: { diagnostics } });
    }
    if (i % 500 === 0) await stillServing(daemon);
  }
  // And a burst, coalesced by the debounce: the last text's diagnostics win.
  for (let v = DOCUMENTS + 2; v < DOCUMENTS + 200; v++) daemon.change(env, randomDocument(random), v);
  const final = daemon.diagnostics(env, (_, v) => v === DOCUMENTS + 200);
  daemon.change(env, 'AUTH_KEY=x\n', DOCUMENTS + 200);
  const diagnostics = await final;
  assert.ok(diagnostics.some((d) => d.code === 'secret-too-short'));
  await stillServing(daemon);
  assert.doesNotMatch(daemon.stderr(), /failed|uncaught|unhandled/i, 'no rule threw on any document');
});

test('malformed requests, unknown methods and broken frames each get an error; the daemon keeps serving', async (t) => {
  const daemon = await startDaemon(t);
  const bad: Array<[string, unknown]> = [
    ['gptLoad/keys', null],
    ['gptLoad/keys', [1, 2]],
    ['gptLoad/keys', {}],
    ['gptLoad/keys', { deployment: 5 }],
    ['gptLoad/keys', { deployment: { envFile: 7 } }],
    ['gptLoad/keys', { deployment: { envFile: '/tmp/.env' }, limit: -1 }],
    ['gptLoad/keys', { deployment: { envFile: '/tmp/.env' }, limit: 'many' }],
    ['gptLoad/keys', { deployment: { envFile: '/tmp/.env' }, status: 'deleted' }],
    ['gptLoad/revealKey', { deployment: { envFile: '/tmp/.env' }, id: 1.5 }],
    ['gptLoad/encrypt', { values: 'sk-1' }],
    ['gptLoad/encrypt', { values: [1, 2] }],
    ['gptLoad/decrypt', { values: new Array(10_001).fill('') }],
    ['gptLoad/hash', { values: ['x'], encryptionKey: 42 }],
    ['gptLoad/keyBackups', { deployment: { envFile: '/tmp/.env' }, candidates: new Array(100).fill('k') }],
    ['gptLoad/generateSecret', { length: 3 }],
    ['gptLoad/generateSecret', { length: 1e9 }],
    ['gptLoad/env/read', { envFile: 'file://host/%%' }],
    ['gptLoad/env/read', { envFile: '/tmp/\0/.env' }],
    ['gptLoad/env/write', { envFile: '/tmp/glk-never/.env', key: 'A-B', value: 'x' }],
    ['gptLoad/env/write', { envFile: '/tmp/glk-never/.env', key: 'A', value: 5 }],
    ['gptLoad/status', { deployment: { envFile: '/tmp/glk-never/.env', dsn: 'root:x@tcp(' } }],
    ['gptLoad/status', { deployment: { envFile: '/tmp/glk-never/.env', dbHost: 'h:99999', dsn: 'postgres://u@h/db' } }],
  ];
  for (const [method, params] of bad) {
    await assert.rejects(daemon.rpc.sendRequest(method, params), (err: { code: number; data?: ErrorData; message: string }) => {
      assert.equal(typeof err.code, 'number', method);
      assert.ok(err.message.length > 0);
      return true;
    }, `${method} ${JSON.stringify(params)?.slice(0, 80)}`);
  }
  await assert.rejects(daemon.rpc.sendRequest('gptLoad/noSuchMethod', {}), (err: { code: number }) => err.code === -32601);
  await assert.rejects(daemon.rpc.sendRequest('textDocument/noSuchRequest', {}), (err: { code: number }) => err.code === -32601);
  await daemon.rpc.sendNotification('gptLoad/noSuchNotification', { x: 1 });
  // LSP requests about documents the daemon never saw, or with nonsense params, answer "nothing".
  assert.deepEqual(await daemon.rpc.sendRequest('textDocument/codeAction', { textDocument: { uri: 'file:///nowhere/.env' }, range: {}, context: { diagnostics: [] } }), []);
  assert.equal(await daemon.rpc.sendRequest('textDocument/hover', { textDocument: { uri: 'file:///nowhere/.env' }, position: { line: -1, character: 0 } }), null);
  // Broken frames: bad JSON, a message that is not a request.
  for (const body of ['{"jsonrpc":"2.0","id":1,"method":', 'hello', '{"jsonrpc":"2.0","id":100}', '[]']) {
    daemon.child.stdin.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }
  await stillServing(daemon);
  assert.equal(daemon.strayStdout(), '');
});

test('a SQLite database that disappears between two pages: an error naming it, then service as usual', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 60, encryptionKey: 'k-disappearing-db-key-123', env: true });
  assert.ok(db);
  const daemon = await startDaemon(t);
  const deployment = { envFile: join(db.envDir, '.env') };
  const page = await daemon.rpc.sendRequest(KeysRequest.type, { deployment, limit: 20 });
  assert.equal(page.items.length, 20);
  rmSync(join(db.envDir, 'data'), { recursive: true, force: true });
  await assert.rejects(daemon.rpc.sendRequest(KeysRequest.type, { deployment, limit: 20, afterId: page.nextAfterId! }), (err: { code: number; data: ErrorData }) => {
    assert.equal(err.data.code, 'database-missing');
    assert.equal(err.code, KeystoreErrorCodes['database-missing']);
    return true;
  });
  await stillServing(daemon);
});

for (const engine of SERVER_ENGINES) {
  test(`a ${engine} database dropped between two pages: an error, then service as usual`, async (t) => {
    const db = await createGptLoadDatabase(t, engine, { keys: 60, encryptionKey: 'k-disappearing-db-key-123', env: true });
    if (!db) return;
    const daemon = await startDaemon(t);
    const deployment = { envFile: join(db.envDir, '.env') };
    const page = await daemon.rpc.sendRequest(KeysRequest.type, { deployment, limit: 20 });
    assert.equal(page.items.length, 20);
    await dropDatabase(engine, db.dsn);
    await assert.rejects(daemon.rpc.sendRequest(KeysRequest.type, { deployment, limit: 20, afterId: page.nextAfterId! }), (err: { code: number; data: ErrorData }) => {
      assert.equal(typeof err.data.code, 'string');
      return true;
    });
    await assert.rejects(daemon.rpc.sendRequest(StatusRequest.type, { deployment }), (err: { data: ErrorData }) => typeof err.data.code === 'string');
    await stillServing(daemon);
  });
}

/** Drops the test database from under the daemon (the helper's own cleanup then finds it gone). */
async function dropDatabase(engine: string, dsn: string): Promise<void> {
  if (engine === 'mysql') {
    const m = /^([^:@]*)(?::(.*))?@tcp\(([^:]+):(\d+)\)\/([^?]+)/.exec(dsn)!;
    const mysql = require('mysql2/promise') as typeof import('mysql2/promise');
    const admin = await mysql.createConnection({ host: m[3], port: Number(m[4]), user: m[1], password: m[2] ?? '' });
    try {
      // Our pooled session holds no lock, so the drop does not wait for it.
      await admin.query(`DROP DATABASE \`${m[5]}\``);
    } finally {
      await admin.end();
    }
    return;
  }
  const url = new URL(dsn);
  const name = url.pathname.slice(1);
  const { Client } = require('pg') as typeof import('pg');
  const admin = new Client({ host: url.hostname, port: Number(url.port), user: decodeURIComponent(url.username), password: decodeURIComponent(url.password), database: 'postgres' });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
