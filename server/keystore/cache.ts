/**
 * GPT-Load's Redis cache after a key migration. The stale entries are the per-key hashes
 * `gpt-load:key:{id}` and the per-group lists `gpt-load:group:{gid}:active_keys`; only those are
 * deleted (SCAN, never KEYS). GPT-Load's own migrate-keys deletes every `gpt-load:*` key, unflushed
 * request logs included; we keep everything else.
 */
import { KeystoreError } from '../core/errors';

/** SCAN patterns and the exact shapes (a glob's `*` also matches ':'). */
const STALE = [
  { match: 'gpt-load:key:*', exact: /^gpt-load:key:\d+$/ },
  { match: 'gpt-load:group:*:active_keys', exact: /^gpt-load:group:\d+:active_keys$/ },
] as const;

export interface CacheClearResult {
  /** Entries deleted: `gpt-load:key:{id}` hashes and `gpt-load:group:{gid}:active_keys` lists. */
  removed: number;
  keyEntries: number;
  groupLists: number;
}

export interface RedisOptions {
  /** HOST[:PORT] replacing the DSN's host (Docker Compose's `redis` does not resolve outside). */
  redisHost?: string;
  timeoutMs: number;
}

interface RedisLike {
  connect(): Promise<void>;
  ping(): Promise<string>;
  scan(cursor: string, ...args: Array<string | number>): Promise<[string, string[]]>;
  del(...keys: string[]): Promise<number>;
  quit(): Promise<string>;
  disconnect(): void;
}

/** Where to reach Redis: TCP (redis://, rediss://) or a Unix socket (unix://, as go-redis reads it). */
interface RedisTarget {
  /** Host, port (or socket path) and database, never the password. */
  label: string;
  /** ioredis connection options (besides timeouts). */
  options: { host?: string; port?: number; path?: string; db: number; username?: string; password?: string; tls?: object };
}

function usage(en: string, zh: string): KeystoreError {
  return new KeystoreError('usage', { en, zh });
}

/** A label for messages: host, port and database, never the password. */
export function describeRedis(dsn: string, options: Pick<RedisOptions, 'redisHost'> = {}): string {
  return redisTarget(dsn, options.redisHost).label;
}

/**
 * REDIS_DSN as go-redis's ParseURL reads it: `redis://` / `rediss://` (TLS) `[user:password@]host[:port][/db]`,
 * or `unix://[user:password@]/path/to/socket[?db=N]`. --redis-host replaces the host (and port) —
 * on a socket DSN it switches to TCP there, since a container's socket path does not exist outside.
 */
function redisTarget(dsn: string, redisHost?: string): RedisTarget {
  let url: URL;
  try {
    url = new URL(dsn);
  } catch {
    url = new URL('invalid://');
  }
  const secure = url.protocol === 'rediss:';
  if (url.protocol !== 'redis:' && !secure && url.protocol !== 'unix:') {
    throw usage(
      'REDIS_DSN is not a redis://, rediss:// or unix:// URL (special characters in the password must be %-encoded)',
      'REDIS_DSN 不是 redis://、rediss:// 或 unix:// URL（密码中的特殊字符须用 % 编码）',
    );
  }
  const credentials = {
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
  };
  const dbText = url.protocol === 'unix:' ? (url.searchParams.get('db') ?? '0') : url.pathname.replace(/^\//, '') || '0';
  const db = Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw usage(`REDIS_DSN: invalid database number "${dbText}"`, `REDIS_DSN：数据库编号 "${dbText}" 无效`);
  let host = url.hostname;
  let port = Number(url.port || 6379);
  if (redisHost) {
    const m = /^(\[[^\]]+\]|[^:]*)(?::(\d+))?$/.exec(redisHost.trim());
    if (!m) throw usage('--redis-host takes HOST[:PORT]', '--redis-host 的格式为 HOST[:PORT]');
    if (m[1]) host = m[1].replace(/^\[|\]$/g, '');
    if (m[2]) port = Number(m[2]);
  }
  if (url.protocol === 'unix:' && !redisHost) {
    const path = decodeURIComponent(url.pathname);
    if (path === '') throw usage('REDIS_DSN: a unix:// URL needs the socket path (unix:///path/to/redis.sock)', 'REDIS_DSN：unix:// URL 需要套接字路径（unix:///path/to/redis.sock）');
    return { label: `redis unix:${path}/${db}`, options: { path, db, ...credentials } };
  }
  return { label: `redis ${host}:${port}/${db}`, options: { host, port, db, ...credentials, ...(secure ? { tls: {} } : {}) } };
}

