/**
 * One typeorm DataSource per GPT-Load database, opened with a hard deadline and failures mapped to
 * KeystoreError codes (failures.ts). better-sqlite3 is required only when a SQLite target is opened, so
 * MySQL and PostgreSQL work where the native module cannot load. mysql2 and pg are handed to typeorm as
 * `driver` so the bundle carries them (typeorm's own loader uses a dynamic require esbuild cannot follow).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { DataSource, QueryResult, type DataSourceOptions, type QueryRunner } from 'typeorm';
import { KeystoreError } from '../core/errors';
import { parseGoDuration, type DatabaseKind, type DatabaseTarget } from './dsn';
import { entitiesFor, type GptLoadEntities } from './entities';
import {
  connectFailure,
  connectionTimeout,
  databaseMissing,
  isNativeLoadError,
  nativeModuleUnavailable,
  notGptLoadDatabase,
  queryFailure,
} from './failures';

/** What operations need to run SQL: on the store itself or inside one of its transactions. */
export interface SqlRunner {
  readonly kind: DatabaseKind;
  /** Max bound parameters per statement for this engine (SQLite ≤ 999 for old builds). */
  readonly maxParams: number;
  /** Quote an identifier for this engine (`groups` is reserved in MySQL 8). */
  q(name: string): string;
  /** The placeholder for the n-th (1-based) bound parameter: `?` (SQLite, MySQL) or `$n` (PostgreSQL). */
  p(n: number): string;
  /** `count` placeholders starting after `offset` already used ones, comma-separated: a row of a multi-row INSERT. */
  params(count: number, offset?: number): string;
  /** Rows of a SELECT, as the driver returns them (see rows.ts for normalised reads). */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** INSERT / UPDATE / DELETE / DDL; resolves to the number of rows changed. */
  execute(sql: string, params?: readonly unknown[]): Promise<number>;
  /**
   * As execute, for large batches of values: MySQL sends them through a prepared statement (binary
   * protocol, so the server neither parses nor unescapes them), elsewhere this is execute.
   */
  executeBatch(sql: string, params: readonly unknown[]): Promise<number>;
}

export interface Store extends SqlRunner {
  readonly target: DatabaseTarget;
  readonly dataSource: DataSource;
  readonly entities: GptLoadEntities;
  readonly readonly: boolean;
  /**
   * Runs `fn` in one transaction on one connection (SQLite: BEGIN IMMEDIATE, so the busy timeout applies
   * to taking the write lock). Use only `tx` inside `fn`: calling the store itself there throws.
   */
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` with one connection of its own (SQLite: the store's only one), so that temporary tables
   * created on it live until `fn` ends; its `transaction` runs on that connection.
   */
  session<T>(fn: (session: Session) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Statements and transactions on one connection (Store.session). */
export interface Session extends SqlRunner {
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
}

export interface ConnectOptions {
  /** Hard deadline for connecting, ms. Default: the MySQL DSN's `timeout`, else 5000. */
  timeoutMs?: number;
  /** SQLite: open read-only. MySQL / PostgreSQL: every session is READ ONLY. */
  readonly?: boolean;
  /** SQLite busy timeout, ms (default 5000, GPT-Load's own). */
  busyTimeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_BUSY_TIMEOUT_MS = 5000;
const MAX_PARAMS: Record<DatabaseKind, number> = {
  sqlite: 999,
  // mysql2 interpolates client-side; the bound is max_allowed_packet (4 MiB on old servers), not a count.
  mysql: 10_000,
  // The wire protocol counts parameters in 16 bits.
  postgres: 30_000,
};

// ---------------------------------------------------------------------------------------------

let sqliteDriver: unknown;

/**
 * better-sqlite3, loaded and its native addon exercised once; `load` is injectable for tests.
 * Throws KeystoreError('native-module-unavailable').
 */
export function loadBetterSqlite3(load?: () => unknown): unknown {
  if (load === undefined && sqliteDriver !== undefined) return sqliteDriver;
  try {
    const Database = (load ?? (() => require('better-sqlite3') as unknown))() as new (path: string) => { close(): void };
    // The addon itself loads on first construction; an ABI mismatch surfaces here, not at require.
    new Database(':memory:').close();
    if (load === undefined) sqliteDriver = Database;
    return Database;
  } catch (err) {
    throw nativeModuleUnavailable(err);
  }
}

class SqliteLock {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

const insideTransaction = new AsyncLocalStorage<StoreImpl>();

function quoteFor(kind: DatabaseKind): (name: string) => string {
  return kind === 'postgres' ? (name) => `"${name.replace(/"/g, '""')}"` : (name) => `\`${name.replace(/`/g, '``')}\``;
}

