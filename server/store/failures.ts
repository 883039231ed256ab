/**
 * Driver failures (mysql2, pg, better-sqlite3, node:net) → KeystoreError with a stable code and a message
 * in English and Simplified Chinese that says what to do. Messages name hosts, ports, users, paths and
 * driver error codes, never a password or a bound value: driver messages are only quoted where they
 * cannot echo SQL parameters.
 */
import { KeystoreError, type ErrorCode, type Localized } from '../core/errors';
import { describeTarget, maskDsn, type DatabaseTarget } from './dsn';

interface DriverError {
  code?: unknown;
  errno?: unknown;
  message?: unknown;
  cause?: unknown;
  driverError?: unknown;
}

function field(err: unknown, name: keyof DriverError): unknown {
  return typeof err === 'object' && err !== null ? (err as DriverError)[name] : undefined;
}

/** The innermost driver error: typeorm wraps it in QueryFailedError, pg-pool in `cause`. */
function chain(err: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e: unknown = err; e !== undefined && e !== null && out.length < 5; ) {
    out.push(e);
    e = field(e, 'driverError') ?? field(e, 'cause');
  }
  return out;
}

function codes(err: unknown): string[] {
  return chain(err).flatMap((e) => [field(e, 'code'), field(e, 'errno')].filter((c) => c !== undefined).map(String));
}

function messages(err: unknown): string {
  return chain(err)
    .map((e) => (typeof field(e, 'message') === 'string' ? (field(e, 'message') as string) : ''))
    .join('\n');
}

function failure(code: ErrorCode, text: Localized, target: DatabaseTarget, details: Record<string, unknown> = {}) {
  // The driver error itself is not attached: typeorm's QueryFailedError carries the bound parameters.
  return new KeystoreError(code, text, { target: describeTarget(target), ...details });
}

function endpoint(target: DatabaseTarget): string {
  if (target.kind === 'sqlite') return maskDsn(target.path);
  return `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
}

const ELSEWHERE: Localized = {
  en: 'Use --db-host HOST[:PORT] or --dsn to point at a reachable server.',
  zh: '可用 --db-host HOST[:PORT] 或 --dsn 指向可访问的服务器。',
};

function hostNotFound(target: DatabaseTarget): KeystoreError {
  const host = target.kind === 'sqlite' ? '' : target.host;
  const port = target.kind === 'sqlite' ? 0 : target.port;
  return failure(
    'host-not-found',
    {
      en:
        `Cannot resolve the database host "${host}" (${describeTarget(target)}). In Docker Compose deployments, hosts ` +
        `such as "mysql" or "postgres" are service names that resolve only inside the Compose network, not on this ` +
        `machine. Publish the database port and use --db-host HOST[:PORT] (e.g. --db-host 127.0.0.1:${port}), or pass ` +
        `another DATABASE_DSN with --dsn.`,
      zh:
        `无法解析数据库主机 "${host}"（${describeTarget(target)}）。在 Docker Compose 部署中，"mysql"、"postgres" ` +
        `等主机名是服务名，只能在 Compose 网络内部解析，在本机无法解析。请映射数据库端口并使用 --db-host HOST[:PORT]` +
        `（例如 --db-host 127.0.0.1:${port}），或用 --dsn 指定其他 DATABASE_DSN。`,
    },
    target,
  );
}

export function connectionTimeout(target: DatabaseTarget, timeoutMs: number): KeystoreError {
  return failure(
    'connection-timeout',
    {
      en:
        `No answer from ${endpoint(target)} within ${timeoutMs} ms (${describeTarget(target)}): a firewall may drop ` +
        `the packets, or no database server is listening there. ${ELSEWHERE.en}`,
      zh:
        `${timeoutMs} 毫秒内 ${endpoint(target)} 没有响应（${describeTarget(target)}）：可能被防火墙丢弃，` +
        `或该地址上不是数据库服务器。${ELSEWHERE.zh}`,
    },
    target,
    { timeoutMs },
  );
}

export function databaseMissing(target: DatabaseTarget): KeystoreError {
  if (target.kind === 'sqlite') {
    return failure(
      'database-missing',
      {
        en:
          `No SQLite database at ${maskDsn(target.path)}. GPT-Load creates it on its first start; check DATABASE_DSN and that ` +
          `you point at the folder holding GPT-Load's .env (the default database is ./data/gpt-load.db beside it).`,
        zh:
          `${maskDsn(target.path)} 处没有 SQLite 数据库。GPT-Load 首次启动时才会创建它；请检查 DATABASE_DSN，并确认指向` +
          `GPT-Load 的 .env 所在目录（默认数据库为其旁边的 ./data/gpt-load.db）。`,
      },
      target,
    );
  }
  return failure(
    'database-missing',
    {
      en: `The database "${target.database}" does not exist on ${endpoint(target)} (${describeTarget(target)}). Check the database name in DATABASE_DSN.`,
      zh: `${endpoint(target)} 上不存在数据库 "${target.database}"（${describeTarget(target)}）。请检查 DATABASE_DSN 中的数据库名。`,
    },
    target,
  );
}

