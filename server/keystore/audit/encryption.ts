/**
 * ENCRYPTION_KEY and the data: keys encrypted under a strong key that matches the data, copies of
 * the key checked, and no key material where GPT-Load leaves it in plaintext — a leftover
 * `temp_migration`, upstream keys in `request_logs.error_message`, credentials in group settings.
 */
import { codecFor, keyFingerprint } from '../../core/crypto';
import { assessSecret, maskSecret } from '../../core/secrets';
import type { Store } from '../../store/connect';
import { describeTempMigration, findTempMigration } from '../history/tempMigration';
import { readStatusSummary } from '../status';
import { strengthFinding } from './authKey';
import { finding, type AuditFinding } from './findings';
import { placeOf, setting, type AuditInputs } from './inputs';
import { lastEntryFor } from './record';

const COPY_CHECK_DAYS = 90;

export async function encryptionFindings(inputs: AuditInputs): Promise<AuditFinding[]> {
  const configured = setting(inputs, 'ENCRYPTION_KEY');
  const key = configured?.value ?? '';
  const where = placeOf(configured);
  const out: AuditFinding[] = [];
  const store = inputs.store;
  const summary = store ? await readStatusSummary(store, { codec: codecFor(key), skipLogs: true }) : null;
  const verdict = summary?.dashboard.verdict ?? null;

  if (key === '') {
    out.push(
      verdict === 'key_not_configured'
        ? finding('encryption', 'encryption-mismatch', 'fail', {
            en: 'The stored keys are encrypted but ENCRYPTION_KEY is not set: GPT-Load cannot use them. Set the key they were encrypted with.',
            zh: '存储的密钥已加密，但未设置 ENCRYPTION_KEY：GPT-Load 无法使用它们。请设置加密它们时使用的密钥。',
          }, where)
        : finding('encryption', 'data-not-encrypted', 'fail', {
            en: 'ENCRYPTION_KEY is not set: the upstream API keys are stored in plaintext. Encrypt them: gpt-load-keystore migrate-keys --generate --update-env (a strong key is generated, shown once and written to .env).',
            zh: '未设置 ENCRYPTION_KEY：上游 API 密钥以明文存储。请加密：gpt-load-keystore migrate-keys --generate --update-env（生成强密钥，只显示一次，并写入 .env）。',
          }, { ...where, fix: 'migrate-keys' }),
    );
    return [...out, ...(await storedSecretFindings(inputs))];
  }

  out.push(strengthFinding('encryption', 'encryption-key-weak', assessSecret(key, 'ENCRYPTION_KEY'), { en: `ENCRYPTION_KEY (fingerprint ${keyFingerprint(key)}) passes GPT-Load's strength checks.`, zh: `ENCRYPTION_KEY（指纹 ${keyFingerprint(key)}）通过了 GPT-Load 的强度检查。` }, where));
  if (!summary) {
    const why = inputs.storeProblem ?? { en: 'no database', zh: '无数据库' };
    out.push(finding('encryption', 'data-not-encrypted', 'unknown', { en: `The stored keys were not checked: ${why.en}`, zh: `未检查存储的密钥：${why.zh}` }));
  } else if (verdict === 'data_not_encrypted') {
    out.push(
      finding('encryption', 'data-not-encrypted', 'fail', {
        en: "ENCRYPTION_KEY is set, but GPT-Load's dashboard sample shows the stored keys in plaintext: encrypt them: gpt-load-keystore migrate-keys --to",
        zh: 'ENCRYPTION_KEY 已设置，但 GPT-Load 仪表盘抽样显示存储的密钥为明文：请加密：gpt-load-keystore migrate-keys --to',
      }, { ...where, fix: 'migrate-keys' }),
    );
  } else if (verdict === 'key_mismatch') {
    out.push(
      finding('encryption', 'encryption-mismatch', 'fail', {
        en: 'ENCRYPTION_KEY does not open the stored keys (wrong key): GPT-Load shows them as failed-to-decrypt. Restore the right key (gpt-load-keystore keys check-copies tests your copies).',
        zh: 'ENCRYPTION_KEY 无法解密存储的密钥（密钥错误）：GPT-Load 会显示 failed-to-decrypt。请恢复正确的密钥（gpt-load-keystore keys check-copies 可测试副本）。',
      }, where),
    );
  } else {
    out.push(finding('encryption', 'data-not-encrypted', 'pass', { en: `The stored keys are encrypted (sample of ${summary.dashboard.sampled}).`, zh: `存储的密钥已加密（抽样 ${summary.dashboard.sampled} 个）。` }));
    out.push(finding('encryption', 'encryption-mismatch', 'pass', { en: 'ENCRYPTION_KEY opens the stored keys.', zh: 'ENCRYPTION_KEY 可解密存储的密钥。' }));
  }

  const checked = lastEntryFor(inputs.record.encryptionKeyChecks, key);
  const days = checked ? Math.floor((inputs.now.getTime() - Date.parse(checked.date)) / 86_400_000) : null;
  out.push(
    days === null || days > COPY_CHECK_DAYS
      ? finding('encryption', 'encryption-key-copies', 'warn', {
          en: `${checked ? `Copies of this ENCRYPTION_KEY were last checked ${days} days ago` : 'No checked copy of this ENCRYPTION_KEY on record'}: a lost key makes every stored key unrecoverable, backups included. Keep copies in several safe places and check them: gpt-load-keystore keys check-copies`,
          zh: `${checked ? `此 ENCRYPTION_KEY 的副本上次检查于 ${days} 天前` : '没有此 ENCRYPTION_KEY 已检查副本的记录'}：密钥丢失会使所有存储的密钥（包括备份）无法恢复。请在多处安全保存副本并检查：gpt-load-keystore keys check-copies`,
        }, { fix: 'save-key-copy' })
      : finding('encryption', 'encryption-key-copies', 'pass', { en: `A copy of ENCRYPTION_KEY was checked on ${checked!.date.slice(0, 10)}.`, zh: `ENCRYPTION_KEY 的副本已于 ${checked!.date.slice(0, 10)} 检查。` }),
  );
  return [...out, ...(await storedSecretFindings(inputs))];
}

