/**
 * GPT-Load's DATABASE_DSN, resolved the way GPT-Load resolves it (see shared/design/gpt-load-facts.md):
 * empty → SQLite `./data/gpt-load.db` beside `.env`; `postgres://` / `postgresql://` → PostgreSQL URL;
 * containing `@tcp` → MySQL in go-sql-driver form; anything else → a SQLite file path.
 * Pure: no drivers, no I/O. Errors never quote the DSN (it may hold a password).
 */
import { isAbsolute, resolve } from 'node:path';
import { KeystoreError, type Localized } from '../core/errors';

export type DatabaseTarget =
  | { kind: 'sqlite'; path: string }
  | {
      kind: 'mysql';
      host: string;
      port: number;
      user: string;
      password: string;
      database: string;
      /** go-sql-driver parameters, values unescaped where the driver unescapes them; last duplicate wins. */
      params: Record<string, string>;
    }
  | { kind: 'postgres'; url: string; host: string; port: number; user: string; database: string };

export type DatabaseKind = DatabaseTarget['kind'];

const DEFAULT_SQLITE_DSN = './data/gpt-load.db';
const MYSQL_DEFAULT_PORT = 3306;
const POSTGRES_DEFAULT_PORT = 5432;

function usage(text: Localized): KeystoreError {
  return new KeystoreError('usage', text);
}

export function resolveDsn(dsn: string, envDir: string): DatabaseTarget {
  const value = dsn.trim();
  if (value === '') return { kind: 'sqlite', path: resolve(envDir, DEFAULT_SQLITE_DSN) };
  if (value.startsWith('postgres://') || value.startsWith('postgresql://')) return parsePostgresUrl(value);
  if (value.includes('@tcp')) return parseMysqlDsn(value);
  return { kind: 'sqlite', path: sqlitePath(value, envDir) };
}

/**
 * GPT-Load appends `?_busy_timeout=5000` to the path and hands it to a driver that accepts `file:` URIs,
 * so a `file:` prefix and any `?query` are not part of the file name.
 */
function sqlitePath(dsn: string, envDir: string): string {
  let path = dsn.startsWith('file:') ? dsn.slice('file:'.length) : dsn;
  const query = path.indexOf('?');
  if (query >= 0) path = path.slice(0, query);
  return isAbsolute(path) ? path : resolve(envDir, path);
}

// ---------------------------------------------------------------------------------------------
// MySQL: `[user[:password]@][net[(addr)]]/dbname[?param=value&…]`, parsed by go-sql-driver's rules:
// the LAST '/' starts the database name, the last '@' before it ends the credentials, the first ':'
// splits user from password (so a password may contain ':', '@' and '/'), the address sits in
// parentheses right before that '/'. The password is taken verbatim (the driver does not unescape it).

const MYSQL_BOOL: Record<string, boolean> = { '1': true, true: true, TRUE: true, True: true, '0': false, false: false, FALSE: false, False: false };
const MYSQL_BOOL_PARAMS = new Set([
  'allowAllFiles', 'allowCleartextPasswords', 'allowFallbackToPlaintext', 'allowNativePasswords', 'allowOldPasswords',
  'checkConnLiveness', 'clientFoundRows', 'columnsWithAlias', 'compress', 'interpolateParams', 'multiStatements',
  'parseTime', 'rejectReadOnly', 'tinyInt1IsBool',
]);
const MYSQL_DURATION_PARAMS = new Set(['timeout', 'readTimeout', 'writeTimeout', 'timeTruncate']);
/** Parameters the driver keeps as written; every other value is query-unescaped. */
const MYSQL_RAW_PARAMS = new Set(['charset', 'collation', 'maxAllowedPacket', ...MYSQL_BOOL_PARAMS, ...MYSQL_DURATION_PARAMS]);

