/**
 * The real database servers integration tests run against. Each helper returns connection info, or — when
 * the server does not answer within 2 s — skips the test (returns undefined) or, under CI, fails it.
 *
 *   const mysql = await mysqlServer(t);
 *   if (!mysql) return; // skipped: not reachable
 *
 * Servers: GLK_TEST_MYSQL (default mysql://root@127.0.0.1:3306), GLK_TEST_POSTGRES (default
 * postgres://postgres@127.0.0.1:5432/postgres), GLK_TEST_REDIS (default redis://127.0.0.1:6379).
 */
import { Socket } from 'node:net';
import type { TestContext } from 'node:test';

export type Engine = 'sqlite' | 'mysql' | 'postgres';
export const ENGINES: readonly Engine[] = ['sqlite', 'mysql', 'postgres'];
export const SERVER_ENGINES: readonly Engine[] = ['mysql', 'postgres'];

export interface ServerInfo {
  /** The URL the server was reached at (may hold a password: never print it). */
  url: string;
  host: string;
  port: number;
  user: string;
  password: string;
}

export interface MysqlServer extends ServerInfo {
  kind: 'mysql';
}

export interface PostgresServer extends ServerInfo {
  kind: 'postgres';
  /** A database to connect to for administration (CREATE / DROP DATABASE). */
  database: string;
}

export interface RedisServer extends ServerInfo {
  kind: 'redis';
  db: number;
}

const PROBE_TIMEOUT_MS = 2000;

interface ServerSpec {
  variable: string;
  fallback: string;
  scheme: string;
  defaultPort: number;
  label: string;
  howToStart: string;
}

const SPECS = {
  mysql: {
    variable: 'GLK_TEST_MYSQL',
    fallback: 'mysql://root@127.0.0.1:3306',
    scheme: 'mysql',
    defaultPort: 3306,
    label: 'MySQL/MariaDB',
    howToStart: 'docker run -d -p 3306:3306 -e MARIADB_ALLOW_EMPTY_ROOT_PASSWORD=1 mariadb:10.11',
  },
  postgres: {
    variable: 'GLK_TEST_POSTGRES',
    fallback: 'postgres://postgres@127.0.0.1:5432/postgres',
    scheme: 'postgres',
    defaultPort: 5432,
    label: 'PostgreSQL',
    howToStart: 'docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:15',
  },
  redis: {
    variable: 'GLK_TEST_REDIS',
    fallback: 'redis://127.0.0.1:6379',
    scheme: 'redis',
    defaultPort: 6379,
    label: 'Redis',
    howToStart: 'docker run -d -p 6379:6379 redis:7',
  },
} satisfies Record<string, ServerSpec>;

function parse(spec: ServerSpec): { url: URL; text: string; shown: string } {
  let text = (process.env[spec.variable] ?? '').trim() || spec.fallback;
  // The documented short form `root@127.0.0.1:3306` has no scheme.
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) text = `${spec.scheme}://${text}`;
  const url = new URL(text);
  const shown = `${url.hostname}:${url.port || spec.defaultPort}`;
  return { url, text, shown };
}

function probe(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.connect(port, host);
  });
}

const probes = new Map<string, Promise<boolean>>();

function isCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
}

async function reach(t: TestContext, spec: ServerSpec): Promise<{ url: URL; text: string } | undefined> {
  const { url, text, shown } = parse(spec);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port || spec.defaultPort);
  const key = `${host}:${port}`;
  if (!probes.has(key)) probes.set(key, probe(host, port));
  if (await probes.get(key)!) return { url, text };
  const how = `set ${spec.variable}=${spec.scheme}://user:pass@host:port to point at a server`;
  if (isCi()) {
    throw new Error(`${spec.label} not reachable at ${shown} (CI requires it): start one (e.g. ${spec.howToStart}) or ${how}`);
  }
  t.skip(`${spec.label} not reachable at ${shown}; ${how}`);
  return undefined;
}

function info(url: URL, defaultPort: number): ServerInfo {
  return {
    url: url.toString(),
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: Number(url.port || defaultPort),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
  };
}

export async function mysqlServer(t: TestContext): Promise<MysqlServer | undefined> {
  const found = await reach(t, SPECS.mysql);
  if (!found) return undefined;
  const base = info(found.url, SPECS.mysql.defaultPort);
  return { kind: 'mysql', ...base, user: base.user || 'root' };
}

export async function postgresServer(t: TestContext): Promise<PostgresServer | undefined> {
  const found = await reach(t, SPECS.postgres);
  if (!found) return undefined;
  const base = info(found.url, SPECS.postgres.defaultPort);
  const user = base.user || 'postgres';
  return { kind: 'postgres', ...base, user, database: decodeURIComponent(found.url.pathname.slice(1)) || 'postgres' };
}

export async function redisServer(t: TestContext): Promise<RedisServer | undefined> {
  const found = await reach(t, SPECS.redis);
  if (!found) return undefined;
  return { kind: 'redis', ...info(found.url, SPECS.redis.defaultPort), db: Number(found.url.pathname.slice(1) || 0) };
}
