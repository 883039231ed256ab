import { basename } from 'node:path';
import type { BackupPruneEntry } from '../../../shared/protocol';
import { Ctx, type DeploymentArg } from '../context';
import { Cancelled } from '../errors';
import { t } from '../l10n';
import { protocol } from '../protocol';
import { CommandIds } from '../../../shared/commands';

type Rule = 'plaintext' | 'keepFive' | 'newestPerKey';

function reasonText(entry: BackupPruneEntry): string {
  return entry.reason === 'plaintext' ? t('holds keys in plaintext') : t('no rule keeps it');
}

/**
 * GPT-Load: Prune Backups — deletes the backups of a deployment that no rule keeps (the daemon's
 * gptLoad/backup/prune; the newest backup for each key and damaged files always stay). The user picks
 * what goes — backups holding keys in plaintext, or all but the newest — sees the dry run in a modal,
 * with the warning when nothing would be left that restores the current data, and confirms.
 */
export function registerPruneBackups(ctx: Ctx): void {
  ctx.registerCommand(CommandIds.pruneBackups, async (arg?: DeploymentArg) => {
    const deployment = Ctx.required(await ctx.deploymentFor(arg));
    const rule = await ctx.ui.pick<Rule>(
      'pruneRule',
      [
        { id: 'plaintext', label: t('Backups that hold keys in plaintext'), detail: t('Whoever reads such a file has every key in it: e.g. the backup taken before encryption was enabled.') },
        { id: 'keepFive', label: t('All but the newest 5') },
        { id: 'newestPerKey', label: t('All but the newest for each ENCRYPTION_KEY') },
      ],
      { title: t('Prune Backups of {0}', deployment.label) },
    );
    if (rule === undefined) throw new Cancelled();
    const { BackupPruneRequest } = await protocol();
    const params = { deployment: await ctx.ref(deployment), ...(rule === 'plaintext' ? { plaintext: true } : { keep: rule === 'keepFive' ? 5 : 0 }) };
    const plan = await ctx.daemon.request(BackupPruneRequest.type, { ...params, dryRun: true }, { needsTrust: true, progress: t('Checking the backups of {0}', deployment.label) });
    if (plan.deleted.length === 0) {
      void ctx.ui.notify('prunedNothing', t('No backup of {0} to delete.', deployment.label));
      return plan;
    }
    const go = await ctx.ui.ask('pruneConfirm', t('Delete {0} backup(s) of {1}?', plan.deleted.length, deployment.label), {
      severity: 'warning',
      detail: [...plan.warnings, ...plan.deleted.map((e) => `${basename(e.path)} — ${reasonText(e)}`)].join('\n'),
      actions: [{ id: 'delete', title: t('Delete') }],
    });
    if (go !== 'delete') throw new Cancelled();
    const result = await ctx.daemon.request(BackupPruneRequest.type, { ...params, confirmed: true }, { needsTrust: true, progress: t('Deleting backups of {0}', deployment.label) });
    ctx.backups.changed(deployment);
    ctx.output.info(`pruned backups of ${deployment.label}: ${result.deleted.map((e) => `${basename(e.path)} (${e.reason})`).join(', ')}`);
    void ctx.ui.notify('pruned', t('Deleted {0} backup(s) of {1}.', result.deleted.length, deployment.label));
    return result;
  });
}