function parseMysqlDsn(dsn: string): DatabaseTarget {
  const slash = dsn.lastIndexOf('/');
  if (slash < 0) {
    throw usage({
      en: 'DATABASE_DSN (MySQL form) has no /dbname part; expected user:password@tcp(host:port)/dbname?params',
      zh: 'DATABASE_DSN（MySQL 格式）缺少 /数据库名 部分；应为 user:password@tcp(host:port)/dbname?params',
    });
  }
  let user = '';
  let password = '';
  let net = '';
  let address = '';
  if (slash > 0) {
    const left = dsn.slice(0, slash);
    const at = left.lastIndexOf('@');
    if (at >= 0) {
      const credentials = left.slice(0, at);
      const colon = credentials.indexOf(':');
      user = colon < 0 ? credentials : credentials.slice(0, colon);
      password = colon < 0 ? '' : credentials.slice(colon + 1);
    }
    const protocol = left.slice(at + 1);
    const paren = protocol.indexOf('(');
    if (paren >= 0) {
      if (!protocol.endsWith(')')) {
        throw usage({
          en:
            'DATABASE_DSN (MySQL form) has a malformed (host:port) address; characters such as "/" in parameter ' +
            'values must be escaped (e.g. loc=Asia%2FShanghai)',
          zh: 'DATABASE_DSN（MySQL 格式）的 (host:port) 地址格式错误；参数值中的 "/" 等字符必须转义（例如 loc=Asia%2FShanghai）',
        });
      }
      net = protocol.slice(0, paren);
      address = protocol.slice(paren + 1, -1);
    } else {
      net = protocol;
    }
  }
  if (net !== '' && net !== 'tcp' && net !== 'tcp6') {
    throw usage({
      en: `DATABASE_DSN (MySQL form) uses protocol "${net}"; only tcp(host:port) is supported`,
      zh: `DATABASE_DSN（MySQL 格式）使用了协议 "${net}"；仅支持 tcp(host:port)`,
    });
  }
  const rest = dsn.slice(slash + 1);
  const question = rest.indexOf('?');
  const database = pathUnescape(question < 0 ? rest : rest.slice(0, question));
  const params = question < 0 ? {} : parseMysqlParams(rest.slice(question + 1));
  const { host, port } = address === '' ? { host: '127.0.0.1', port: MYSQL_DEFAULT_PORT } : splitHostPort(address, MYSQL_DEFAULT_PORT, 'DATABASE_DSN');
  return { kind: 'mysql', host, port, user, password, database, params };
}

function parseMysqlParams(query: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const key = pair.slice(0, eq);
    let value = pair.slice(eq + 1);
    if (key === 'tls') {
      const bool = MYSQL_BOOL[value];
      const lower = value.toLowerCase();
      value = bool !== undefined ? String(bool) : lower === 'skip-verify' || lower === 'preferred' ? lower : queryUnescape(value, key);
      if (!['true', 'false', 'skip-verify', 'preferred'].includes(value)) {
        // A named TLS config exists only inside a Go program that registered it; GPT-Load registers none.
        throw usage({
          en: `DATABASE_DSN (MySQL form): tls=${value} is not one of true, false, skip-verify, preferred`,
          zh: `DATABASE_DSN（MySQL 格式）：tls=${value} 不是 true、false、skip-verify、preferred 之一`,
        });
      }
    } else if (MYSQL_BOOL_PARAMS.has(key)) {
      if (MYSQL_BOOL[value] === undefined) throw invalidParam(key);
    } else if (MYSQL_DURATION_PARAMS.has(key)) {
      if (parseGoDuration(value) === null) throw invalidParam(key);
    } else if (!MYSQL_RAW_PARAMS.has(key)) {
      value = queryUnescape(value, key);
    }
    params[key] = value;
  }
  return params;
}

function invalidParam(key: string): KeystoreError {
  return usage({
    en: `DATABASE_DSN (MySQL form): invalid value for parameter ${key}`,
    zh: `DATABASE_DSN（MySQL 格式）：参数 ${key} 的值无效`,
  });
}

function pathUnescape(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw usage({ en: 'DATABASE_DSN: the database name has an invalid %-escape', zh: 'DATABASE_DSN：数据库名中的 % 转义无效' });
  }
}

function queryUnescape(text: string, key: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw invalidParam(key);
  }
}

