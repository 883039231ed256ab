/**
 * Wiring only: the shared context, the views, the commands, and the listeners that keep them
 * current. Activation never waits for the daemon or a database: the daemon starts in the
 * background when a `.env` is open or a command needs it.
 */
import * as vscode from 'vscode';
import { CommandIds } from '../../shared/commands';
import { registerCheckBackup } from './commands/checkBackup';
import { registerCheckKeyBackups, remindKeyBackupCheck } from './commands/checkKeyBackups';
import { registerCopyKey } from './commands/copyKey';
import { registerCreateBackup } from './commands/createBackup';
import { registerRedactLogs } from './commands/redactLogs';
import { registerFilterKeys } from './commands/filterKeys';
import { registerFindKey } from './commands/findKey';
import { registerForgetKeyCopy } from './commands/forgetKeyCopy';
import { registerGenerateAuthKey } from './commands/generateAuthKey';
import { registerMigrateKeys } from './commands/migrateKeys';
import { registerRefresh } from './commands/refresh';
import { registerRemoveAuthKeyFromProxyKeys } from './commands/removeAuthKeyFromProxyKeys';
import { registerRestartDaemon } from './commands/restartDaemon';
import { registerRestoreBackup } from './commands/restoreBackup';
import { registerRevealKey } from './commands/revealKey';
import { registerRotateAuthKey, remindOverdueRotations } from './commands/rotateAuthKey';
import { registerSaveKeyCopy } from './commands/saveKeyCopy';
import { registerSelectDeployment } from './commands/selectDeployment';
import { registerShowStatus } from './commands/showStatus';
import { registerPruneBackups } from './commands/pruneBackups';
import { registerShowAuditReport } from './commands/showAuditReport';
import { registerFixAuditFinding } from './commands/fixAuditFinding';
import { Config } from './config';
import { Ctx } from './context';
import { configureLanguage, t } from './l10n';
import { KeyExplorer } from './views/keyExplorer';
import { StatusBar } from './views/statusBar';
import type { WizardUI } from './wizard/ui';

/** What activate() returns outside production mode: the extension tests drive the extension through it. */
export interface TestApi {
  ctx: Ctx;
  explorer: KeyExplorer;
  statusBar: StatusBar;
  /** Replaces the prompts (quick picks, input boxes, dialogs) with scripted answers. */
  setUI(ui: WizardUI): void;
  /** Time spent in activate(), ms. */
  activationMs: number;
  /** Runs the AUTH_KEY rotation reminder now (it runs once after activation). */
  remindOverdueRotations(now?: number): Promise<string[]>;
  /** Runs the key-copy check reminder now (it runs once after activation). */
  remindKeyBackupCheck(now?: number): Promise<string[]>;
}

let context: Ctx | undefined;

function isEnvDocument(document: vscode.TextDocument): boolean {
  return document.languageId === 'dotenv' || /(^|[\\/])\.env(\.[^\\/]*)?$/.test(document.uri.path);
}

export function activate(extension: vscode.ExtensionContext): TestApi | undefined {
  const started = performance.now();
  const ctx = (context = new Ctx(extension));
  configureLanguage(extension.extensionUri, ctx.config.language);

  const explorer = new KeyExplorer(ctx);
  const statusBar = new StatusBar(ctx);
  registerMigrateKeys(ctx);
  registerGenerateAuthKey(ctx);
  registerRotateAuthKey(ctx);
  registerShowStatus(ctx);
  registerRevealKey(ctx);
  registerCopyKey(ctx);
  registerRefresh(ctx);
  registerSelectDeployment(ctx);
  registerRestartDaemon(ctx);
  registerFilterKeys(ctx, explorer);
  registerFindKey(ctx, explorer);
  registerCreateBackup(ctx);
  registerRedactLogs(ctx);
  registerCheckBackup(ctx);
  registerRestoreBackup(ctx);
  registerCheckKeyBackups(ctx);
  registerSaveKeyCopy(ctx);
  registerForgetKeyCopy(ctx);
  registerPruneBackups(ctx);
  registerShowAuditReport(ctx, explorer.audits, () => explorer.refresh());
  registerFixAuditFinding(ctx);
  registerRemoveAuthKeyFromProxyKeys(ctx);

  const startForEnv = (document: vscode.TextDocument) => {
    if (isEnvDocument(document) && ctx.daemon.state === 'stopped') void ctx.daemon.start().catch(() => undefined);
  };
  ctx.subscribe(
    ctx,
    explorer,
    statusBar,
    vscode.workspace.onDidOpenTextDocument(startForEnv),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (Config.affects(event, 'language')) {
        configureLanguage(extension.extensionUri, ctx.config.language);
        ctx.fireDataChanged();
        if (ctx.daemon.runningClient) await ctx.daemon.restart().catch(() => undefined);
      } else if (Config.affects(event, 'daemon.runtime') && ctx.daemon.runningClient) {
        const restart = t('Restart Daemon');
        if ((await vscode.window.showInformationMessage(t('The daemon runtime changed.'), restart)) === restart) {
          await vscode.commands.executeCommand(CommandIds.restartDaemon);
        }
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

  // After activation: lint the .env files already open, fill the status bar, due rotations and key checks.
  setTimeout(() => {
    vscode.workspace.textDocuments.forEach(startForEnv);
    void statusBar.refresh();
    void remindOverdueRotations(ctx).catch(() => undefined);
    void remindKeyBackupCheck(ctx).catch(() => undefined);
  }, 0);

  const activationMs = performance.now() - started;
  ctx.output.info(`activated in ${activationMs.toFixed(1)} ms (${vscode.workspace.isTrusted ? 'trusted' : 'restricted'} workspace, VS Code ${vscode.version}, ${process.platform}-${process.arch})`);
  if (extension.extensionMode === vscode.ExtensionMode.Production) return undefined;
  return {
    ctx,
    explorer,
    statusBar,
    setUI: (ui) => (ctx.ui = ui),
    activationMs,
    remindOverdueRotations: (now) => remindOverdueRotations(ctx, now),
    remindKeyBackupCheck: (now) => remindKeyBackupCheck(ctx, now),
  };
}

export async function deactivate(): Promise<void> {
  await context?.daemon.stop();
  context = undefined;
}
