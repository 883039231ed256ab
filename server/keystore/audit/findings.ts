/**
 * What `audit` reports: one finding per check (or per place a check failed), each under one item of
 * GPT-Load's security best-practice list, with a stable code, a severity and what to do next.
 * Messages never hold a secret: masked values, counts, file names and lines only.
 */
import type { Localized } from '../../core/errors';
import type { AuditSeverity } from '../../../shared/types';

// The severities are the wire contract's (shared/types.ts).
export type { AuditSeverity };

/** The items of GPT-Load's security page best-practice list, in its order (ours: the last one). */
export const AUDIT_ITEMS = ['auth-key', 'encryption', 'backups', 'env', 'https', 'admin-access', 'logins', 'infrastructure'] as const;
export type AuditItem = (typeof AUDIT_ITEMS)[number];

export const AUDIT_ITEM_TITLES: Record<AuditItem, Localized> = {
  'auth-key': { en: 'Strong AUTH_KEY, rotated every 3–6 months', zh: '使用强 AUTH_KEY，每 3–6 个月更换一次' },
  encryption: { en: 'ENCRYPTION_KEY set, kept safe in several places', zh: '设置 ENCRYPTION_KEY，并在多处安全保存' },
  backups: { en: 'Regular backups', zh: '定期备份' },
  env: { en: 'Secrets in environment variables, never hard-coded', zh: '敏感信息使用环境变量，不要硬编码' },
  https: { en: 'HTTPS in production', zh: '生产环境使用 HTTPS' },
  'admin-access': { en: 'Admin UI limited by IP (firewall or reverse proxy)', zh: '通过防火墙或反向代理限制管理界面的访问 IP' },
  logins: { en: 'Login logs watched for abnormal access', zh: '监控登录日志，发现异常访问' },
  infrastructure: { en: 'Redis, database and CORS', zh: 'Redis、数据库与 CORS' },
};

/** Commands that fix a finding (the CLI names them; the extension offers the matching command). */
type AuditFix = 'rotate-auth-key' | 'redact-logs' | 'migrate-keys' | 'backup-create' | 'save-key-copy' | 'proxy-keys-remove';

export interface AuditFinding {
  code: string;
  severity: AuditSeverity;
  item: AuditItem;
  /** Why, and the one next step. */
  text: Localized;
  /** Where it was found (absolute path) and its 1-based line. */
  file?: string;
  line?: number;
  fix?: AuditFix;
}

export function finding(item: AuditItem, code: string, severity: AuditSeverity, text: Localized, where: Partial<Pick<AuditFinding, 'file' | 'line' | 'fix'>> = {}): AuditFinding {
  return { code, severity, item, text, ...where };
}

/** Findings of one audit, with counts per item and severity. */
export interface AuditReport {
  envPath: string;
  findings: AuditFinding[];
  /** What was read: the files behind the findings (proxy configs, logs, Compose files). */
  sources: { compose: string[]; proxyConfigs: string[]; logs: string[]; accessLogs: string[] };
}

export function countBySeverity(findings: readonly AuditFinding[]): Record<AuditSeverity, number> {
  const counts: Record<AuditSeverity, number> = { pass: 0, warn: 0, fail: 0, unknown: 0 };
  for (const f of findings) counts[f.severity]++;
  return counts;
}

/** 0 when nothing warns or fails. */
export function auditExitCode(findings: readonly AuditFinding[]): number {
  return findings.some((f) => f.severity === 'warn' || f.severity === 'fail') ? 1 : 0;
}
