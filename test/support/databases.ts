/**
 * A fresh GPT-Load database per test, on any engine, dropped afterwards:
 *
 *   for (const engine of ENGINES) {
 *     test(`… on ${engine}`, async (t) => {
 *       const db = await createGptLoadDatabase(t, engine, { keys: 200, logs: 50, encryptionKey: 'k' });
 *       if (!db) return; // skipped: server not reachable (fails instead under CI)
 *       const store = await db.open();
 *       …
 *     });
 *   }
 *
 * The schema is test/fixtures/gpt-load/ddl/<engine>.sql applied verbatim; the data comes from server/store/seed.ts.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { openStore, type ConnectOptions, type Store } from '../../server/store/connect';
import { resolveDsn, type DatabaseTarget } from '../../server/store/dsn';
import { fillGptLoadData, type SeedResult, type VectorRow } from '../../server/store/seed';
import { fixturePath } from './paths';
import { mysqlServer, postgresServer, type Engine } from './services';

export { ENGINES, SERVER_ENGINES, type Engine } from './services';

export interface GptLoadDatabaseOptions {
  /** Generated api_keys rows (default 0). */
  keys?: number;
  /** Generated request_logs rows (default 0). */
  logs?: number;
  /** ENCRYPTION_KEY the data is stored under; '' (default) = plaintext, as GPT-Load without a key. */
  encryptionKey?: string;
  /** Also store the exact GPT-Load ciphertexts from the shared vectors made with this encryptionKey. */
  includeVectorRows?: boolean;
  /** false: an empty database without GPT-Load's tables (default true). */
  schema?: boolean;
  /** PRNG seed for reproducible data (default 1). */
  seed?: number;
  authKey?: string;
  /** Write `<envDir>/.env` with AUTH_KEY, ENCRYPTION_KEY and DATABASE_DSN; an object adds/overrides entries. */
  env?: boolean | Record<string, string>;
}

export interface GptLoadDatabase {
  engine: Engine;
  /** DATABASE_DSN as GPT-Load's .env would hold it ('' for SQLite: the default ./data/gpt-load.db). */
  dsn: string;
  target: DatabaseTarget;
  /** A temporary folder standing for GPT-Load's working directory (SQLite file in data/, optional .env). */
  envDir: string;
  /** api_keys.id → plaintext, for every seeded key (vector rows included). */
  plaintexts: Map<number, string>;
  /** What was seeded (groups with their active/invalid counts, authKey); null when `schema: false`. */
  seeded: SeedResult | null;
  /** Opens a store on this database; it is closed before the database is dropped. */
  open(options?: ConnectOptions): Promise<Store>;
}

