/**
 * What the extension does without a command: the daemon starts for each `.env` open (it lints them);
 * a change of language or of the workspace's trust restarts it and refreshes the views, a change of
 * the runtime setting offers a restart, a change of the database settings refreshes the views.
 */
import * as vscode from 'vscode';
import { CommandIds } from '../../shared/commands';
import { Config } from './config';
import type { Ctx } from './context';
import { configureLanguage, t } from './l10n';

function isEnvDocument(document: vscode.TextDocument): boolean {
  return document.languageId === 'dotenv' || /(^|[\\/])\.env(\.[^\\/]*)?$/.test(document.uri.path);
}

export function registerLifecycle(ctx: Ctx): void {
  const startForEnv = (document: vscode.TextDocument) => {
    if (isEnvDocument(document) && ctx.daemon.state === 'stopped') void ctx.daemon.start().catch(() => undefined);
  };
  ctx.subscribe(
    vscode.workspace.onDidOpenTextDocument(startForEnv),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (Config.affects(event, 'language')) {
        configureLanguage(ctx.extension.extensionUri, ctx.config.language);
        ctx.fireDataChanged();
        if (ctx.daemon.isRunning) await ctx.daemon.restart().catch(() => undefined);
      } else if (Config.affects(event, 'daemon.runtime') && ctx.daemon.isRunning) {
        const answer = await ctx.ui.notify('runtimeChanged', t('The daemon runtime changed.'), { actions: [{ id: 'restart', title: t('Restart Daemon') }] });
        if (answer === 'restart') await vscode.commands.executeCommand(CommandIds.restartDaemon);
      } else if (Config.affects(event, 'database', 'envFiles')) {
        ctx.fireDataChanged();
      }
    }),
    // Trust lifts the restrictions: the daemon restarts with database checks and the user's runtime.
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      if (ctx.daemon.state !== 'stopped') void ctx.daemon.restart().catch(() => undefined);
      ctx.fireDataChanged();
    }),
  );
  // After activation: lint the .env files already open.
  setTimeout(() => vscode.workspace.textDocuments.forEach(startForEnv), 0);
}
