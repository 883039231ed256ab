/**
 * Redis with a password off loopback, the database over TLS when remote and behind a password,
 * CORS not open to every origin.
 */
import { passwordOf, reachedOverTcp, resolveDsn, type DatabaseTarget } from '../../store/dsn';
import { finding, type AuditFinding } from './findings';
import { isLoopback, placeOf, setting, type AuditInputs, type Setting } from './inputs';

/** A Compose service reached by its name and publishing no port: only the Compose network sees it. */
function internalService(inputs: AuditInputs, host: string): boolean {
  const service = inputs.compose?.services.find((s) => s.name === host);
  return service !== undefined && !service.publishes;
}

function hostOf(url: string): string | null {
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return null;
  }
}

/**
 * A MySQL or PostgreSQL login over TCP with no password: whoever reaches the server reads and
 * changes GPT-Load's keys. Loopback and the Compose network included (any local process or
 * container reaches those). Null for an unparsable DSN (GPT-Load's own start reports it).
 */
function emptyDatabasePassword(target: DatabaseTarget | null, dsn: Setting | undefined): AuditFinding | null {
  if (!target) return null;
  if (target.kind === 'sqlite') return finding('infrastructure', 'db-password-empty', 'pass', { en: 'The database is SQLite: no password applies.', zh: '数据库为 SQLite：不涉及密码。' }, placeOf(dsn));
  if (!reachedOverTcp(target)) return finding('infrastructure', 'db-password-empty', 'pass', { en: 'PostgreSQL is reached through a local socket.', zh: 'PostgreSQL 通过本地套接字访问。' }, placeOf(dsn));
  if (passwordOf(target) !== '') return finding('infrastructure', 'db-password-empty', 'pass', { en: 'DATABASE_DSN logs in with a password.', zh: 'DATABASE_DSN 使用密码登录。' }, placeOf(dsn));
  const at = dsn?.file ? `${dsn.file}${dsn.line ? `:${dsn.line}` : ''}` : null;
  const where = at ? { en: `DATABASE_DSN at ${at}`, zh: `${at} 处的 DATABASE_DSN ` } : { en: 'DATABASE_DSN (from the environment)', zh: 'DATABASE_DSN（来自环境变量）' };
  const server = `${target.host}:${target.port}`;
  const text =
    target.kind === 'mysql'
      ? {
          en: `${where.en} logs in to MySQL at ${server} as ${target.user || '(no user)'} with an empty password: whoever reaches that server can read and change GPT-Load's keys. Give the user a password in MySQL and write it into DATABASE_DSN (${target.user || 'user'}:PASSWORD@tcp(${server})/${target.database}).`,
          zh: `${where.zh}以 ${target.user || '（无用户名）'} 身份、空密码登录 ${server} 上的 MySQL：任何能连到该服务器的人都能读取和修改 GPT-Load 的密钥。请在 MySQL 中为该用户设置密码，并写入 DATABASE_DSN（${target.user || 'user'}:PASSWORD@tcp(${server})/${target.database}）。`,
        }
      : {
          en: `${where.en} gives no password for PostgreSQL at ${server} (user ${target.user || '(none)'}): unless PGPASSWORD or a .pgpass file supplies one, GPT-Load gets in only because the server asks for none (trust), and so does anyone who reaches it, with GPT-Load's keys. Set a password for the user, require it in pg_hba.conf (scram-sha-256), and write it into DATABASE_DSN (postgres://${target.user || 'user'}:PASSWORD@${server}/${target.database}).`,
          zh: `${where.zh}没有为 ${server} 上的 PostgreSQL（用户 ${target.user || '（无）'}）提供密码：除非 PGPASSWORD 或 .pgpass 文件提供了密码，GPT-Load 能登录只是因为服务器不要求密码（trust）——任何能连到它的人同样可以登录并拿到 GPT-Load 的密钥。请为该用户设置密码，在 pg_hba.conf 中要求密码（scram-sha-256），并写入 DATABASE_DSN（postgres://${target.user || 'user'}:PASSWORD@${server}/${target.database}）。`,
        };
  return finding('infrastructure', 'db-password-empty', 'warn', text, placeOf(dsn));
}