/** Key material GPT-Load stores in plaintext whatever ENCRYPTION_KEY says. */
async function storedSecretFindings(inputs: AuditInputs): Promise<AuditFinding[]> {
  const store = inputs.store;
  if (!store) {
    const why = inputs.storeProblem ?? { en: 'no database', zh: '无数据库' };
    return ['plaintext-leftover', 'key-in-logs', 'secret-in-group-config'].map((code) =>
      finding('encryption', code, 'unknown', { en: `Not checked: ${why.en}`, zh: `未检查：${why.zh}` }),
    );
  }
  return [await leftoverFinding(store), await keyInLogsFinding(store), ...(await groupConfigFindings(store))];
}

/** temp_migration as status reports it (history/tempMigration.ts is its one home). */
async function leftoverFinding(store: Store): Promise<AuditFinding> {
  const leftover = await findTempMigration(store);
  if (!leftover) {
    return finding('encryption', 'plaintext-leftover', 'pass', { en: 'No leftover temp_migration table.', zh: '没有残留的 temp_migration 表。' });
  }
  const what = describeTempMigration(leftover);
  return finding(
    'encryption',
    'plaintext-leftover',
    'fail',
    {
      en: `${what.en}; api_keys does not need it. gpt-load-keystore redact-logs (or the next migrate-keys) drops it.`,
      zh: `${what.zh}；api_keys 不需要它。gpt-load-keystore redact-logs（或下一次 migrate-keys）会删除它。`,
    },
    { fix: 'redact-logs' },
  );
}

/**
 * Upstream keys as they appear in stored error texts: Gemini's `?key=AIza…` in URLs, OpenAI /
 * Anthropic `sk-…`. A key GPT-Load ≥ 1.4.9 masked (`AIza****abcd`) does not match.
 */
const KEY_IN_TEXT = /AIza[0-9A-Za-z_-]{35}|\bsk-[A-Za-z0-9_-]{20,}|[?&]key=[A-Za-z0-9_-]{20,}/;
const SCAN_BATCH = 2000;

