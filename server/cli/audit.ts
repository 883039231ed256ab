import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { KeystoreError, localize, type Lang } from '../core/errors';
import { openStore } from '../store/connect';
import { AUDIT_ITEM_TITLES, AUDIT_ITEMS, auditExitCode, countBySeverity, type AuditFinding, type AuditReport, type AuditSeverity } from '../keystore/audit/findings';
import { DEFAULT_BURST } from '../keystore/audit/logins';
import { fileSource, runAudit } from '../keystore/audit/runAudit';
import { auditResult } from '../keystore/audit/wire';
import type { CliCommand, CliIO, ParsedArgs } from './command';
import { DEPLOYMENT_HELP, DEPLOYMENT_OPTIONS, deploymentOf, flag, positiveInt, str, writeJson } from './options';

const MARK: Record<AuditSeverity, string> = { pass: '✓', warn: '!', fail: '✗', unknown: '?' };
const SEVERITY_TEXT: Record<AuditSeverity, { en: string; zh: string }> = {
  pass: { en: 'pass', zh: '通过' },
  warn: { en: 'warn', zh: '警告' },
  fail: { en: 'fail', zh: '失败' },
  unknown: { en: 'unknown', zh: '未知' },
};

function counts(findings: readonly AuditFinding[], lang: Lang): string {
  const c = countBySeverity(findings);
  return (Object.keys(c) as AuditSeverity[])
    .filter((s) => c[s] > 0)
    .map((s) => `${c[s]} ${localize(SEVERITY_TEXT[s], lang)}`)
    .join(', ');
}

function formatAudit(report: AuditReport, lang: Lang): string {
  const lines = [`${localize({ en: 'GPT-Load security audit', zh: 'GPT-Load 安全检查' }, lang)} — ${report.envPath}`, ''];
  for (const item of AUDIT_ITEMS) {
    const findings = report.findings.filter((f) => f.item === item);
    if (findings.length === 0) continue;
    lines.push(`${localize(AUDIT_ITEM_TITLES[item], lang)}  (${counts(findings, lang)})`);
    for (const f of findings) {
      lines.push(`  ${MARK[f.severity]} ${localize(SEVERITY_TEXT[f.severity], lang).padEnd(lang === 'zh-CN' ? 2 : 7)} ${f.code}: ${localize(f.text, lang)}`);
      if (f.file) lines.push(`      ${f.file}${f.line ? `:${f.line}` : ''}`);
    }
    lines.push('');
  }
  lines.push(`${localize({ en: 'Summary', zh: '汇总' }, lang)}: ${counts(report.findings, lang)}`);
  return lines.join('\n') + '\n';
}

function list(args: ParsedArgs, name: string): string[] {
  const v = args.values[name];
  return Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? [v] : [];
}

/** The files a repeatable flag names, resolved; one that is not a readable file is a usage error naming it. */
function files(args: ParsedArgs, name: string, io: CliIO): string[] {
  return list(args, name)
    .filter((n) => n !== '-')
    .map((n) => {
      const path = resolve(io.cwd, n);
      let isFile = false;
      try {
        isFile = statSync(path).isFile();
      } catch {
        // reported below
      }
      if (!isFile) throw new KeystoreError('usage', { en: `--${name} ${n}: no such file`, zh: `--${name} ${n}：文件不存在` });
      return path;
    });
}

function logSources(args: ParsedArgs, name: string, io: CliIO) {
  const names = list(args, name);
  if (names.filter((n) => n === '-').length > 1 || (name === 'access-log' && names.includes('-') && list(args, 'log').includes('-'))) {
    throw new KeystoreError('usage', { en: 'only one log can be read from stdin (-)', zh: '只能从标准输入（-）读取一个日志' });
  }
  const paths = files(args, name, io);
  return [...(names.includes('-') ? [{ name: 'stdin', open: () => io.stdin }] : []), ...paths.map(fileSource)];
}

export const auditCommand: CliCommand = {
  name: 'audit',
  summary: "check the deployment against GPT-Load's security best practices (HTTPS, IP limits, logins, secrets)",
  help: `Usage: gpt-load-keystore audit [--env FILE] [--compose FILE] [--log FILE|-] [--access-log FILE]
                              [--proxy-config FILE]... [--json]

Checks GPT-Load's security best-practice list on this deployment and prints a checklist under its
headings: AUTH_KEY (set, strong, rotated within 90 days, not a proxy key), ENCRYPTION_KEY and the
data (encrypted, right key, checked copies, no plaintext leftovers), backups, secrets kept out of
Compose files and git, HTTPS and admin IP limits at the reverse proxy (nginx, Caddy, Traefik
labels), failed logins in GPT-Load's log, Redis / database (TLS, a password) / CORS. Each item is
pass, warn, fail or unknown, with what to do. Read-only; secrets are shown masked at most.

Options:
  --compose FILE        Docker Compose file (default: docker-compose.yml / compose.yaml beside .env)
  --log FILE|-          GPT-Load's log (text, JSON or \`docker compose logs\` output; - = stdin).
                        Default: LOG_FILE_PATH (./data/logs/app.log) when it exists. Repeatable.
  --access-log FILE     a reverse proxy's access log (nginx combined, Caddy JSON): client IPs. Repeatable.
  --proxy-config FILE   nginx or Caddy configuration (repeatable); those in the deployment folder
                        are found on their own
  --burst-count N       failures that make a burst (default ${DEFAULT_BURST.count})
  --burst-minutes M     … within this many minutes (default ${DEFAULT_BURST.minutes})
  --backups DIR         backups folder (default backups/ beside .env)
  --max-age DAYS        a backup older than this is stale (default 7)
  --json                {"findings":[{"code","severity","item","message","file"?,"line"?}], …}
${DEPLOYMENT_HELP}

Exit codes: 0 nothing warns or fails, 1 something does, 2 usage, 3 .env unreadable.

Examples:
  gpt-load-keystore audit --env /srv/gpt-load/.env --proxy-config /etc/nginx/nginx.conf
  docker compose logs gpt-load | gpt-load-keystore audit --log - --access-log /var/log/nginx/access.log`,
  options: {
    ...DEPLOYMENT_OPTIONS,
    compose: { type: 'string' },
    log: { type: 'string', multiple: true },
    'access-log': { type: 'string', multiple: true },
    'proxy-config': { type: 'string', multiple: true },
    'burst-count': { type: 'string' },
    'burst-minutes': { type: 'string' },
    backups: { type: 'string' },
    'max-age': { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(args, io) {
    const deployment = deploymentOf(args, io);
    const timeoutMs = positiveInt(args, 'timeout', 5) * 1000;
    const backups = str(args, 'backups');
    const report = await runAudit(
      {
        deployment,
        proxyConfigs: files(args, 'proxy-config', io),
        logs: logSources(args, 'log', io),
        accessLogs: logSources(args, 'access-log', io),
        burst: { count: positiveInt(args, 'burst-count', DEFAULT_BURST.count), minutes: positiveInt(args, 'burst-minutes', DEFAULT_BURST.minutes) },
        ...(backups ? { backupsDir: resolve(io.cwd, backups) } : {}),
        maxBackupAgeMs: positiveInt(args, 'max-age', 7) * 86_400_000,
        useStore: async (work) => {
          const store = await openStore(deployment.target, { timeoutMs, readonly: true });
          try {
            return await work(store);
          } finally {
            await store.close();
          }
        },
      },
      { cancellation: io.cancellation },
    );
    if (flag(args, 'json')) writeJson(io, auditResult(report, io.lang));
    else io.stdout.write(formatAudit(report, io.lang));
    return auditExitCode(report.findings);
  },
};