export function infrastructureFindings(inputs: AuditInputs): AuditFinding[] {
  const out: AuditFinding[] = [];
  const redis = setting(inputs, 'REDIS_DSN');
  if (!redis?.value) {
    out.push(finding('infrastructure', 'redis-no-password', 'pass', { en: 'REDIS_DSN is not set (GPT-Load keeps its cache in memory).', zh: '未设置 REDIS_DSN（GPT-Load 使用内存缓存）。' }));
  } else {
    const host = hostOf(redis.value);
    let password = '';
    try {
      password = new URL(redis.value).password;
    } catch {
      // Unparsable: GPT-Load's own start reports it.
    }
    const safe = password !== '' || host === null || isLoopback(host) || internalService(inputs, host);
    out.push(
      safe
        ? finding('infrastructure', 'redis-no-password', 'pass', { en: `Redis ${password ? 'requires a password' : `is reached on ${host} only`}.`, zh: `Redis ${password ? '需要密码' : `仅在 ${host} 上访问`}。` }, placeOf(redis))
        : finding('infrastructure', 'redis-no-password', 'fail', {
            en: `REDIS_DSN points at ${host} without a password: Redis holds GPT-Load's cache of keys. Set requirepass and put it in REDIS_DSN (redis://:PASSWORD@${host}:6379/0).`,
            zh: `REDIS_DSN 指向 ${host} 且没有密码：Redis 中有 GPT-Load 的密钥缓存。请设置 requirepass 并写入 REDIS_DSN（redis://:PASSWORD@${host}:6379/0）。`,
          }, placeOf(redis)),
    );
  }

  const dsn = setting(inputs, 'DATABASE_DSN');
  let target;
  try {
    target = resolveDsn(dsn?.value ?? '', inputs.deployment.envDir);
  } catch {
    target = null;
  }
  if (!target || target.kind === 'sqlite' || isLoopback(target.host) || internalService(inputs, target.host)) {
    out.push(finding('infrastructure', 'db-no-tls', 'pass', { en: 'The database is local (SQLite, loopback or the Compose network).', zh: '数据库在本地（SQLite、回环地址或 Compose 网络内）。' }, placeOf(dsn)));
  } else {
    const tls =
      target.kind === 'mysql'
        ? !['', 'false', '0'].includes((target.params.tls ?? '').toLowerCase())
        : ['require', 'verify-ca', 'verify-full'].includes(new URL(target.url).searchParams.get('sslmode') ?? '');
    out.push(
      tls
        ? finding('infrastructure', 'db-no-tls', 'pass', { en: `The connection to ${target.host} uses TLS.`, zh: `到 ${target.host} 的连接使用 TLS。` }, placeOf(dsn))
        : finding('infrastructure', 'db-no-tls', 'warn', {
            en: `DATABASE_DSN reaches ${target.host} without requiring TLS: keys and the password cross the network in clear. ${target.kind === 'mysql' ? 'Add tls=true (or a registered TLS config) to the DSN.' : 'Use sslmode=require (or verify-full).'}`,
            zh: `DATABASE_DSN 连接 ${target.host} 时未要求 TLS：密钥和密码以明文在网络上传输。${target.kind === 'mysql' ? '请在 DSN 中加入 tls=true（或已注册的 TLS 配置）。' : '请使用 sslmode=require（或 verify-full）。'}`,
          }, placeOf(dsn)),
    );
  }

  const emptyPassword = emptyDatabasePassword(target, dsn);
  if (emptyPassword) out.push(emptyPassword);

  const cors = setting(inputs, 'ENABLE_CORS');
  const origins = setting(inputs, 'ALLOWED_ORIGINS');
  const wildcard = cors?.value.toLowerCase() === 'true' && (origins?.value ?? '*').split(',').some((o) => o.trim() === '*');
  out.push(
    wildcard
      ? finding('infrastructure', 'cors-wildcard', 'warn', {
          en: 'CORS is enabled for every origin (ENABLE_CORS=true, ALLOWED_ORIGINS=*): any web page can call GPT-Load from a browser that holds a key. List your origins in ALLOWED_ORIGINS, or set ENABLE_CORS=false.',
          zh: '已为所有来源启用 CORS（ENABLE_CORS=true，ALLOWED_ORIGINS=*）：任何网页都可以从持有密钥的浏览器调用 GPT-Load。请在 ALLOWED_ORIGINS 中列出你的来源，或设置 ENABLE_CORS=false。',
        }, placeOf(origins ?? cors))
      : finding('infrastructure', 'cors-wildcard', 'pass', { en: cors?.value.toLowerCase() === 'true' ? `CORS is limited to ${origins?.value}.` : 'CORS is off.', zh: cors?.value.toLowerCase() === 'true' ? `CORS 仅限 ${origins?.value}。` : 'CORS 已关闭。' }, placeOf(origins ?? cors)),
  );
  return out;
}