async function keyInLogsFinding(store: Store): Promise<AuditFinding> {
  const prefilter = `(error_message LIKE '%AIza%' OR error_message LIKE '%sk-%' OR error_message LIKE '%key=%')`;
  let after = '';
  let rows = 0;
  const ids: string[] = [];
  for (;;) {
    const batch = await store.query<{ id: unknown; error_message: unknown }>(
      `SELECT id, error_message FROM request_logs WHERE ${prefilter} AND id > ${store.p(1)} ORDER BY id LIMIT ${store.p(2)}`,
      [after, SCAN_BATCH],
    );
    for (const r of batch) {
      if (KEY_IN_TEXT.test(String(r.error_message ?? ''))) {
        rows++;
        if (ids.length < 3) ids.push(String(r.id));
      }
    }
    if (batch.length < SCAN_BATCH) break;
    after = String(batch[batch.length - 1].id);
  }
  if (rows === 0) return finding('encryption', 'key-in-logs', 'pass', { en: 'No unmasked upstream key in request_logs.error_message.', zh: 'request_logs.error_message 中没有未打码的上游密钥。' });
  return finding('encryption', 'key-in-logs', 'fail', {
    en: `${rows} request_logs row(s) hold an upstream key in error_message in plaintext (GPT-Load before 1.4.9 stored full upstream URLs; e.g. ids ${ids.join(', ')}): mask them: gpt-load-keystore redact-logs`,
    zh: `${rows} 行 request_logs 的 error_message 中有明文上游密钥（GPT-Load 1.4.9 之前会存储完整的上游 URL；例如 id ${ids.join('、')}）：请打码：gpt-load-keystore redact-logs`,
  }, { fix: 'redact-logs' });
}

const SECRET_HEADER = /authorization|api[-_]?key|token|secret|cookie|password/i;

function parseJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return null;
  }
}

/** `user:password@` in a URL, or a `key=` / `token=` query value: the secret part, or null. */
function urlSecret(url: string): string | null {
  const credentials = /^[a-z][a-z0-9+.-]*:\/\/([^@/\s]+)@/i.exec(url)?.[1];
  if (credentials?.includes(':')) return credentials.slice(credentials.indexOf(':') + 1);
  return /[?&](?:key|api_key|apikey|token|access_token)=([^&\s]+)/i.exec(url)?.[1] ?? null;
}

async function groupConfigFindings(store: Store): Promise<AuditFinding[]> {
  const groups = await store.query<Record<string, unknown>>(`SELECT * FROM ${store.q('groups')} ORDER BY id`);
  const found: string[] = [];
  for (const g of groups) {
    const name = String(g.name);
    const rules = parseJson(g.header_rules);
    if (Array.isArray(rules)) {
      for (const rule of rules as Array<{ key?: unknown; value?: unknown; action?: unknown }>) {
        if (typeof rule?.key === 'string' && SECRET_HEADER.test(rule.key) && typeof rule.value === 'string' && rule.value !== '' && rule.action !== 'remove') {
          found.push(`${name}: header_rules ${rule.key} ${maskSecret(rule.value)}`);
        }
      }
    }
    const upstreams = parseJson(g.upstreams);
    if (Array.isArray(upstreams)) {
      for (const u of upstreams as Array<{ url?: unknown }>) {
        const secret = typeof u?.url === 'string' ? urlSecret(u.url) : null;
        if (secret) found.push(`${name}: upstreams ${maskSecret(secret)}`);
      }
    }
    const config = parseJson(g.config) as { proxy_url?: unknown } | null;
    const proxyUrl = typeof g.proxy_url === 'string' ? g.proxy_url : typeof config?.proxy_url === 'string' ? config.proxy_url : '';
    const secret = proxyUrl ? urlSecret(proxyUrl) : null;
    if (secret) found.push(`${name}: proxy_url ${maskSecret(secret)}`);
  }
  if (found.length === 0) return [finding('encryption', 'secret-in-group-config', 'pass', { en: 'No credentials in group header rules, upstreams or proxy URLs.', zh: '分组的请求头规则、上游地址和代理 URL 中没有凭据。' })];
  return [
    finding('encryption', 'secret-in-group-config', 'warn', {
      en: `Credentials stored in plaintext in group settings (ENCRYPTION_KEY does not cover them): ${found.join('; ')}. Keep these out of the database where you can, and rotate them if the database or its backups were exposed.`,
      zh: `分组设置中以明文存储了凭据（ENCRYPTION_KEY 不覆盖它们）：${found.join('；')}。尽量不要把它们存入数据库；若数据库或其备份曾泄露，请更换它们。`,
    }),
  ];
}