export function notGptLoadDatabase(target: DatabaseTarget): KeystoreError {
  return failure(
    'not-gpt-load-database',
    {
      en: `${describeTarget(target)} has no api_keys table: it is not a GPT-Load database, or GPT-Load has never started with it.`,
      zh: `${describeTarget(target)} 中没有 api_keys 表：它不是 GPT-Load 的数据库，或 GPT-Load 从未用它启动过。`,
    },
    target,
  );
}

/** better-sqlite3 could not be loaded (missing build, or built for another Node ABI). */
export function nativeModuleUnavailable(err: unknown): KeystoreError {
  const text = messages(err);
  const abis = [...text.matchAll(/NODE_MODULE_VERSION (\d+)/g)].map((m) => m[1]);
  const runtime = `Node.js ${process.version}, ABI ${process.versions.modules}, ${process.platform}-${process.arch}`;
  const built = abis.length > 0 && abis[0] !== process.versions.modules ? abis[0] : undefined;
  const reason = built
    ? { en: `the installed build targets ABI ${built}`, zh: `已安装的构建面向 ABI ${built}` }
    : { en: (text.split('\n')[0] ?? '').slice(0, 200), zh: (text.split('\n')[0] ?? '').slice(0, 200) };
  return new KeystoreError(
    'native-module-unavailable',
    {
      en:
        `The SQLite driver (better-sqlite3) cannot be loaded in this runtime (${runtime}): ${reason.en}. Fix: rebuild ` +
        `it for this runtime (npm rebuild better-sqlite3), or choose another runtime whose ABI matches the installed ` +
        `build (e.g. a system Node.js instead of the editor's built-in one). MySQL and PostgreSQL work without it.`,
      zh:
        `当前运行时（${runtime}）无法加载 SQLite 驱动 better-sqlite3：${reason.zh}。解决方法：为当前运行时重新编译` +
        `（npm rebuild better-sqlite3），或改用与已安装构建 ABI 一致的运行时（例如系统 Node.js 而非编辑器内置的）。` +
        `MySQL 和 PostgreSQL 不需要它。`,
    },
    { abi: process.versions.modules, builtForAbi: built ?? null },
  );
}

export function isNativeLoadError(err: unknown): boolean {
  return /NODE_MODULE_VERSION|Could not locate the bindings file|invalid ELF header|wrong ELF class|not a valid Win32 application|Cannot find module 'better-sqlite3'|better_sqlite3\.node|dlopen/i.test(
    messages(err),
  ) || codes(err).includes('ERR_DLOPEN_FAILED');
}