async function connect(dsn: string, options: RedisOptions): Promise<RedisLike> {
  const target = redisTarget(dsn, options.redisHost);
  const label = target.label;
  const Redis = (require('ioredis') as typeof import('ioredis')).default;
  const client = new Redis({
    ...target.options,
    lazyConnect: true,
    connectTimeout: options.timeoutMs,
    commandTimeout: Math.max(options.timeoutMs, 10_000),
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  }) as unknown as RedisLike & { on(event: 'error', fn: (err: Error) => void): void };
  // ioredis also emits connection errors as events; the awaited command reports them.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return client;
  } catch (err) {
    client.disconnect();
    throw redisFailure(err, label);
  }
}

function redisFailure(err: unknown, label: string): KeystoreError {
  const code = String((err as { code?: unknown })?.code ?? '');
  const text = err instanceof Error ? err.message : String(err);
  const hint = {
    en: 'Set --redis-host HOST[:PORT] when REDIS_DSN names a Docker Compose service (e.g. "redis") that does not resolve here.',
    zh: '如 REDIS_DSN 使用的是本机无法解析的 Docker Compose 服务名（如 "redis"），请用 --redis-host HOST[:PORT] 指定。',
  };
  if (/ENOTFOUND|EAI_AGAIN/.test(code + text)) {
    return new KeystoreError('host-not-found', { en: `cannot resolve the host of REDIS_DSN (${label}). ${hint.en}`, zh: `无法解析 REDIS_DSN 的主机（${label}）。${hint.zh}` });
  }
  if (/NOAUTH|WRONGPASS|invalid password|invalid username/i.test(text)) {
    return new KeystoreError('auth-refused', { en: `Redis refused the login (${label}): check the password in REDIS_DSN`, zh: `Redis 拒绝登录（${label}）：请检查 REDIS_DSN 中的密码` });
  }
  if (/ETIMEDOUT|timed? ?out/i.test(code + text)) {
    return new KeystoreError('connection-timeout', { en: `Redis did not answer in time (${label}). ${hint.en}`, zh: `Redis 未及时响应（${label}）。${hint.zh}` });
  }
  return new KeystoreError('connection-refused', { en: `cannot reach Redis (${label}, ${code || 'error'}). ${hint.en}`, zh: `无法连接 Redis（${label}，${code || 'error'}）。${hint.zh}` });
}

async function close(client: RedisLike): Promise<void> {
  await client.quit().catch(() => client.disconnect());
}

/** Connects and pings: run before writing anything, so an unreachable Redis stops the run early. */
export async function checkRedis(dsn: string, options: RedisOptions): Promise<void> {
  await close(await connect(dsn, options));
}

export async function clearStaleCache(dsn: string, options: RedisOptions): Promise<CacheClearResult> {
  const client = await connect(dsn, options);
  const label = describeRedis(dsn, options);
  const result: CacheClearResult = { removed: 0, keyEntries: 0, groupLists: 0 };
  try {
    for (const [index, { match, exact }] of STALE.entries()) {
      let cursor = '0';
      do {
        const [next, found] = await client.scan(cursor, 'MATCH', match, 'COUNT', 1000);
        cursor = next;
        const stale = found.filter((key) => exact.test(key));
        if (stale.length > 0) {
          const removed = await client.del(...stale);
          result.removed += removed;
          if (index === 0) result.keyEntries += removed;
          else result.groupLists += removed;
        }
      } while (cursor !== '0');
    }
  } catch (err) {
    throw redisFailure(err, label);
  } finally {
    await close(client);
  }
  return result;
}