type Run = (sql: string, params: readonly unknown[]) => Promise<QueryResult>;

class Runner implements SqlRunner {
  readonly maxParams: number;
  readonly q: (name: string) => string;
  constructor(
    readonly kind: DatabaseKind,
    private readonly run: Run,
    private readonly runPrepared: Run = run,
  ) {
    this.maxParams = MAX_PARAMS[kind];
    this.q = quoteFor(kind);
  }
  p(n: number): string {
    return this.kind === 'postgres' ? `$${n}` : '?';
  }
  params(count: number, offset = 0): string {
    return Array.from({ length: count }, (_, i) => this.p(offset + i + 1)).join(', ');
  }
  async query<T = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    const result = await this.run(sql, params);
    return (result.records ?? []) as T[];
  }
  async execute(sql: string, params: readonly unknown[] = []): Promise<number> {
    const result = await this.run(sql, params);
    return result.affected ?? 0;
  }
  async executeBatch(sql: string, params: readonly unknown[]): Promise<number> {
    const result = await this.runPrepared(sql, params);
    return result.affected ?? 0;
  }
}

type MysqlConnection = { execute(sql: string, params: unknown[], done: (err: Error | null, result: { affectedRows?: number }) => void): void };

class StoreImpl extends Runner implements Store {
  private closed = false;
  private readonly lock: SqliteLock | undefined;

  constructor(
    readonly target: DatabaseTarget,
    readonly dataSource: DataSource,
    readonly entities: GptLoadEntities,
    readonly readonly: boolean,
    private readonly limits: { busyTimeoutMs: number; timeoutMs: number },
    /** Session identity used by countOtherSessions to skip our own pool's connections. */
    readonly sessions: { mysqlThreadIds: Set<number>; applicationName: string },
  ) {
    super(target.kind, (sql, params) => this.runOutside(sql, params));
    // better-sqlite3 gives typeorm one connection for everything: statements and transactions must take turns.
    this.lock = target.kind === 'sqlite' ? new SqliteLock() : undefined;
  }

  private fail(err: unknown, boundValues = false): KeystoreError {
    return queryFailure(err, this.target, this.limits, boundValues);
  }

  private async runOn(runner: QueryRunner, sql: string, params: readonly unknown[]): Promise<QueryResult> {
    try {
      return await runner.query(sql, params as unknown[], true);
    } catch (err) {
      throw this.fail(err, params.length > 0);
    }
  }

  /** MySQL: through mysql2's prepared statements on the runner's connection (cached per statement text). */
  private async runPreparedOn(runner: QueryRunner, sql: string, params: readonly unknown[]): Promise<QueryResult> {
    if (this.kind !== 'mysql') return this.runOn(runner, sql, params);
    try {
      const connection = (await runner.connect()) as MysqlConnection;
      const affected = await new Promise<number>((resolve, reject) =>
        connection.execute(sql, params as unknown[], (err, result) => (err ? reject(err) : resolve(result?.affectedRows ?? 0))),
      );
      return Object.assign(new QueryResult(), { affected });
    } catch (err) {
      throw this.fail(err, params.length > 0);
    }
  }

  private async runOutside(sql: string, params: readonly unknown[]): Promise<QueryResult> {
    if (insideTransaction.getStore() === this) {
      throw new KeystoreError('internal', {
        en: 'store used directly inside its own transaction; use the transaction runner',
        zh: '在事务内部直接使用了 store；请使用事务的执行器',
      });
    }
    const once = async () => {
      const runner = this.dataSource.createQueryRunner();
      try {
        return await this.runOn(runner, sql, params);
      } finally {
        await runner.release();
      }
    };
    return this.lock ? this.lock.run(once) : once();
  }

  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T> {
    const work = async () => {
      const runner = this.dataSource.createQueryRunner();
      try {
        return await this.transactionOn(runner, fn);
      } finally {
        await runner.release();
      }
    };
    return this.lock ? this.lock.run(work) : work();
  }

