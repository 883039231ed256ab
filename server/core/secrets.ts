/**
 * Secrets as GPT-Load judges them (its dashboard's security warnings and migrate-keys' weak-key
 * warning, rule for rule), strong AUTH_KEY generation, and masking for display.
 */
import { randomInt } from 'node:crypto';
import { KeystoreError, type Localized } from './errors';

type Severity = 'high' | 'medium';

export type SecretName = 'AUTH_KEY' | 'ENCRYPTION_KEY' | 'proxy key';

export interface SecretWarning {
  code: 'secret-missing' | 'secret-too-short' | 'secret-short' | 'secret-weak-pattern' | 'secret-low-complexity';
  severity: Severity;
  text: Localized;
  /** The weak pattern found (secret-weak-pattern). */
  pattern?: string;
  /** Length in bytes, as GPT-Load counts it (secret-too-short, secret-short). */
  length?: number;
}

/** The dashboard's list, in its order: only the first one found is reported. */
const DASHBOARD_WEAK_PATTERNS = [
  'password', '123456', 'admin', 'secret', 'test', 'demo', 'sk-123456', 'key', 'token', 'pass', 'pwd', 'qwerty',
  'abc', 'default', 'user', 'login', 'auth', 'temp',
] as const;

/** migrate-keys' shorter list (utils.ValidatePasswordStrength). */
const MIGRATE_WEAK_PATTERNS = ['password', 'sk-123456', '123456', 'admin', 'secret'] as const;

