import { Ctx, type DeploymentArg } from '../context';
import { Cancelled, retryWhileServiceRuns } from '../errors';
import { t } from '../l10n';
import { protocol } from '../protocol';
import { CommandIds } from '../../../shared/commands';

/**
 * GPT-Load: Redact Keys in Request Logs — masks the upstream keys GPT-Load stored in
 * request_logs.error_message before v1.4.9, as GPT-Load v1.4.9 masks them. A dry run counts first;
 * the modal confirmation shows those counts; the daemon takes a checked backup, then rewrites the
 * rows in one transaction (and drops a leftover temp_migration table).
 */
export function registerRedactLogs(ctx: Ctx): void {
  ctx.registerCommand(CommandIds.redactLogs, async (arg?: DeploymentArg) => {
    const deployment = Ctx.required(await ctx.deploymentFor(arg));
    const ref = await ctx.ref(deployment);
    const { RedactLogsRequest } = await protocol();
    const run = (title: string, dryRun: boolean) => retryWhileServiceRuns(ctx.ui, () => ctx.daemon.request(RedactLogsRequest.type, { deployment: ref, dryRun }, { needsTrust: true, progress: title }));
    const plan = await run(t('Looking for keys in the request logs of {0}', deployment.label), true);
    if (plan.rows === 0 && !plan.tempMigration) {
      void ctx.ui.notify('redactLogsNothing', t('No stored key was found in the {0} error messages of {1}.', plan.scanned, deployment.label), { severity: 'info' });
      return plan;
    }
    const detail = [
      t('{0} of {1} error messages quote a stored key ({2} occurrences). Each is masked as GPT-Load v1.4.9 masks keys (first and last 4 characters); nothing else changes.', plan.rows, plan.scanned, plan.occurrences),
      plan.tempMigration ? t('The table temp_migration left by an interrupted GPT-Load migrate-keys ({0} rows) is dropped.', plan.tempMigration.rows) : undefined,
      t('A checked backup is written first; it keeps the unmasked texts: delete it once you no longer need it.'),
      ...plan.notes,
    ].filter(Boolean);
    const go = await ctx.ui.ask('redactLogsConfirm', t('Redact the keys in the request logs of {0}?', deployment.label), {
      severity: 'warning',
      detail: detail.join('\n'),
      actions: [{ id: 'redact', title: t('Redact') }],
    });
    if (go !== 'redact') throw new Cancelled();
    const result = await run(t('Redacting the request logs of {0}', deployment.label), false);
    ctx.fireDataChanged(deployment);
    ctx.backups.changed(deployment);
    ctx.output.info(`redact-logs on ${deployment.label}: ${result.rowsChanged} rows masked; backup ${result.backupFile ?? 'none'}`);
    void ctx.ui.notify('redactLogsDone', t('Masked the keys in {0} request log rows of {1}.', result.rowsChanged, deployment.label), {
      severity: 'info',
      detail: result.backupFile ? t('The state before is in {0}.', result.backupFile) : undefined,
    });
    return result;
  });
}