  private async transactionOn<T>(runner: QueryRunner, fn: (tx: SqlRunner) => Promise<T>): Promise<T> {
    const tx = new Runner(this.kind, (sql, params) => this.runOn(runner, sql, params), (sql, params) => this.runPreparedOn(runner, sql, params));
    if (this.kind === 'sqlite') await this.runOn(runner, this.readonly ? 'BEGIN' : 'BEGIN IMMEDIATE', []);
    else await runner.startTransaction().catch((err) => Promise.reject(this.fail(err)));
    let result: T;
    try {
      result = await insideTransaction.run(this, () => fn(tx));
    } catch (err) {
      await (this.kind === 'sqlite' ? runner.query('ROLLBACK') : runner.rollbackTransaction()).catch(() => undefined);
      throw err;
    }
    try {
      if (this.kind === 'sqlite') await runner.query('COMMIT');
      else await runner.commitTransaction();
    } catch (err) {
      await (this.kind === 'sqlite' ? runner.query('ROLLBACK') : runner.rollbackTransaction()).catch(() => undefined);
      throw this.fail(err);
    }
    return result;
  }

  async session<T>(fn: (session: Session) => Promise<T>): Promise<T> {
    // better-sqlite3: one connection already; its statements and transactions take turns on the lock.
    if (this.lock) return fn(this);
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.connect().catch((err) => Promise.reject(this.fail(err)));
      const run: Run = (sql, params) => this.runOn(runner, sql, params);
      const session = Object.assign(new Runner(this.kind, run, (sql, params) => this.runPreparedOn(runner, sql, params)), {
        transaction: <R>(work: (tx: SqlRunner) => Promise<R>) => this.transactionOn(runner, work),
      });
      return await fn(session);
    } finally {
      await runner.release();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const close = () => (this.dataSource.isInitialized ? this.dataSource.destroy() : Promise.resolve());
    await (this.lock ? this.lock.run(close) : close());
  }
}

// ---------------------------------------------------------------------------------------------

export async function openStore(target: DatabaseTarget, options: ConnectOptions = {}): Promise<Store> {
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  const dsnTimeout = target.kind === 'mysql' && target.params.timeout ? parseGoDuration(target.params.timeout) : null;
  const timeoutMs = options.timeoutMs ?? (dsnTimeout && dsnTimeout > 0 ? dsnTimeout : DEFAULT_TIMEOUT_MS);
  const readonly = options.readonly ?? false;
  const limits = { busyTimeoutMs, timeoutMs };
  const sessions = { mysqlThreadIds: new Set<number>(), applicationName: `gpt-load-keystore-${randomBytes(6).toString('hex')}` };
  const entities = entitiesFor(target.kind);

  if (target.kind === 'sqlite') {
    // Never let the driver create a file (or typeorm a folder) where GPT-Load's database should be.
    let isFile: boolean;
    try {
      isFile = statSync(target.path).isFile();
    } catch {
      isFile = false;
    }
    if (!isFile) throw databaseMissing(target);
    const driver = loadBetterSqlite3();
    const dataSource = new DataSource({
      type: 'better-sqlite3',
      driver,
      database: target.path,
      readonly,
      fileMustExist: true,
      timeout: busyTimeoutMs,
      entities: Object.values(entities),
      synchronize: false,
      migrationsRun: false,
      logging: false,
    });
    try {
      await dataSource.initialize();
    } catch (err) {
      if (isNativeLoadError(err)) throw nativeModuleUnavailable(err);
      throw queryFailure(err, target, limits);
    }
    const store = new StoreImpl(target, dataSource, entities, readonly, limits, sessions);
    try {
      await ensureGptLoadSchema(store);
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  const attempts = target.kind === 'mysql' ? mysqlAttempts(target, readonly, timeoutMs, sessions) : postgresAttempts(target, readonly, timeoutMs, sessions);
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (const attempt of attempts) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    const dataSource = new DataSource({ ...attempt.options, entities: Object.values(entities), synchronize: false, migrationsRun: false, logging: false } as DataSourceOptions);
    const store = new StoreImpl(target, dataSource, entities, readonly, limits, sessions);
    const discard = () => (dataSource.isInitialized ? dataSource.destroy() : Promise.resolve());
    const opening = (async () => {
      await dataSource.initialize();
      await ensureGptLoadSchema(store);
      return store;
    })();
    try {
      return await withDeadline(opening, remaining, () => connectionTimeout(target, timeoutMs), discard);
    } catch (err) {
      await discard().catch(() => undefined);
      lastError = err;
      if (!attempt.retryWithNextIf?.(err)) break;
    }
  }
  throw connectFailure(lastError ?? connectionTimeout(target, timeoutMs), target, timeoutMs);
}

/**
 * Resolves with `work` unless `ms` pass first; then rejects with `onTimeout()` and, should `work` still
 * succeed later, undoes it with `cleanup` so no pool outlives the failed open.
 */
function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => Error, cleanup: () => Promise<void>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(onTimeout());
    }, ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        if (late) void cleanup().catch(() => undefined);
        else resolve(value);
      },
      (err) => {
        clearTimeout(timer);
        if (!late) reject(err);
      },
    );
  });
}

