import * as vscode from 'vscode';
import { Ctx, type DeploymentArg } from '../context';
import { t } from '../l10n';
import { protocol } from '../protocol';
import { CommandIds } from '../../../shared/commands';

/**
 * GPT-Load: Create Backup — a backup of the deployment's key store (SQLite through its online backup
 * API, MySQL/PostgreSQL into a portable file) in the folder "backups" beside the `.env`; the daemon
 * reads it back before answering. When no saved copy of the key the backup needs exists, offers to
 * save one: a backup without its key is no backup.
 */
export function registerCreateBackup(ctx: Ctx): void {
  ctx.registerCommand(CommandIds.createBackup, async (arg?: DeploymentArg) => {
    const deployment = Ctx.required(await ctx.deploymentFor(arg));
    const { BackupCreateRequest } = await protocol();
    const info = await ctx.daemon.request(BackupCreateRequest.type, { deployment: await ctx.ref(deployment) }, { needsTrust: true, progress: t('Backing up {0}', deployment.label) });
    ctx.backups.changed(deployment);
    ctx.output.info(`backup of ${deployment.label}: ${info.path} (${Object.entries(info.rows).map(([table, rows]) => `${table} ${rows}`).join(', ')}; key ${info.keyFingerprint})`);

    const keyUnsaved = info.keyFingerprint !== 'plaintext' && !ctx.keyCopies.list().some((c) => c.fingerprint === info.keyFingerprint);
    const detail = [
      keyUnsaved ? t('It needs the ENCRYPTION_KEY with fingerprint {0}, and no copy of that key is saved here.', info.keyFingerprint) : undefined,
      ...(info.warnings ?? []),
    ].filter(Boolean);
    void ctx.ui
      .notify('backupCreated', t('Backup of {0} written and verified: {1} ({2} keys).', deployment.label, info.path, info.rows.api_keys ?? 0), {
        severity: detail.length > 0 ? 'warning' : 'info',
        detail: detail.join(' '),
        actions: keyUnsaved ? [{ id: 'saveKey', title: t('Save a Copy of ENCRYPTION_KEY') }] : [],
      })
      .then((answer) => answer === 'saveKey' && vscode.commands.executeCommand(CommandIds.saveKeyCopy, deployment));
    return info;
  });
}
