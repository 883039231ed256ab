/**
 * Everything commands and views share: settings, the daemon, the deployments, the UI seam,
 * secrets and key copies, backups, report documents and the clipboard. Commands are registered through `registerCommand`, which turns every
 * failure into one message with the action that fixes it.
 */
import * as vscode from 'vscode';
import { CommandIds } from '../../shared/commands';
import type { DeploymentRef, EnvDatabaseStatus, StatusReport } from '../../shared/protocol';
import { Backups } from './backups';
import { SecretClipboard } from './clipboard';
import { Config } from './config';
import { Daemon } from './daemon';
import { Deployments, type Deployment } from './deployments';
import { actionFor, actionTitle, Cancelled, DaemonUnavailable, describeSqliteProblem, isCancellation, keystoreCode, messageOf, UntrustedWorkspace } from './errors';
import { KeyCopies } from './keyCopies';
import { t } from './l10n';
import { protocol } from './protocol';
import { dsnWithPassword, Secrets } from './secrets';
import { VsCodeUI, type UI } from './ui';
import { ReportView } from './views/reportView';

/** What a tree node or a command argument can say about the deployment it is about. */
export type DeploymentArg = Deployment | { deployment: Deployment } | vscode.Uri | string | undefined;

/** Where a deployment's resource-scoped settings are read. */
function scopeOf(deployment: Deployment): vscode.ConfigurationScope {
  return deployment.folder ?? vscode.Uri.file(deployment.envFile);
}

export class Ctx implements vscode.Disposable {
  readonly config = new Config();
  readonly output: vscode.LogOutputChannel;
  readonly daemon: Daemon;
  readonly deployments: Deployments;
  readonly secrets: Secrets;
  /** Labelled copies of ENCRYPTION_KEY (the keys themselves in `secrets`). */
  readonly keyCopies: KeyCopies;
  readonly backups: Backups;
  readonly reports = new ReportView();
  ui: UI = new VsCodeUI();
  readonly clipboard = new SecretClipboard(() => this.config.clipboardClearSeconds);
  /** Latest background database check per `.env` path (from the daemon). */
  readonly envStatus = new Map<string, EnvDatabaseStatus>();
  private readonly dataEmitter = new vscode.EventEmitter<Deployment | undefined>();
  /** The keys or status of a deployment changed (migration, refresh); undefined = all. */
  readonly onDidChangeData = this.dataEmitter.event;
  private readonly statusEmitter = new vscode.EventEmitter<{ deployment: Deployment; report: StatusReport }>();
  /** An exact status report arrived (Show Encryption Status, Migrate Keys). */
  readonly onDidReportStatus = this.statusEmitter.event;
  private readonly envStatusEmitter = new vscode.EventEmitter<string>();
  readonly onDidChangeEnvStatus = this.envStatusEmitter.event;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(readonly extension: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('GPT-Load Keystore', { log: true });
    this.secrets = new Secrets(extension.secrets);
    this.keyCopies = new KeyCopies(extension.globalState, this.secrets, async (key) => {
      // A hash of no values answers the key's fingerprint; the daemon derives it off this thread.
      const { HashRequest } = await protocol();
      return (await this.daemon.request(HashRequest.type, { values: [], encryptionKey: key }, { needsTrust: false })).keyFingerprint;
    });
    this.backups = new Backups(this);
    this.deployments = new Deployments(this.config, extension.workspaceState);
    this.daemon = new Daemon({
      extensionUri: extension.extensionUri,
      output: this.output,
      runtimeSetting: () => this.config.daemonRuntime,
      trusted: () => vscode.workspace.isTrusted,
      onFailed: (message) => void this.offerRestart(message),
      onClient: async (client) => {
        const { EnvDatabaseStatusNotification } = await protocol();
        client.onNotification(EnvDatabaseStatusNotification.type, ({ uri, status }) => {
          const path = vscode.Uri.parse(uri).fsPath;
          this.envStatus.set(path, status);
          this.envStatusEmitter.fire(path);
        });
      },
    });
    // The clipboard first: a pending clear of a copied secret happens at once.
    this.disposables.push(this.clipboard, this.output, this.daemon, this.deployments, this.backups, this.reports, this.dataEmitter, this.statusEmitter, this.envStatusEmitter);
  }

  get trusted(): boolean {
    return vscode.workspace.isTrusted;
  }

  subscribe(...disposables: vscode.Disposable[]): void {
    this.extension.subscriptions.push(...disposables);
  }

