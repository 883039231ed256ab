import * as vscode from 'vscode';
import type { Ctx } from '../context';
import { t } from '../l10n';
import { CommandIds } from '../../../shared/commands';

/** GPT-Load: Restart Daemon — stops the daemon (if any) and starts it again, re-choosing its runtime. */
export function registerRestartDaemon(ctx: Ctx): void {
  ctx.registerCommand(CommandIds.restartDaemon, async () => {
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: t('Restarting the GPT-Load daemon') }, () => ctx.daemon.restart());
    ctx.fireDataChanged();
    void ctx.ui.notify('daemonRestarted', t('The GPT-Load daemon is running.'));
  });
  ctx.registerCommand(CommandIds.showLog, () => ctx.output.show());
}
