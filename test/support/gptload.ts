/**
 * GPT-Load as tests meet it: a stand-in for the running service (an HTTP server answering
 * `GET /health` as GPT-Load does, on a free port, closed after the test; `closedPort()` for a .env
 * whose GPT-Load is stopped — tests must never depend on what listens on 3001), its crypto vectors,
 * and its read rules applied to every row of a database (`assertGptLoadReads`).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { codecFor } from '../../server/core/crypto';
import type { Store } from '../../server/store/connect';
import { fixturePath } from './paths';

export interface FakeGptLoad {
  port: number;
  /** Requests seen, by path. */
  hits: string[];
  close(): Promise<void>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startFakeGptLoad(t: TestContext): Promise<FakeGptLoad> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'healthy', timestamp: new Date().toISOString(), uptime: '1m0s' }));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  const port = await listen(server);
  let closed = false;
  const close = () =>
    closed
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          closed = true;
          server.closeAllConnections();
          server.close(() => resolve());
        });
  t.after(close);
  return { port, hits, close };
}

/** A port that was free a moment ago and is closed now. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// ---------------------------------------------------------------------------------------------
// The database as GPT-Load reads it

/** GPT-Load's own tables (test/fixtures/gpt-load/ddl): nothing else may exist after any run of ours. */
export const GPT_LOAD_TABLES = ['api_keys', 'group_hourly_stats', 'group_sub_groups', 'groups', 'request_logs', 'system_settings'];

export async function tableNames(store: Store): Promise<string[]> {
  const sql =
    store.kind === 'sqlite'
      ? `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
      : store.kind === 'mysql'
        ? 'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE()'
        : `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'`;
  return (await store.query<{ name: string }>(sql)).map((r) => String(r.name)).sort();
}

export interface KeyRowDump {
  id: string;
  key_value: string;
  key_hash: string;
}

export async function keyRows(store: Store, table: 'api_keys' | 'request_logs'): Promise<KeyRowDump[]> {
  const rows = await store.query<{ id: unknown; key_value: string | null; key_hash: string | null }>(`SELECT id, key_value, key_hash FROM ${table} ORDER BY id`);
  return rows.map((r) => ({ id: String(r.id), key_value: r.key_value ?? '', key_hash: r.key_hash ?? '' }));
}

/** Every row of every GPT-Load table plus the table list: equal dumps mean nothing changed. */
export async function dumpDatabase(store: Store): Promise<string> {
  const out: Record<string, unknown> = { tables: await tableNames(store) };
  for (const table of GPT_LOAD_TABLES) {
    const rows = await store.query(`SELECT * FROM ${store.q(table)} ORDER BY id`);
    out[table] = rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v])));
  }
  return JSON.stringify(out);
}

/**
 * GPT-Load's read rules, row by row: with a key, key_value is lowercase hex nonce ‖ ciphertext ‖ tag
 * that the (vectors-checked) codec decrypts, key_hash = HMAC(derived key, plaintext); without one,
 * key_value is the plaintext, key_hash = SHA-256. `plaintexts` (api_keys id → key) must match.
 * Returns the number of rows checked per table.
 */
export async function assertGptLoadReads(
  store: Store,
  encryptionKey: string,
  options: { plaintexts?: Map<number, string>; logs?: boolean } = {},
): Promise<{ api_keys: number; request_logs: number }> {
  const codec = codecFor(encryptionKey);
  const checked = { api_keys: 0, request_logs: 0 };
  for (const table of options.logs === false ? (['api_keys'] as const) : (['api_keys', 'request_logs'] as const)) {
    for (const row of await keyRows(store, table)) {
      if (table === 'request_logs' && row.key_value === '' && row.key_hash === '') continue;
      if (encryptionKey !== '') assert.match(row.key_value, /^[0-9a-f]{56,}$/, `${table} ${row.id}: GPT-Load's stored layout`);
      let plain: string;
      try {
        plain = codec.decrypt(row.key_value, row.id);
      } catch {
        assert.fail(`${table} row ${row.id}: failed-to-decrypt with the expected key`);
      }
      assert.equal(row.key_hash, codec.hash(plain), `${table} row ${row.id}: key_hash`);
      const expected = table === 'api_keys' ? options.plaintexts?.get(Number(row.id)) : undefined;
      if (expected !== undefined) assert.equal(plain, expected, `${table} row ${row.id}: plaintext`);
      checked[table]++;
    }
  }
  return checked;
}

export interface CryptoVector {
  password: string;
  plaintext: string;
  derived_key_hex: string;
  ciphertext: string;
  hash: string;
}

/** test/fixtures/gpt-load/vectors/gpt-load-crypto.jsonl: what GPT-Load's own encryption package produced. */
export function gptLoadVectors(): CryptoVector[] {
  return readFileSync(fixturePath('vectors', 'gpt-load-crypto.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as CryptoVector);
}