/** Whether a table of this name exists in the database (the schemas on the search path, on PostgreSQL). */
export async function tableExists(runner: SqlRunner, name: string): Promise<boolean> {
  const sql =
    runner.kind === 'sqlite'
      ? `SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ${runner.p(1)}`
      : runner.kind === 'mysql'
        ? `SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ${runner.p(1)}`
        : `SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = ANY (current_schemas(false)) AND table_name = ${runner.p(1)}`;
  const [row] = await runner.query<{ n: number | string }>(sql, [name]);
  return Number(row?.n ?? 0) > 0;
}

async function ensureGptLoadSchema(store: StoreImpl): Promise<void> {
  if (!(await tableExists(store, 'api_keys'))) throw notGptLoadDatabase(store.target);
}

// ---------------------------------------------------------------------------------------------

interface Attempt {
  options: Record<string, unknown>;
  /** Whether a failure of this attempt means "try the next one" (TLS fallback), not "give up". */
  retryWithNextIf?: (err: unknown) => boolean;
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.message} ${(err as { code?: string }).code ?? ''}` : String(err);
}

/** mysql2 with our pool's connections recorded (and made read-only when asked) as they open. */
function trackedMysql2(threadIds: Set<number>, readonly: boolean): unknown {
  const mysql2 = require('mysql2') as typeof import('mysql2');
  return Object.assign(Object.create(mysql2), {
    createPool(config: import('mysql2').PoolOptions) {
      const pool = mysql2.createPool(config);
      pool.on('connection', (connection) => {
        threadIds.add(connection.threadId);
        if (readonly) connection.query('SET SESSION TRANSACTION READ ONLY');
      });
      return pool;
    },
  });
}

function mysqlAttempts(
  target: Extract<DatabaseTarget, { kind: 'mysql' }>,
  readonly: boolean,
  timeoutMs: number,
  sessions: { mysqlThreadIds: Set<number> },
): Attempt[] {
  const base = {
    type: 'mysql',
    driver: trackedMysql2(sessions.mysqlThreadIds, readonly),
    host: target.host,
    port: target.port,
    username: target.user,
    password: target.password,
    database: target.database,
    connectTimeout: timeoutMs,
    // DATETIME values come back as written; rows.ts turns them into ISO strings.
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    poolSize: 4,
  };
  const tls = target.params.tls ?? 'false';
  const fallback = target.params.allowFallbackToPlaintext === 'true' || tls === 'preferred';
  const noTls = (err: unknown) => /HANDSHAKE_NO_SSL_SUPPORT|does not support secure connection/i.test(errorText(err));
  if (tls === 'false') return [{ options: base }];
  // go-sql-driver: tls=true verifies the certificate and the host name; skip-verify / preferred verify nothing.
  const ssl = tls === 'true' ? { rejectUnauthorized: true, verifyIdentity: true } : { rejectUnauthorized: false };
  return fallback ? [{ options: { ...base, ssl }, retryWithNextIf: noTls }, { options: base }] : [{ options: { ...base, ssl } }];
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** libpq/pgx sslmode semantics (pgx's default is `prefer`) expressed as node-postgres `ssl` attempts. */
function postgresAttempts(
  target: Extract<DatabaseTarget, { kind: 'postgres' }>,
  readonly: boolean,
  timeoutMs: number,
  sessions: { applicationName: string },
): Attempt[] {
  const url = new URL(target.url);
  const param = (name: string) => url.searchParams.get(name) ?? undefined;
  const runtime: string[] = [];
  const searchPath = param('search_path');
  if (searchPath) runtime.push(`-c search_path=${searchPath.replace(/([\\ ])/g, '\\$1')}`);
  if (readonly) runtime.push('-c default_transaction_read_only=on');
  const options = [param('options'), ...runtime].filter(Boolean).join(' ');
  const base = {
    type: 'postgres',
    driver: require('pg') as unknown,
    host: target.host,
    port: target.port,
    username: target.user,
    password: safeDecode(url.password),
    database: target.database,
    applicationName: sessions.applicationName,
    connectTimeoutMS: timeoutMs,
    installExtensions: false,
    poolSize: 4,
    ...(options ? { extra: { options } } : {}),
  };
  const file = (name: string) => {
    const path = param(name);
    return path ? readFileSync(path, 'utf8') : undefined;
  };
  const ca = file('sslrootcert');
  const identity = { ca, cert: file('sslcert'), key: file('sslkey') };
  const encrypted: TlsOptions = { ...identity, rejectUnauthorized: false };
  const noSsl = (err: unknown) => /does not support SSL/i.test(errorText(err));
  const needsSsl = (err: unknown) => /no encryption|SSL off|requires SSL/i.test(errorText(err));
  const mode = param('sslmode') ?? 'prefer';
  switch (mode) {
    case 'disable':
      return [{ options: { ...base, ssl: false } }];
    case 'allow':
      return [{ options: { ...base, ssl: false }, retryWithNextIf: needsSsl }, { options: { ...base, ssl: encrypted } }];
    case 'prefer':
      return [{ options: { ...base, ssl: encrypted }, retryWithNextIf: noSsl }, { options: { ...base, ssl: false } }];
    case 'require':
      // libpq: with a root certificate, require behaves like verify-ca.
      return [{ options: { ...base, ssl: ca ? { ...identity, checkServerIdentity: () => undefined } : encrypted } }];
    case 'verify-ca':
      return [{ options: { ...base, ssl: { ...identity, rejectUnauthorized: true, checkServerIdentity: () => undefined } } }];
    case 'verify-full':
      return [{ options: { ...base, ssl: { ...identity, rejectUnauthorized: true, servername: target.host } } }];
    default:
      throw new KeystoreError('usage', {
        en: `DATABASE_DSN (PostgreSQL URL): sslmode=${mode} is not one of disable, allow, prefer, require, verify-ca, verify-full`,
        zh: `DATABASE_DSN（PostgreSQL URL）：sslmode=${mode} 不是 disable、allow、prefer、require、verify-ca、verify-full 之一`,
      });
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Other live sessions on the same database (GPT-Load's pool, admin tools), our own pool excluded.
 * MySQL: PROCESSLIST rows for this database (without the PROCESS privilege, only this user's sessions are
 * visible); PostgreSQL: pg_stat_activity client backends for this database; SQLite: null (no such notion).
 */
export async function countOtherSessions(store: Store): Promise<number | null> {
  if (!(store instanceof StoreImpl)) throw new TypeError('countOtherSessions needs a store from openStore');
  if (store.kind === 'sqlite') return null;
  if (store.kind === 'mysql') {
    const rows = await store.query<{ id: number | string }>(
      'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID()',
    );
    return rows.filter((r) => !store.sessions.mysqlThreadIds.has(Number(r.id))).length;
  }
  const [row] = await store.query<{ n: string | number }>(
    `SELECT COUNT(*) AS n FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid()
        AND COALESCE(backend_type, 'client backend') = 'client backend'
        AND COALESCE(application_name, '') <> $1`,
    [store.sessions.applicationName],
  );
  return Number(row?.n ?? 0);
}