function vectorRows(encryptionKey: string): VectorRow[] {
  return readFileSync(fixturePath('vectors', 'gpt-load-crypto.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { password: string; plaintext: string; ciphertext: string; hash: string })
    // GPT-Load never stores an empty key.
    .filter((v) => v.password === encryptionKey && v.plaintext !== '')
    .map(({ plaintext, ciphertext, hash }) => ({ plaintext, ciphertext, hash }));
}

/** A .env value godotenv reads back unchanged (single quotes stop `$` expansion and `#` comments). */
function envValue(value: string): string {
  if (/^[A-Za-z0-9_./:@()?&=,+%-]*$/.test(value)) return value;
  if (!value.includes("'") && !value.includes('\n')) return `'${value}'`;
  throw new Error('test .env value cannot be written safely for godotenv');
}

function uniqueName(): string {
  return `glk_test_${randomBytes(6).toString('hex')}`;
}

const ddl = (engine: Engine) => readFileSync(fixturePath('ddl', `${engine}.sql`), 'utf8');

export async function createGptLoadDatabase(
  t: TestContext,
  engine: Engine,
  options: GptLoadDatabaseOptions = {},
): Promise<GptLoadDatabase | undefined> {
  const schema = options.schema ?? true;
  const encryptionKey = options.encryptionKey ?? '';
  const cleanups: Array<() => Promise<void> | void> = [];
  const stores: Store[] = [];
  t.after(async () => {
    for (const store of stores) await store.close().catch(() => undefined);
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  let dsn: string;
  let envDir: string;
  if (engine === 'sqlite') {
    envDir = mkdtempSync(join(tmpdir(), 'glk-test-'));
    cleanups.push(() => rmSync(envDir, { recursive: true, force: true }));
    mkdirSync(join(envDir, 'data'));
    const Database = require('better-sqlite3') as typeof import('better-sqlite3');
    const db = new Database(join(envDir, 'data', 'gpt-load.db'));
    try {
      if (schema) db.exec(ddl('sqlite'));
    } finally {
      db.close();
    }
    dsn = '';
  } else if (engine === 'mysql') {
    const server = await mysqlServer(t);
    if (!server) return undefined;
    const name = uniqueName();
    const mysql = require('mysql2/promise') as typeof import('mysql2/promise');
    const connect = () =>
      mysql.createConnection({ host: server.host, port: server.port, user: server.user, password: server.password, multipleStatements: true });
    const admin = await connect();
    try {
      await admin.query(`CREATE DATABASE \`${name}\``);
      cleanups.push(async () => {
        const drop = await connect();
        try {
          await drop.query(`DROP DATABASE IF EXISTS \`${name}\``);
        } finally {
          await drop.end();
        }
      });
      if (schema) await admin.query(`USE \`${name}\`;\n${ddl('mysql')}`);
    } finally {
      await admin.end();
    }
    const credentials = server.password ? `${server.user}:${server.password}` : server.user;
    dsn = `${credentials}@tcp(${server.host}:${server.port})/${name}?charset=utf8mb4&parseTime=True&loc=Local`;
    envDir = mkdtempSync(join(tmpdir(), 'glk-test-'));
    cleanups.push(() => rmSync(envDir, { recursive: true, force: true }));
  } else {
    const server = await postgresServer(t);
    if (!server) return undefined;
    const name = uniqueName();
    const { Client } = require('pg') as typeof import('pg');
    const client = (database: string) =>
      new Client({ host: server.host, port: server.port, user: server.user, password: server.password, database });
    const admin = client(server.database);
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE "${name}"`);
    } finally {
      await admin.end();
    }
    cleanups.push(async () => {
      const drop = client(server.database);
      await drop.connect();
      try {
        await drop.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await drop.end();
      }
    });
    if (schema) {
      const fresh = client(name);
      await fresh.connect();
      try {
        await fresh.query(ddl('postgres'));
      } finally {
        await fresh.end();
      }
    }
    const credentials = encodeURIComponent(server.user) + (server.password ? `:${encodeURIComponent(server.password)}` : '');
    dsn = `postgres://${credentials}@${server.host}:${server.port}/${name}?sslmode=disable`;
    envDir = mkdtempSync(join(tmpdir(), 'glk-test-'));
    cleanups.push(() => rmSync(envDir, { recursive: true, force: true }));
  }

  const target = resolveDsn(dsn, envDir);
  const open = async (connect?: ConnectOptions) => {
    const store = await openStore(target, connect);
    stores.push(store);
    return store;
  };

  let seeded: SeedResult | null = null;
  if (schema) {
    const store = await openStore(target);
    try {
      seeded = await fillGptLoadData(store, {
        keys: options.keys ?? 0,
        logs: options.logs ?? 0,
        encryptionKey,
        seed: options.seed,
        authKey: options.authKey,
        vectorRows: options.includeVectorRows ? vectorRows(encryptionKey) : undefined,
      });
    } finally {
      await store.close();
    }
  }

  if (options.env) {
    const entries: Record<string, string> = {
      AUTH_KEY: seeded?.authKey ?? options.authKey ?? 'sk-test-auth-key-0123456789abcdef',
      ENCRYPTION_KEY: encryptionKey,
      DATABASE_DSN: dsn,
      ...(typeof options.env === 'object' ? options.env : {}),
    };
    writeFileSync(
      join(envDir, '.env'),
      Object.entries(entries)
        .map(([key, value]) => `${key}=${envValue(value)}\n`)
        .join(''),
    );
  }

  return { engine, dsn, target, envDir, plaintexts: seeded?.plaintexts ?? new Map(), seeded, open };
}
