/**
 * The status bar item: the active deployment's encryption state; a click opens the full status.
 * Its figures come from the daemon's background check of the `.env` (sampled, cheap) or from the
 * last exact status the user asked for, whichever is newer.
 */
import * as vscode from 'vscode';
import type { EnvDatabaseState, StatusReport } from '../../../shared/protocol';
import { CommandIds } from '../commands/ids';
import type { Ctx } from '../context';
import type { Deployment } from '../deployments';
import { describeState } from '../describe';
import { t } from '../l10n';

interface Known {
  state: EnvDatabaseState;
  encryptionEnabled: boolean | undefined;
  target: string | null;
  detail: string | null;
}

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('gptLoad.status', vscode.StatusBarAlignment.Left, 10);
  private readonly reports = new Map<string, Known>();
  private readonly requested = new Set<string>();

  constructor(private readonly ctx: Ctx) {
    this.item.name = t('GPT-Load Encryption State');
    this.item.command = CommandIds.showStatus;
    ctx.subscribe(
      this.item,
      ctx.deployments.onDidChange(() => void this.update()),
      ctx.onDidChangeEnvStatus(() => void this.update()),
      ctx.onDidChangeData(() => {
        this.requested.clear();
        void this.update();
      }),
      ctx.daemon.onDidChangeState(() => void this.update()),
      ctx.onDidReportStatus(({ deployment, report }) => this.recordReport(deployment, report)),
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.update()),
    );
  }

  /** An exact status the user asked for (Show Encryption Status, Migrate Keys). */
  recordReport(deployment: Deployment, report: StatusReport): void {
    this.reports.set(deployment.envFile, { state: report.state, encryptionEnabled: report.encryptionEnabled, target: report.target, detail: null });
    // The exact report is newer than the last background check; the next check replaces it again.
    this.ctx.envStatus.delete(deployment.envFile);
    void this.update();
  }

  private known(envFile: string): Known | undefined {
    const background = this.ctx.envStatus.get(envFile);
    const exact = this.reports.get(envFile);
    if (background && background.state !== 'unchecked') {
      const enabled = background.keyFingerprint ? background.keyFingerprint !== 'plaintext' : undefined;
      return { state: background.state, encryptionEnabled: enabled, target: background.target, detail: background.message };
    }
    return exact;
  }

  async update(): Promise<void> {
    const deployment = await this.ctx.deployments.active();
    if (!deployment) {
      this.item.hide();
      return;
    }
    if (!this.ctx.trusted) {
      this.item.text = `$(shield) GPT-Load: ${t('restricted')}`;
      this.item.tooltip = t('Restricted workspace: only .env checks run. Trust the workspace to see the encryption state.');
      this.item.backgroundColor = undefined;
      this.item.show();
      return;
    }
    const known = this.known(deployment.envFile);
    if (!known) {
      this.item.text = `$(sync~spin) GPT-Load`;
      this.item.tooltip = t('{0}: checking the database…', deployment.label);
      this.item.show();
      this.requestBackgroundCheck(deployment);
      return;
    }
    const words = describeState(known.state, known.encryptionEnabled);
    this.item.text = `$(${words.icon}) GPT-Load: ${words.label}`;
    this.item.tooltip = [`${deployment.label} — ${words.label}`, known.target, known.detail, t('Click for the full encryption status')].filter(Boolean).join('\n');
    this.item.backgroundColor = words.warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.show();
  }

  /** The daemon checks a `.env`'s database when the document is open: open it (not shown) once. */
  private requestBackgroundCheck(deployment: Deployment): void {
    if (this.requested.has(deployment.envFile) || this.ctx.daemon.state === 'failed') return;
    this.requested.add(deployment.envFile);
    void this.ctx.daemon
      .start()
      .then(() => vscode.workspace.openTextDocument(vscode.Uri.file(deployment.envFile)))
      .then(undefined, (err: unknown) => this.ctx.output.warn(`status check of ${deployment.label}: ${err instanceof Error ? err.message : err}`));
  }

  get text(): string {
    return this.item.text;
  }

  dispose(): void {
    this.item.dispose();
  }
}
