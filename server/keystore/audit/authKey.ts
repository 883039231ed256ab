/** AUTH_KEY: set, strong by GPT-Load's own rules, rotated within 90 days, not also a proxy key. */
import type { Localized } from '../../core/errors';
import { assessSecret, type SecretWarning } from '../../core/secrets';
import { findProxyKeyUses } from '../proxyKeys';
import { finding, type AuditFinding, type AuditSeverity } from './findings';
import { placeOf, setting, type AuditInputs } from './inputs';
import { lastEntryFor } from './record';

const ROTATION_DAYS = 90;
const DAY_MS = 86_400_000;

/** GPT-Load's dashboard warnings on a secret as one finding: high → fail, medium → warn. */
export function strengthFinding(item: AuditFinding['item'], code: string, warnings: SecretWarning[], pass: Localized, where: Partial<AuditFinding>): AuditFinding {
  if (warnings.length === 0) return finding(item, code, 'pass', pass, where);
  const severity: AuditSeverity = warnings.some((w) => w.severity === 'high') ? 'fail' : 'warn';
  return finding(item, code, severity, { en: warnings.map((w) => w.text.en).join('; '), zh: warnings.map((w) => w.text.zh).join('；') }, where);
}

export async function authKeyFindings(inputs: AuditInputs): Promise<AuditFinding[]> {
  const auth = setting(inputs, 'AUTH_KEY');
  const where = placeOf(auth);
  if (!auth || auth.value === '') {
    return [
      finding('auth-key', 'auth-key-missing', 'fail', {
        en: 'AUTH_KEY is not set: GPT-Load refuses to start without it. Set a strong one: gpt-load-keystore rotate-auth-key',
        zh: '未设置 AUTH_KEY：没有它 GPT-Load 无法启动。请设置一个强密钥：gpt-load-keystore rotate-auth-key',
      }, { ...where, fix: 'rotate-auth-key' }),
    ];
  }
  const key = auth.value;
  // Its length only: even a few characters of the admin key are more than a report needs.
  const length = [...key].length;
  const out = [finding('auth-key', 'auth-key-missing', 'pass', { en: `AUTH_KEY is set (${length} characters).`, zh: `已设置 AUTH_KEY（${length} 个字符）。` }, where)];
  const weak = strengthFinding('auth-key', 'auth-key-weak', assessSecret(key, 'AUTH_KEY'), { en: 'AUTH_KEY passes GPT-Load\'s strength checks.', zh: 'AUTH_KEY 通过了 GPT-Load 的强度检查。' }, where);
  if (weak.severity !== 'pass') {
    weak.fix = 'rotate-auth-key';
    weak.text = { en: `${weak.text.en}. Replace it: gpt-load-keystore rotate-auth-key`, zh: `${weak.text.zh}。请更换：gpt-load-keystore rotate-auth-key` };
  }
  out.push(weak);

  const rotated = lastEntryFor(inputs.record.authKeyRotations, key);
  if (!rotated) {
    out.push(
      finding('auth-key', 'auth-key-age-unknown', 'unknown', {
        en: `No rotation of this AUTH_KEY on record (.gpt-load-keystore.json beside .env): GPT-Load recommends rotating it every 3–6 months. gpt-load-keystore rotate-auth-key records the date.`,
        zh: `没有此 AUTH_KEY 的更换记录（.env 旁的 .gpt-load-keystore.json）：GPT-Load 建议每 3–6 个月更换一次。gpt-load-keystore rotate-auth-key 会记录日期。`,
      }, { ...where, fix: 'rotate-auth-key' }),
    );
  } else {
    const days = Math.floor((inputs.now.getTime() - Date.parse(rotated.date)) / DAY_MS);
    const date = rotated.date.slice(0, 10);
    out.push(
      days > ROTATION_DAYS
        ? finding('auth-key', 'auth-key-stale', 'warn', {
            en: `AUTH_KEY was last rotated on ${date}, ${days} days ago (more than ${ROTATION_DAYS}): rotate it: gpt-load-keystore rotate-auth-key`,
            zh: `AUTH_KEY 上次更换于 ${date}，已过 ${days} 天（超过 ${ROTATION_DAYS} 天）：请更换：gpt-load-keystore rotate-auth-key`,
          }, { ...where, fix: 'rotate-auth-key' })
        : finding('auth-key', 'auth-key-stale', 'pass', { en: `AUTH_KEY was rotated on ${date} (${days} days ago).`, zh: `AUTH_KEY 于 ${date} 更换（${days} 天前）。` }, where),
    );
  }

  if (!inputs.store) {
    out.push(finding('auth-key', 'auth-key-is-proxy-key', 'unknown', { en: `Not checked whether AUTH_KEY is also a proxy key: ${inputs.storeProblem?.en ?? 'no database'}`, zh: `未检查 AUTH_KEY 是否同时是代理密钥：${inputs.storeProblem?.zh ?? '无数据库'}` }));
    return out;
  }
  const uses = await findProxyKeyUses(inputs.store, key);
  const places = [...(uses.settings > 0 ? ['system_settings'] : []), ...uses.groups.map((g) => `group ${g.name}`)];
  out.push(
    places.length > 0
      ? finding('auth-key', 'auth-key-is-proxy-key', 'warn', {
          en: `AUTH_KEY is also a valid proxy key (${places.join(', ')}): GPT-Load copied it there on first start, so every client given it holds the admin key. Rotate AUTH_KEY (rotate-auth-key removes the old one there) or remove it: gpt-load-keystore proxy-keys remove`,
          zh: `AUTH_KEY 同时是有效的代理密钥（${places.join('、')}）：GPT-Load 首次启动时把它复制到了那里，拿到它的客户端都持有管理密钥。请更换 AUTH_KEY（rotate-auth-key 会从那里删除旧密钥）或删除它：gpt-load-keystore proxy-keys remove`,
        }, { fix: 'rotate-auth-key' })
      : finding('auth-key', 'auth-key-is-proxy-key', 'pass', { en: 'AUTH_KEY is not among the stored proxy keys.', zh: 'AUTH_KEY 不在已存储的代理密钥中。' }),
  );
  return out;
}