  /** Registers a command whose failures are reported, not thrown at VS Code. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- VS Code passes a command's arguments untyped; each handler names its own.
  registerCommand(id: string, handler: (...args: any[]) => unknown): void {
    this.subscribe(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          return await handler(...args);
        } catch (err) {
          await this.reportError(err);
          return undefined;
        }
      }),
    );
  }

  fireStatus(deployment: Deployment, report: StatusReport): void {
    this.statusEmitter.fire({ deployment, report });
  }

  fireDataChanged(deployment?: Deployment): void {
    this.dataEmitter.fire(deployment);
  }

  /** The deployment a command is about: its argument, else the active one, else the user picks. */
  async deploymentFor(arg: DeploymentArg): Promise<Deployment | undefined> {
    if (arg instanceof vscode.Uri) return this.deployments.forEnvFile(arg.fsPath);
    if (typeof arg === 'string') return this.deployments.forEnvFile(arg.startsWith('file:') ? vscode.Uri.parse(arg).fsPath : arg);
    if (arg && 'envFile' in arg) return arg;
    if (arg && 'deployment' in arg) return arg.deployment;
    const active = await this.deployments.active();
    if (active) return active;
    await this.ui.notify('noDeployment', t('No GPT-Load .env was found in this workspace.'), {
      severity: 'warning',
      detail: t('Open the folder that holds GPT-Load\'s .env, or list it in the setting gptLoad.envFiles.'),
    });
    return undefined;
  }

  /** The wire reference of a deployment: its `.env` and the overrides of the settings. Needs trust. */
  async ref(deployment: Deployment): Promise<DeploymentRef> {
    this.requireTrust();
    const scope = scopeOf(deployment);
    let dsn = this.config.dsn(scope);
    if (dsn) {
      const password = await this.secrets.databasePassword(deployment.envFile);
      if (password) dsn = dsnWithPassword(dsn, password);
    }
    return { envFile: deployment.envFile, dsn, dbHost: this.config.databaseHost(scope) };
  }

  /** gptLoad.redis.host for a deployment: HOST[:PORT] replacing REDIS_DSN's host, when set. */
  redisHost(deployment: Deployment): string | undefined {
    return this.config.redisHost(scopeOf(deployment));
  }

  requireTrust(): void {
    if (!vscode.workspace.isTrusted) throw new UntrustedWorkspace();
  }

  /** One message for a failure, with the action that fixes it. */
  async reportError(err: unknown): Promise<void> {
    if (isCancellation(err)) return;
    if (err instanceof DaemonUnavailable) {
      await this.offerRestart(t('The GPT-Load daemon is not running: {0}', err.reason));
      return;
    }
    let message = messageOf(err);
    const code = keystoreCode(err);
    if (code === 'native-module-unavailable' && this.daemon.runtime?.sqliteProblem) {
      message = `${message} ${describeSqliteProblem(this.daemon.runtime.sqliteProblem)}`;
    }
    if (!code && !(err instanceof UntrustedWorkspace)) this.output.error(`command failed: ${message}`);
    const action = actionFor(err);
    const answer = await this.ui.notify('error', message, {
      severity: 'error',
      actions: action ? [{ id: action, title: actionTitle(action) }] : [],
    });
    switch (answer) {
      case 'setHost':
        await vscode.commands.executeCommand('workbench.action.openSettings', 'gptLoad.database.host');
        break;
      case 'enterPassword':
        await this.askDatabasePassword();
        break;
      case 'runtimeSetting':
        await vscode.commands.executeCommand('workbench.action.openSettings', 'gptLoad.daemon.runtime');
        break;
      case 'restart':
        await vscode.commands.executeCommand(CommandIds.restartDaemon);
        break;
      case 'trust':
        await vscode.commands.executeCommand('workbench.trust.manage');
        break;
      case 'log':
        this.output.show();
        break;
    }
  }

  /** Says the daemon is down, with Restart and Show Log actions. */
  async offerRestart(message: string): Promise<void> {
    const answer = await this.ui.notify('daemonDown', message, {
      severity: 'error',
      actions: [
        { id: 'restart', title: t('Restart Daemon') },
        { id: 'log', title: t('Show Log') },
      ],
    });
    if (answer === 'restart') await vscode.commands.executeCommand(CommandIds.restartDaemon);
    else if (answer === 'log') this.output.show();
  }

  private async askDatabasePassword(): Promise<void> {
    const deployment = await this.deployments.active();
    if (!deployment) return;
    const password = await this.ui.input('databasePassword', {
      title: t('Database password for {0}', deployment.label),
      prompt: t('Kept in VS Code\'s secret storage and added to the DSN of the setting gptLoad.database.dsn.'),
      password: true,
    });
    if (password) await this.secrets.storeDatabasePassword(deployment.envFile, password);
  }

  /** Throws Cancelled when the user dismissed a prompt. */
  static required<T>(this: void, value: T | undefined): T {
    if (value === undefined) throw new Cancelled();
    return value;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