/** Go's len(): UTF-8 bytes. */
export function goLength(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

/** Go's strings.ToLower, which maps per code point (İ → i, unlike JavaScript's i̇). */
function goLower(value: string): string {
  let out = '';
  for (const ch of value) out += ch === '\u0130' ? 'i' : ch.toLowerCase();
  return out;
}

/** At least three of: ASCII upper, ASCII lower, ASCII digit, anything else. */
function hasGoodComplexity(value: string): boolean {
  let upper = false;
  let lower = false;
  let digit = false;
  let other = false;
  for (const ch of value) {
    if (ch >= 'A' && ch <= 'Z') upper = true;
    else if (ch >= 'a' && ch <= 'z') lower = true;
    else if (ch >= '0' && ch <= '9') digit = true;
    else other = true;
  }
  return [upper, lower, digit, other].filter(Boolean).length >= 3;
}

function displayName(name: SecretName): Localized {
  return name === 'proxy key' ? { en: 'Proxy key', zh: '代理密钥' } : { en: name, zh: name };
}

/**
 * GPT-Load's dashboard verdict on one secret (handler/dashboard_handler.go): missing → high; under
 * 16 bytes → high, under 32 → medium; the first weak pattern contained (case-insensitive) → high;
 * 16+ bytes with fewer than 3 character classes → medium. Wording as the dashboard's en-US/zh-CN.
 * An empty proxy key is skipped by GPT-Load, so it gives no warning here either.
 */
export function assessSecret(value: string, name: SecretName): SecretWarning[] {
  const n = displayName(name);
  if (value === '') {
    if (name === 'AUTH_KEY') {
      return [{ code: 'secret-missing', severity: 'high', text: { en: 'AUTH_KEY is not set, system cannot function properly', zh: 'AUTH_KEY未设置，系统无法正常工作' } }];
    }
    if (name === 'ENCRYPTION_KEY') {
      return [
        {
          code: 'secret-missing',
          severity: 'high',
          text: { en: 'ENCRYPTION_KEY is not set, sensitive data will be stored in plain text', zh: '未设置ENCRYPTION_KEY，敏感数据将明文存储' },
        },
      ];
    }
    return [];
  }
  const warnings: SecretWarning[] = [];
  const length = goLength(value);
  if (length < 16) {
    warnings.push({
      code: 'secret-too-short',
      severity: 'high',
      length,
      text: {
        en: `${n.en} is too short (${length} characters), recommend at least 16 characters`,
        zh: `${n.zh}长度不足（${length}字符），建议至少16字符`,
      },
    });
  } else if (length < 32) {
    warnings.push({
      code: 'secret-short',
      severity: 'medium',
      length,
      text: { en: `${n.en} is short (${length} characters), recommend 32+ characters`, zh: `${n.zh}长度偏短（${length}字符），建议32字符以上` },
    });
  }
  const lower = goLower(value);
  const pattern = DASHBOARD_WEAK_PATTERNS.find((p) => lower.includes(p));
  if (pattern !== undefined) {
    warnings.push({
      code: 'secret-weak-pattern',
      severity: 'high',
      pattern,
      text: { en: `${n.en} contains common weak password patterns: ${pattern}`, zh: `${n.zh}包含常见弱密码模式：${pattern}` },
    });
  }
  if (length >= 16 && !hasGoodComplexity(value)) {
    warnings.push({
      code: 'secret-low-complexity',
      severity: 'medium',
      text: {
        en: `${n.en} has low complexity, missing combination of upper/lowercase, numbers, or special characters`,
        zh: `${n.zh}复杂度不足，缺少大小写字母、数字或特殊字符的组合`,
      },
    });
  }
  return warnings;
}

/**
 * What `gpt-load migrate-keys` warns about a new ENCRYPTION_KEY: shorter than 16 (bytes, Go's len)
 * or containing password, sk-123456, 123456, admin or secret (case-insensitive). It only warns.
 */
export function weakNewKeyWarnings(key: string): Localized[] {
  const warnings: Localized[] = [];
  if (goLength(key) < 16) {
    warnings.push({
      en: 'new encryption key is shorter than 16 characters, consider using a longer password',
      zh: '新的加密密钥短于16个字符，建议使用更长的密钥',
    });
  }
  const lower = goLower(key);
  if (MIGRATE_WEAK_PATTERNS.some((p) => lower.includes(p))) {
    warnings.push({
      en: 'new encryption key contains common weak patterns, consider using a stronger password',
      zh: '新的加密密钥包含常见的弱密码模式，建议使用更强的密钥',
    });
  }
  return warnings;
}

/**
 * Letters, digits and `-_.`: URL-unreserved (GPT-Load copies AUTH_KEY into proxy_keys, which
 * clients may send as `?key=`), no comma (proxy_keys is comma-separated), and nothing godotenv,
 * Docker Compose or a shell treats specially: no $ # ' " ` \ ~ ! or whitespace.
 */
export const SAFE_SECRET_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';

export const MIN_SECRET_LENGTH = 16;
export const MAX_SECRET_LENGTH = 1024;
export const DEFAULT_SECRET_LENGTH = 32;

/**
 * A uniformly random secret over SAFE_SECRET_ALPHABET (crypto.randomInt per character), drawn
 * again until GPT-Load finds no weak pattern and enough complexity in it, and it does not start
 * with "-" (it would read as a flag on a command line). From 32 characters on, assessSecret has
 * nothing to say about it; 16–31 are allowed but GPT-Load calls them short.
 */
export function generateSecret(length: number = DEFAULT_SECRET_LENGTH): string {
  if (!Number.isInteger(length) || length < MIN_SECRET_LENGTH || length > MAX_SECRET_LENGTH) {
    throw new KeystoreError('usage', {
      en: `a secret must be ${MIN_SECRET_LENGTH} to ${MAX_SECRET_LENGTH} characters long (GPT-Load calls anything under 16 too short; 32+ recommended)`,
      zh: `密钥长度须为 ${MIN_SECRET_LENGTH} 到 ${MAX_SECRET_LENGTH} 个字符（GPT-Load 认为少于 16 个字符过短，建议 32 个以上）`,
    });
  }
  for (;;) {
    let secret = '';
    for (let i = 0; i < length; i++) secret += SAFE_SECRET_ALPHABET[randomInt(SAFE_SECRET_ALPHABET.length)];
    if (secret.startsWith('-')) continue;
    const flaws = assessSecret(secret, 'AUTH_KEY').filter((w) => w.code !== 'secret-short');
    if (flaws.length === 0) return secret;
  }
}

/**
 * A display form that never reveals the secret: the length in characters, plus the first and last
 * 4 characters from 32 characters on, 2 from 16 on, none below (e.g. `sk-a…(51)…9xQz`, `…(12)…`).
 */
export function maskSecret(value: string): string {
  // Counted in characters, not UTF-16 units: only a string with surrogate pairs needs splitting.
  const chars = /[\ud800-\udfff]/.test(value) ? Array.from(value) : null;
  const n = chars ? chars.length : value.length;
  if (n === 0) return '(empty)';
  const keep = n >= 32 ? 4 : n >= 16 ? 2 : 0;
  if (keep === 0) return `…(${n})…`;
  const head = chars ? chars.slice(0, keep).join('') : value.slice(0, keep);
  const tail = chars ? chars.slice(n - keep).join('') : value.slice(n - keep);
  return `${head}…(${n})…${tail}`;
}
