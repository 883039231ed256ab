/** `redact-logs`: mask the upstream keys GPT-Load stored in request_logs.error_message (keystore/history/redactLogs.ts). */
import { localize, type Lang, type Localized } from '../core/errors';
import { redactLogs, type RedactLogsPlan, type RedactLogsResult } from '../keystore/history/redactLogs';
import { describeTempMigration } from '../keystore/history/tempMigration';
import { backupBeforeWrite, type MigrationBackup } from '../keystore/backup/beforeWrite';
import { n } from '../keystore/migrate/plan';
import type { CliCommand } from './command';
import { askYes } from './keyInput';
import { deploymentOf, DEPLOYMENT_HELP, DEPLOYMENT_OPTIONS, flag, positiveInt, progressPrinter, str, writeJson } from './options';

function planLines(plan: RedactLogsPlan, lang: Lang, dryRun: boolean): string[] {
  const t = (l: Localized) => localize(l, lang);
  return [
    t({ en: `${dryRun ? 'Dry run' : 'About to redact'}: request_logs of ${plan.target}`, zh: `${dryRun ? '试运行' : '即将脱敏'}：${plan.target} 的 request_logs` }),
    t({
      en: `  ${n(plan.rows)} of ${n(plan.scanned)} error messages quote a stored key (${n(plan.occurrences)} occurrences), looked for among ${n(plan.poolKeys)} keys`,
      zh: `  ${n(plan.scanned)} 条错误信息中有 ${n(plan.rows)} 条含有已存储的密钥（共 ${n(plan.occurrences)} 处），在 ${n(plan.poolKeys)} 个密钥中查找`,
    }),
    ...(plan.tempMigration ? [`  ${t(describeTempMigration(plan.tempMigration))}: ${t({ en: dryRun ? 'would be dropped' : 'to drop', zh: dryRun ? '将被删除' : '待删除' })}`] : []),
  ];
}

function summaryText(result: RedactLogsResult, lang: Lang): string {
  const t = (l: Localized) => localize(l, lang);
  const lines = planLines(result, lang, result.dryRun);
  if (!result.dryRun) {
    lines[0] = t({ en: `Done: request_logs of ${result.target}`, zh: `完成：${result.target} 的 request_logs` });
    lines.push(t({ en: `  masked: ${n(result.rowsChanged)} rows, as GPT-Load v1.4.9 masks keys (sk-a****wxyz)`, zh: `  已脱敏：${n(result.rowsChanged)} 行，与 GPT-Load v1.4.9 的掩码方式相同（sk-a****wxyz）` }));
    const backup = result.backup as MigrationBackup | null;
    lines.push(
      backup
        ? t({ en: `  backup (checked) of the state before: ${backup.file} — it still holds the unmasked texts: delete it once you no longer need it`, zh: `  脱敏前状态的备份（已校验）：${backup.file} — 其中仍含未脱敏的文本，不再需要时请删除` })
        : t({ en: '  no backup taken (--no-backup or nothing written)', zh: '  未创建备份（--no-backup 或无需写入）' }),
    );
  } else {
    lines.push(t({ en: 'Nothing was written.', zh: '未写入任何内容。' }));
  }
  for (const note of result.notes) lines.push(t(note));
  return lines.join('\n') + '\n';
}

export const redactLogsCommand: CliCommand = {
  name: 'redact-logs',
  summary: 'mask the upstream keys GPT-Load stored in request_logs.error_message (before v1.4.9)',
  help: `Usage: gpt-load-keystore redact-logs [--dry-run] [--yes] [--no-backup] [options]

Before v1.4.9 GPT-Load stored transport errors with the full upstream URL in
request_logs.error_message, and the Gemini channel puts the API key in that URL's query: those
keys sit there in plaintext, encryption or not. This masks every key of the pool (each api_keys
value the configured ENCRYPTION_KEY opens, and each log row's own key) exactly as GPT-Load v1.4.9
does when it writes: key[:4] + "****" + key[len-4:], keys of 8 bytes or fewer left as they are.
Nothing else changes. A temp_migration table left by an interrupted GPT-Load migrate-keys is
dropped too.

Every row is checked first (read-only); then, after a confirmation on a terminal and a checked
backup, one transaction rewrites the affected rows and verifies their count before COMMIT.
GPT-Load must be stopped. Ctrl-C before the commit leaves the database as it was.

Options:
  --dry-run             count the rows and occurrences to mask; write nothing
  --yes                 do not ask for confirmation on a terminal
  --force               go on although GPT-Load looks running
  --json                machine-readable summary on stdout (progress stays on stderr)
  --no-backup           skip the backup (by default one is written to <.env folder>/backups and
                        checked first; it keeps the unmasked texts: delete it when done)
  --backup-dir DIR      write that backup here instead
  --batch-size N        rows per batch (default 2000 on SQLite, 5000 on MySQL/PostgreSQL)
${DEPLOYMENT_HELP}

Exit codes: 0 done (or nothing to do), 2 usage, 5 refused by a check, 6 GPT-Load is running,
7 cannot connect, 130 cancelled.

Examples:
  gpt-load-keystore redact-logs --dry-run
  gpt-load-keystore redact-logs --env /srv/gpt-load/.env --db-host 127.0.0.1:3306 --yes`,
  options: {
    ...DEPLOYMENT_OPTIONS,
    'dry-run': { type: 'boolean' },
    yes: { type: 'boolean' },
    force: { type: 'boolean' },
    json: { type: 'boolean' },
    'no-backup': { type: 'boolean' },
    'backup-dir': { type: 'string' },
    'batch-size': { type: 'string' },
  },
  async run(args, io) {
    const deployment = deploymentOf(args, io);
    const context = { progress: progressPrinter(io), cancellation: io.cancellation };
    const dryRun = flag(args, 'dry-run');
    const result = await redactLogs(
      {
        deployment,
        dryRun,
        force: flag(args, 'force'),
        batchSize: str(args, 'batch-size') !== undefined ? positiveInt(args, 'batch-size', 1, 1) : undefined,
        timeoutMs: positiveInt(args, 'timeout', 5) * 1000,
        hooks: {
          async confirm(plan) {
            if (io.stdin.isTTY !== true || flag(args, 'yes')) return true;
            io.stderr.write(planLines(plan, io.lang, false).join('\n') + '\n');
            return askYes(io, localize({ en: 'Proceed? Type "yes": ', zh: '确认执行？请输入 "yes"：' }, io.lang));
          },
          beforeWrite: flag(args, 'no-backup') ? undefined : backupBeforeWrite({ fromKey: deployment.encryptionKey, envDir: deployment.envDir, dir: str(args, 'backup-dir') }, context),
        },
      },
      context,
    );
    if (flag(args, 'json')) writeJson(io, result);
    else io.stdout.write(summaryText(result, io.lang));
    return 0;
  },
};
