import { basename } from 'node:path';
import type { BackupCheckResult } from '../../../shared/protocol';
import { backupLabel, type BackupArg, type BackupEntry } from '../backups';
import { Ctx } from '../context';
import { describeBackup, shortDate } from '../describe';
import { askForKey } from '../keyPrompt';
import { t } from '../l10n';
import { protocol } from '../protocol';
import type { Severity } from '../ui';
import { CommandIds } from '../../../shared/commands';

/** The verdict of a check (older daemons may leave it out: then validity alone). */
export function verdictOf(result: BackupCheckResult): string {
  return result.verdict ?? (result.valid ? 'ok' : 'corrupt');
}

function renderCheck(entry: BackupEntry, result: BackupCheckResult, keyLabel: string | undefined): string {
  const info = result.info;
  const lines = [
    `# ${t('Backup check')} — ${basename(entry.path)}`,
    '',
    `- ${t('Verdict')}: **${describeBackup(verdictOf(result), info?.keyFingerprint, Boolean(result.plaintext)).label}**`,
    `- ${t('File')}: ${entry.path}`,
  ];
  if (info) {
    lines.push(
      `- ${t('Taken')}: ${shortDate(info.createdAt)} (${info.engine}${info.layout ? `, ${info.layout}` : ''}${info.toolVersion ? `, gpt-load-keystore ${info.toolVersion}` : ''})`,
      `- ${t('Source')}: ${info.source}`,
      `- ENCRYPTION_KEY: ${info.keyFingerprint === 'plaintext' ? t('keys stored in plaintext') : t('fingerprint {0}', info.keyFingerprint)}`,
    );
  }
  if (keyLabel) lines.push(`- ${t('Checked with')}: ${keyLabel}`);
  if (result.keyCheck && result.keyCheck.checked > 0) {
    lines.push(`- ${t('Stored keys opened one by one')}: ${result.keyCheck.checked - result.keyCheck.failed} / ${result.keyCheck.checked}`);
  }
  if (result.live) {
    const live = result.live;
    lines.push(`- ${t('Live database')}: ${t('{0} keys in the backup, {1} now; {2} gone since the backup, {3} added', live.backupKeys, live.liveKeys, live.missing, live.added)}`);
  }
  if (info) {
    lines.push('', `| ${t('Table')} | ${t('Rows')} |`, '|---|---:|', ...Object.entries(info.rows).map(([table, rows]) => `| ${table} | ${rows} |`));
  }
  lines.push('', `## ${t('Findings')}`, '', ...(result.problems.length > 0 ? result.problems.map((p) => `- ${p}`) : [t('Nothing wrong was found.')]));
  if (result.notes?.length) lines.push('', ...result.notes.map((n) => `- ${n}`));
  return `${lines.join('\n')}\n`;
}

function severityOf(verdict: string): Severity {
  return verdict === 'ok' ? 'info' : verdict === 'corrupt' ? 'error' : 'warning';
}

/**
 * GPT-Load: Check Backup — the full check of one backup: every byte and row against its manifest,
 * SQLite's integrity check, every stored key against the `.env`'s key (or, when the backup needs
 * another, the saved copy with that fingerprint or a key the user gives), its age, and the keys gone
 * from or added to the live database since. The verdict stays on the backup's row in the explorer.
 */
export function registerCheckBackup(ctx: Ctx): void {
  ctx.registerCommand(CommandIds.checkBackup, async (arg?: BackupArg) => {
    ctx.requireTrust();
    const entry = Ctx.required(await ctx.backups.resolve(arg, { step: 'backupToCheck', title: t('Check Backup') }));
    const { BackupCheckRequest } = await protocol();
    const deployment = await ctx.ref(entry.deployment);
    const title = t('Checking the backup {0}', basename(entry.path));
    let result = await ctx.daemon.request(BackupCheckRequest.type, { path: entry.path, deployment }, { needsTrust: true, progress: title });
    let keyLabel: string | undefined;

    const needed = result.info?.keyFingerprint;
    if (verdictOf(result) === 'needs-key' && needed) {
      const saved = ctx.keyCopies.list().some((c) => c.fingerprint === needed);
      const tryKey =
        saved ||
        (await ctx.ui.ask('backupNeedsKey', t('This backup needs the ENCRYPTION_KEY with fingerprint {0}; the .env\'s key does not open it.', needed), {
          severity: 'warning',
          detail: t('Check it with a key from your password manager?'),
          actions: [{ id: 'tryKey', title: t('Try Another Key') }],
        })) === 'tryKey';
      if (tryKey) {
        const key = await askForKey(ctx, entry.deployment, { step: 'backupKey', title: t('The ENCRYPTION_KEY of this backup'), needed });
        keyLabel = key.label;
        result = await ctx.daemon.request(BackupCheckRequest.type, { path: entry.path, deployment, encryptionKey: key.value }, { needsTrust: true, progress: title });
      }
    }

    ctx.backups.recordCheck(entry.deployment, result, entry.path);
    const verdict = verdictOf(result);
    const words = describeBackup(verdict, needed, Boolean(result.plaintext));
    ctx.output.info(`checked backup ${entry.path}: ${verdict}`);
    const message = [t('Backup {0}: {1}.', backupLabel({ ...entry, info: result.info ?? entry.info }), words.label), keyLabel ? t('Checked with {0}.', keyLabel) : undefined].filter(Boolean).join(' ');
    void ctx.ui
      .notify('backupChecked', message, { severity: words.warning && verdict === 'ok' ? 'warning' : severityOf(verdict), detail: [...result.problems, ...(result.notes ?? [])].join(' '), actions: [{ id: 'details', title: t('Show Details') }] })
      .then(async (answer) => {
        if (answer === 'details') await ctx.reports.show(t('Backup check — {0}', basename(entry.path)), entry.path, renderCheck(entry, result, keyLabel));
      });
    return result;
  });
}