const GO_DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration ("1m30s", "500ms", "0"), in milliseconds; null when malformed. */
export function parseGoDuration(text: string): number | null {
  const match = /^([-+]?)(.*)$/.exec(text)!;
  const body = match[2];
  if (body === '0') return 0;
  const part = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let index = 0;
  while (index < body.length) {
    part.lastIndex = index;
    const m = part.exec(body);
    if (!m) return null;
    total += Number(m[1]) * GO_DURATION_UNITS[m[2]];
    index = part.lastIndex;
  }
  if (body === '') return null;
  return match[1] === '-' ? -total : total;
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: a URL as pgx reads it. The URL itself is kept (sslmode and other parameters live there).

function parsePostgresUrl(dsn: string): DatabaseTarget {
  let url: URL;
  try {
    url = new URL(dsn);
  } catch {
    throw usage({
      en: 'DATABASE_DSN (PostgreSQL URL) is malformed; special characters in the password must be %-encoded',
      zh: 'DATABASE_DSN（PostgreSQL URL）格式错误；密码中的特殊字符必须用 % 编码',
    });
  }
  const user = pathUnescape(url.username);
  // pgx accepts "host1,host2" (tried in order); we connect to the first.
  const firstHost = url.hostname.split(',')[0] ?? '';
  const host = firstHost === '' ? 'localhost' : unbracket(firstHost);
  const port = url.port === '' ? POSTGRES_DEFAULT_PORT : Number(url.port);
  const path = pathUnescape(url.pathname.replace(/^\//, ''));
  // Without a database name the server uses the user's name, as libpq and pgx do.
  return { kind: 'postgres', url: dsn, host, port, user, database: path || user };
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function bracket(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function splitHostPort(text: string, defaultPort: number, what: string): { host: string; port: number } {
  let host = text;
  let portText = '';
  const ipv6 = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  if (ipv6) {
    host = ipv6[1];
    portText = ipv6[2] ?? '';
  } else {
    const colon = text.lastIndexOf(':');
    if (colon >= 0 && text.indexOf(':') === colon) {
      host = text.slice(0, colon);
      portText = text.slice(colon + 1);
    }
  }
  const port = portText === '' ? defaultPort : Number(portText);
  if (!/^\d*$/.test(portText) || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw usage({ en: `${what}: invalid port "${portText}"`, zh: `${what}：端口 "${portText}" 无效` });
  }
  return { host, port };
}

/** `--db-host HOST[:PORT]`: the same database and credentials, reached at another address. */
export function overrideHost(target: DatabaseTarget, hostPort: string): DatabaseTarget {
  if (target.kind === 'sqlite') {
    throw usage({
      en: '--db-host applies to MySQL and PostgreSQL; this DATABASE_DSN is a SQLite file',
      zh: '--db-host 仅适用于 MySQL 和 PostgreSQL；当前 DATABASE_DSN 是 SQLite 文件',
    });
  }
  const { host, port } = splitHostPort(hostPort.trim(), target.port, '--db-host');
  const newHost = host === '' ? target.host : host;
  if (target.kind === 'mysql') return { ...target, host: newHost, port };
  const url = new URL(target.url);
  url.hostname = bracket(newHost);
  url.port = String(port);
  return { ...target, url: url.toString(), host: newHost, port };
}

/**
 * Masks the passwords of every DSN form in `text`: URL userinfo (`postgres://u:PASSWORD@h`, any
 * scheme), key/value pairs (libpq `password=…` / `password='…'`, a URL's `?password=`) and
 * go-sql-driver's `user:PASSWORD@tcp(…)`, `@unix(…)`, `@/db`. A DSN GPT-Load does not recognise is
 * a SQLite path to it — resolved beside the .env, `//` collapsed — so paths derived from one are
 * masked alike.
 * The one function for every message, label or log line that shows a DSN or such a path.
 */
export function maskDsn(text: string): string {
  return text
    .replace(/\b(password|passwd|pwd)(\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&;]*)/gi, '$1$2****')
    .replace(/(\b[a-z][a-z0-9+.-]*:\/+[^\s:/@]*):\S*@/gi, '$1:****@')
    .replace(/(^|[\s/\\(])([^\s:/@()]*):\S*@(?=[a-z0-9]*\(|\/)/gi, '$1$2:****@');
}

/**
 * The password a MySQL or PostgreSQL target logs in with, "" when the DSN gives none; null for
 * SQLite. PostgreSQL URLs may carry it in the query too (`?password=`, which pgx prefers).
 */
export function passwordOf(target: DatabaseTarget): string | null {
  if (target.kind === 'mysql') return target.password;
  if (target.kind === 'sqlite') return null;
  const url = new URL(target.url);
  const query = url.searchParams.get('password');
  if (query !== null) return query;
  try {
    return decodeURIComponent(url.password);
  } catch {
    // A stray '%': the driver refuses the DSN; the password is still there.
    return url.password;
  }
}

/**
 * Whether the database is reached over TCP: always for MySQL (GPT-Load takes only `@tcp` DSNs);
 * for PostgreSQL unless the host is a Unix socket folder (`?host=/run/postgresql`) or not given
 * (pgx then tries the local sockets first).
 */
export function reachedOverTcp(target: DatabaseTarget): boolean {
  if (target.kind !== 'postgres') return target.kind === 'mysql';
  const url = new URL(target.url);
  const host = url.searchParams.get('host') ?? url.hostname;
  return host !== '' && !host.startsWith('/');
}

/** For logs and messages: never the password. */
export function describeTarget(target: DatabaseTarget): string {
  switch (target.kind) {
    case 'sqlite':
      return `sqlite ${maskDsn(target.path)}`;
    case 'mysql':
      return `mysql ${target.user}@${bracket(target.host)}:${target.port}/${target.database}`;
    case 'postgres':
      return `postgres ${target.user}@${bracket(target.host)}:${target.port}/${target.database}`;
  }
}
