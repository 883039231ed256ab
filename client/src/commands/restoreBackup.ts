import type { BackupCheckResult, BackupRestoreResult } from '../../../shared/protocol';
import { printable } from '../../../shared/printable';
import { keysSinceBackupLines, outsideKeyChangeLines } from '../../../shared/restorePreview';
import { backupLabel, type BackupArg } from '../backups';
import { Ctx } from '../context';
import { Cancelled, retryWhileServiceRuns } from '../errors';
import { askForKey, type ChosenKey } from '../keyPrompt';
import { num, sharedLang, t } from '../l10n';
import { protocol } from '../protocol';
import { copyRestartAction, copyRestartIfAsked, restartAdvice, type RestartAdvice } from '../restartHint';
import { verdictOf } from './checkBackup';
import { CommandIds } from '../../../shared/commands';

export interface RestoreOutcome {
  result: BackupRestoreResult;
  /** What the confirmation showed: the dry run and the check. */
  preview: { plan: BackupRestoreResult; check: BackupCheckResult };
}

function rowsText(rows: Record<string, number>): string {
  return Object.entries(rows)
    .map(([table, count]) => `${table} (${num(count)})`)
    .join(', ');
}

/** "api_keys: 79 now → 80 from the backup" per table (the backup's counts alone from a daemon that does not count). */
function replacedText(plan: BackupRestoreResult): string[] {
  return Object.entries(plan.restored).map(([table, rows]) => {
    const now = plan.current?.[table];
    return now === undefined ? `${table} (${num(rows)})` : t('{0}: {1} now → {2} from the backup', table, num(now), num(rows));
  });
}

function reencryptText(plan: BackupRestoreResult, key: ChosenKey | undefined): string | undefined {
  if (key) return t('Its keys are re-encrypted from the key {0} ({1}) to the .env\'s ENCRYPTION_KEY.', key.fingerprint, key.label);
  if (plan.reencrypted) return t('Its keys ({0}) are re-encrypted to the .env\'s ENCRYPTION_KEY ({1}).', plan.reencrypted.from, plan.reencrypted.to);
  return undefined;
}

/** The confirmation's detail: what the restore replaces, how it differs from now, which key it uses. */
function preview(plan: BackupRestoreResult, check: BackupCheckResult, key: ChosenKey | undefined, advice: RestartAdvice): string {
  return [
    t('Every row of these tables is replaced by the backup\'s:'),
    ...replacedText(plan).map((line) => `  ${line}`),
    ...keysSinceBackupLines(plan.keysSinceBackup, sharedLang()).map((line) => `  ${line}`),
    ...(plan.outside ? [t('Besides the keys, the restore changes:'), ...outsideKeyChangeLines(plan.outside, sharedLang()).map((line) => `  ${printable(line)}`)] : []),
    plan.untouched?.length ? t('Not in the backup, left as they are: {0}.', plan.untouched.join(', ')) : undefined,
    ...check.problems,
    ...(plan.warnings ?? []),
    reencryptText(plan, key),
    t('A verified backup of the current state is taken first, and the restore runs in one transaction.'),
    t('Keep GPT-Load stopped until it is done.'),
    `${advice.advice}.`,
  ]
    .filter(Boolean)
    .join('\n');
}

/**
 * GPT-Load: Restore Backup — puts a backup back into the deployment's database in one transaction.
 * First a check and a dry run: the daemon refuses while GPT-Load runs (stop it, check again), says
 * which key the backup needs (the saved copy with that fingerprint, else one the user gives; the
 * keys are then re-encrypted to the `.env`'s key) and what would be written — the modal confirmation
 * shows that preview, each table's rows now against the backup's. A verified backup of the current
 * state is taken before anything is written. Afterwards the daemon clears GPT-Load's stale Redis
 * entries (reaching Redis through gptLoad.redis.host when set); what it could not do, such as
 * clearing that cache, comes back as warnings shown with the result.
 */
export function registerRestoreBackup(ctx: Ctx): void {
  ctx.registerCommand(CommandIds.restoreBackup, async (arg?: BackupArg): Promise<RestoreOutcome> => {
    ctx.requireTrust();
    const entry = Ctx.required(await ctx.backups.resolve(arg, { step: 'backupToRestore', title: t('Restore Backup'), usableOnly: true }));
    const { deployment, path } = entry;
    const ref = await ctx.ref(deployment);
    const { BackupCheckRequest, BackupRestoreRequest } = await protocol();

    let check = await ctx.daemon.request(BackupCheckRequest.type, { path, deployment: ref }, { needsTrust: true, progress: t('Checking the backup {0}', backupLabel(entry)) });
    let key: ChosenKey | undefined;
    const needed = check.info?.keyFingerprint;
    if (verdictOf(check) === 'needs-key' && needed) {
      key = await askForKey(ctx, deployment, { step: 'backupKey', title: t('The ENCRYPTION_KEY of this backup'), needed });
      check = await ctx.daemon.request(BackupCheckRequest.type, { path, deployment: ref, encryptionKey: key.value }, { needsTrust: true, progress: t('Checking the backup {0}', backupLabel(entry)) });
    }
    const redisHost = ctx.redisHost(deployment);
    const restore = (title: string, dryRun: boolean) =>
      retryWhileServiceRuns(ctx.ui, () =>
        ctx.daemon.request(BackupRestoreRequest.type, { deployment: ref, path, dryRun, ...(key ? { backupKey: key.value } : {}), ...(redisHost ? { redisHost } : {}) }, { needsTrust: true, progress: title }),
      );
    const plan = await restore(t('Checking what restoring would change'), true);
    const advice = await restartAdvice(ctx, deployment);

    const go = await ctx.ui.ask('restoreConfirm', t('Restore the backup of {0} into {1}?', backupLabel(entry), deployment.label), {
      severity: 'warning',
      detail: preview(plan, check, key, advice),
      actions: [{ id: 'restore', title: t('Restore') }],
    });
    if (go !== 'restore') throw new Cancelled();

    const result = await restore(t('Restoring {0}', deployment.label), false);
    ctx.fireDataChanged(deployment);
    ctx.backups.changed(deployment);
    const rows = Object.values(result.restored).reduce((a, b) => a + b, 0);
    ctx.output.info(`restored ${path} into ${deployment.label}: ${rowsText(result.restored)}; safety backup ${result.safetyBackup?.path ?? 'none'}`);
    const warnings = result.warnings ?? [];
    for (const warning of warnings) ctx.output.warn(`restore of ${deployment.label}: ${warning}`);
    const message = [
      t('Restored {0} rows into {1} from the backup of {2}.', num(rows), deployment.label, backupLabel(entry)),
      result.safetyBackup ? t('The state before the restore is in {0}.', result.safetyBackup.path) : undefined,
      typeof result.cacheCleared === 'number' ? t('Removed {0} stale entries from GPT-Load\'s Redis cache.', result.cacheCleared) : undefined,
      `${advice.advice}.`,
    ]
      .filter(Boolean)
      .join(' ');
    void ctx.ui
      .notify('restored', message, {
        severity: warnings.length > 0 ? 'warning' : 'info',
        detail: warnings.join('\n') || undefined,
        actions: copyRestartAction(advice),
      })
      .then((answer) => copyRestartIfAsked(ctx, answer, advice));
    return { result, preview: { plan, check } };
  });
}
