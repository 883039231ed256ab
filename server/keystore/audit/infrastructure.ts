/** Redis with a password off loopback, the database over TLS when remote, CORS not open to every origin. */
import { resolveDsn } from '../../store/dsn';
import { finding, type AuditFinding } from './findings';
import { isLoopback, placeOf, setting, type AuditInputs } from './inputs';

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