const DNS_CODES = ['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_NODATA', 'EAI_FAIL'];
const TIMEOUT_CODES = ['ETIMEDOUT', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ESOCKETTIMEDOUT'];
const LOST_CODES = ['ECONNRESET', 'EPIPE', 'PROTOCOL_CONNECTION_LOST', '57P01', '57P02', '57P03', 'ER_SERVER_SHUTDOWN', 'ECONNABORTED'];
const AUTH_CODES = ['ER_ACCESS_DENIED_ERROR', 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR', 'ER_DBACCESS_DENIED_ERROR', '28P01', '28000'];

/** A failure while connecting (DataSource.initialize) to MySQL or PostgreSQL. */
export function connectFailure(err: unknown, target: DatabaseTarget, timeoutMs: number): KeystoreError {
  if (err instanceof KeystoreError) return err;
  const all = codes(err);
  const text = messages(err);
  const has = (list: string[]) => list.some((c) => all.includes(c));
  const engine = target.kind === 'mysql' ? 'MySQL' : 'PostgreSQL';
  if (has(DNS_CODES)) return hostNotFound(target);
  if (has(['ECONNREFUSED'])) {
    return failure(
      'connection-refused',
      {
        en:
          `Connection refused by ${endpoint(target)} (${describeTarget(target)}): nothing listens there. Is the ` +
          `database running, and is its port published to this machine? ${ELSEWHERE.en}`,
        zh:
          `${endpoint(target)} 拒绝连接（${describeTarget(target)}）：该端口没有服务在监听。数据库是否在运行、端口` +
          `是否已映射到本机？${ELSEWHERE.zh}`,
      },
      target,
    );
  }
  if (has(['EHOSTUNREACH', 'ENETUNREACH'])) {
    return failure(
      'connection-refused',
      {
        en: `${endpoint(target)} is unreachable from this machine (${describeTarget(target)}). ${ELSEWHERE.en}`,
        zh: `本机无法到达 ${endpoint(target)}（${describeTarget(target)}）。${ELSEWHERE.zh}`,
      },
      target,
    );
  }
  if (has(TIMEOUT_CODES) || /timeout expired|connection timeout|timed out/i.test(text)) {
    return connectionTimeout(target, timeoutMs);
  }
  if (has(['ER_BAD_DB_ERROR', '3D000'])) return databaseMissing(target);
  if (has(AUTH_CODES)) {
    const user = target.kind === 'sqlite' ? '' : target.user;
    return failure(
      'auth-refused',
      {
        en: `The ${engine} server at ${endpoint(target)} refused the login of user "${user}" (${describeTarget(target)}): check the user and password in DATABASE_DSN, and that this user may connect from this machine.`,
        zh: `${endpoint(target)} 上的 ${engine} 服务器拒绝了用户 "${user}" 的登录（${describeTarget(target)}）：请检查 DATABASE_DSN 中的用户名和密码，以及该用户是否允许从本机连接。`,
      },
      target,
      { driverCode: all[0] },
    );
  }
  if (/SSL|TLS|secure connection|certificate|self.signed/i.test(text)) {
    const reason = text.split('\n')[0].slice(0, 200);
    return failure(
      'connection-refused',
      {
        en: `TLS negotiation with ${endpoint(target)} failed (${describeTarget(target)}): ${reason}. Check tls= / sslmode= in DATABASE_DSN.`,
        zh: `与 ${endpoint(target)} 的 TLS 协商失败（${describeTarget(target)}）：${reason}。请检查 DATABASE_DSN 中的 tls= / sslmode=。`,
      },
      target,
      { driverCode: all[0] },
    );
  }
  if (has(LOST_CODES) || /Connection terminated|closed the connection/i.test(text)) return connectionLost(target);
  // Nothing was bound while connecting: the driver's message cannot hold a key.
  return unknownDatabaseError(err, target, true);
}

function connectionLost(target: DatabaseTarget): KeystoreError {
  return failure(
    'connection-refused',
    {
      en: `${endpoint(target)} closed the connection (${describeTarget(target)}): the server restarted, refused this client, or is not a ${target.kind === 'mysql' ? 'MySQL' : 'PostgreSQL'} server.`,
      zh: `${endpoint(target)} 关闭了连接（${describeTarget(target)}）：服务器已重启、拒绝了本客户端，或它不是 ${target.kind === 'mysql' ? 'MySQL' : 'PostgreSQL'} 服务器。`,
    },
    target,
  );
}

/**
 * Anything else. The driver's message is quoted only when the statement bound no values: mysql2
 * interpolates them into the SQL its syntax errors quote, and PostgreSQL quotes bad input values.
 */
function unknownDatabaseError(err: unknown, target: DatabaseTarget, quoteMessage: boolean): KeystoreError {
  const code = codes(err)[0] ?? 'unknown';
  const message = quoteMessage ? `: ${messages(err).split('\n')[0].slice(0, 300)}` : '';
  return failure(
    'internal',
    {
      en: `database error ${code} (${describeTarget(target)})${message}`,
      zh: `数据库错误 ${code}（${describeTarget(target)}）${message}`,
    },
    target,
    { driverCode: code },
  );
}

/** A failure of one statement. SQL text and bound values are kept out of the message. */
export function queryFailure(
  err: unknown,
  target: DatabaseTarget,
  limits: { busyTimeoutMs: number; timeoutMs: number },
  boundValues = true,
): KeystoreError {
  const { busyTimeoutMs, timeoutMs } = limits;
  if (err instanceof KeystoreError) return err;
  const all = codes(err);
  const has = (list: string[]) => list.some((c) => all.includes(c));
  if (target.kind === 'sqlite') {
    if (has(['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_RECOVERY', 'SQLITE_LOCKED', 'SQLITE_LOCKED_SHAREDCACHE'])) {
      return failure(
        // No dedicated code exists: like a timeout, we could not get at the database in time.
        'connection-timeout',
        {
          en:
            `The SQLite database ${maskDsn(target.path)} is locked: another process held a write lock longer than the busy ` +
            `timeout (${busyTimeoutMs} ms). GPT-Load itself is the usual holder: stop it, or wait for its writes to ` +
            `finish, and try again.`,
          zh:
            `SQLite 数据库 ${maskDsn(target.path)} 已被锁定（database is locked）：另一个进程持有写锁的时间超过了忙等待超时` +
            `（${busyTimeoutMs} 毫秒）。通常是 GPT-Load 本身：请停止它或等其写入完成后重试。`,
        },
        target,
        { reason: 'database-locked', busyTimeoutMs, driverCode: all[0] },
      );
    }
    if (has(['SQLITE_READONLY', 'SQLITE_READONLY_DBMOVED', 'SQLITE_READONLY_DIRECTORY', 'SQLITE_CANTOPEN', 'SQLITE_PERM'])) {
      return failure(
        'io',
        {
          en:
            `Cannot write to the SQLite database ${maskDsn(target.path)} (${all[0]}): the file or its folder is read-only for ` +
            `this user (Docker often creates data/ as root), or it was opened read-only. Fix the permissions or run ` +
            `as the file's owner.`,
          zh:
            `无法写入 SQLite 数据库 ${maskDsn(target.path)}（${all[0]}）：该文件或其目录对当前用户只读（Docker 常以 root ` +
            `身份创建 data/），或以只读方式打开。请修正权限，或以文件所有者身份运行。`,
        },
        target,
        { driverCode: all[0] },
      );
    }
    if (has(['SQLITE_NOTADB', 'SQLITE_CORRUPT'])) return notGptLoadDatabase(target);
    return unknownDatabaseError(err, target, !boundValues);
  }
  if (has(['25006', 'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION', 'ER_OPTION_PREVENTS_STATEMENT'])) {
    return failure(
      'io',
      {
        en: `${describeTarget(target)} refused a write: the session or the server is read-only (a replica, or opened read-only). Point DATABASE_DSN or --dsn at the primary server.`,
        zh: `${describeTarget(target)} 拒绝了写入：会话或服务器为只读（只读副本，或以只读方式打开）。请让 DATABASE_DSN 或 --dsn 指向主服务器。`,
      },
      target,
      { driverCode: all[0] },
    );
  }
  // A pool may open a new connection mid-operation: the same failures as at connect time.
  if (has(DNS_CODES) || has(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH'])) return connectFailure(err, target, timeoutMs);
  if (has(LOST_CODES) || has(TIMEOUT_CODES)) return connectionLost(target);
  return unknownDatabaseError(err, target, !boundValues);
}
