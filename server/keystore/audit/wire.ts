/** An audit as `audit --json` prints it and the daemon returns it: messages in one language, counts per item. */
import { localize, type Lang } from '../../core/errors';
import type { AuditResult } from '../../../shared/types';
import { AUDIT_ITEM_TITLES, AUDIT_ITEMS, countBySeverity, type AuditReport } from './findings';

export function auditResult(report: AuditReport, lang: Lang): AuditResult {
  return {
    findings: report.findings.map(({ code, severity, item, text, file, line, fix }) => ({ code, severity, item, message: localize(text, lang), ...(file ? { file } : {}), ...(line ? { line } : {}), ...(fix ? { fix } : {}) })),
    summary: countBySeverity(report.findings),
    items: Object.fromEntries(AUDIT_ITEMS.map((item) => [item, { title: localize(AUDIT_ITEM_TITLES[item], lang), ...countBySeverity(report.findings.filter((f) => f.item === item)) }])),
    envPath: report.envPath,
    sources: report.sources,
  };
}
