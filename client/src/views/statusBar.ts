/**
 * The status bar item: the active deployment's encryption state; a click opens the full status.
 * Its figures come from the daemon's status summary (GPT-Load's dashboard verdict on its 20-row
 * sample and a row count: cheap at any size), asked for in the background when the active
 * deployment changes, after a migration or restore, when a `.env` is saved, and again when the
 * daemon runs after it could not answer (restarting, crashed). The daemon's background check of an
 * open `.env` and an exact status the user asked for replace it when they arrive later: the newest
 * figures win. Nothing here runs during activation.
 */
import * as vscode from 'vscode';
import type { EnvDatabaseState, StatusReport, StatusSummary } from '../../../shared/protocol';
import { CommandIds } from '../../../shared/commands';
import type { Ctx } from '../context';
import type { Deployment } from '../deployments';
import { describeState } from '../describe';
import { keystoreCode, messageOf } from '../errors';
import { t } from '../l10n';
import { protocol } from '../protocol';

interface Known {
  state: EnvDatabaseState;
  encryptionEnabled: boolean | undefined;
  target: string | null;
  detail: string | null;
  /** The daemon, not the database, failed the summary (stopped, restarting): asked again once it runs. */
  askAgain?: boolean;
}

/** Failures that mean the database could not be reached (the rest: the state is unknown). */
const UNREACHABLE = new Set(['host-not-found', 'connection-refused', 'connection-timeout', 'auth-refused', 'database-missing']);

/** The state GPT-Load's dashboard would show for a summary (its verdict; a sample that disagrees with itself is mixed). */
function summaryState(summary: StatusSummary): EnvDatabaseState {
  if (summary.apiKeys === 0) return 'empty';
  switch (summary.dashboard.verdict) {
    case 'data_not_encrypted':
      return 'needs-migration';
    case 'key_not_configured':
      return 'key-missing';
    case 'key_mismatch':
      return 'wrong-key';
  }
  const share = summary.encryptionEnabled ? summary.dashboard.decryptShare : summary.dashboard.plaintextShare;
  return summary.dashboard.sampled === 0 || share === 1 ? 'ok' : 'mixed';
}

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('gptLoad.status', vscode.StatusBarAlignment.Left, 10);
  private readonly known = new Map<string, Known>();
  /** The summary request in flight per `.env`; a newer request or newer figures make its answer stale. */
  private readonly pending = new Map<string, number>();
  private sequence = 0;
  private summaries = 0;

  constructor(private readonly ctx: Ctx) {
    this.item.name = t('GPT-Load Encryption State');
    this.item.command = CommandIds.showStatus;
    ctx.subscribe(
      this.item,
      ctx.deployments.onDidChange(() => void this.refresh()),
      ctx.onDidChangeEnvStatus((envFile) => this.recordBackgroundCheck(envFile)),
      // Migrations, restores, Refresh, Restart Daemon, workspace trust, and settings that change which database is meant.
      ctx.onDidChangeData((deployment) => void this.refresh(deployment)),
      ctx.onDidReportStatus(({ deployment, report }) => this.recordReport(deployment, report)),
      ctx.daemon.onDidChangeState((state) => void (state === 'running' ? this.askAgain() : this.render())),
      vscode.workspace.onDidSaveTextDocument((document) => void this.envSaved(document.uri)),
    );
  }

  /** Asks the daemon for the summary of `deployment` (default: the active one) and shows it when it arrives. */
  async refresh(deployment?: Deployment): Promise<void> {
    const active = await this.ctx.deployments.active();
    const target = deployment ?? active;
    if (target && this.ctx.trusted && this.ctx.daemon.state !== 'failed') void this.requestSummary(target);
    await this.render();
  }

  private async askAgain(): Promise<void> {
    const active = await this.ctx.deployments.active();
    if (active && this.known.get(active.envFile)?.askAgain && !this.pending.has(active.envFile)) await this.refresh(active);
  }

  private async envSaved(uri: vscode.Uri): Promise<void> {
    if (uri.scheme !== 'file') return;
    const deployment = (await this.ctx.deployments.all()).find((d) => d.envFile === uri.fsPath);
    if (deployment) await this.refresh(deployment);
  }

  private async requestSummary(deployment: Deployment): Promise<void> {
    const id = ++this.sequence;
    this.pending.set(deployment.envFile, id);
    let known: Known;
    try {
      const { StatusSummaryRequest } = await protocol();
      const summary = await this.ctx.daemon.request(StatusSummaryRequest.type, { deployment: await this.ctx.ref(deployment), skipLogs: true }, { needsTrust: true });
      this.summaries++;
      known = { state: summaryState(summary), encryptionEnabled: summary.encryptionEnabled, target: summary.target, detail: `${t('GPT-Load dashboard')}: ${t('{0} rows sampled', summary.dashboard.sampled)}` };
    } catch (err) {
      this.ctx.output.warn(`status of ${deployment.label}: ${messageOf(err)}`);
      const code = keystoreCode(err);
      known = { state: UNREACHABLE.has(code ?? '') ? 'unreachable' : 'unchecked', encryptionEnabled: undefined, target: null, detail: messageOf(err), askAgain: code === undefined };
    }
    if (this.pending.get(deployment.envFile) !== id) return;
    this.pending.delete(deployment.envFile);
    this.record(deployment.envFile, known);
  }

  /** An exact status the user asked for (Show Encryption Status, Migrate Keys). */
  recordReport(deployment: Deployment, report: StatusReport): void {
    this.record(deployment.envFile, { state: report.state, encryptionEnabled: report.encryptionEnabled, target: report.target, detail: null });
  }

  /** The daemon's background check of an open `.env` finished. */
  private recordBackgroundCheck(envFile: string): void {
    const background = this.ctx.envStatus.get(envFile);
    if (!background || background.state === 'unchecked') return;
    const enabled = background.keyFingerprint ? background.keyFingerprint !== 'plaintext' : undefined;
    this.record(envFile, { state: background.state, encryptionEnabled: enabled, target: background.target, detail: background.message });
  }

  /** Newer figures than a summary still in flight: that summary's answer is dropped. */
  private record(envFile: string, known: Known): void {
    this.pending.delete(envFile);
    this.known.set(envFile, known);
    void this.render();
  }

  private async render(): Promise<void> {
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
    const known = this.known.get(deployment.envFile) ?? this.daemonDown();
    if (!known) {
      this.item.text = `$(sync~spin) GPT-Load`;
      this.item.tooltip = t('{0}: checking the database…', deployment.label);
      this.item.backgroundColor = undefined;
      this.item.show();
      return;
    }
    const words = describeState(known.state, known.encryptionEnabled);
    this.item.text = `$(${words.icon}) GPT-Load: ${words.label}`;
    this.item.tooltip = [`${deployment.label} — ${words.label}`, known.target, known.detail, t('Click for the full encryption status')].filter(Boolean).join('\n');
    this.item.backgroundColor = words.warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.show();
  }

  /** Nothing known and the daemon given up: say so instead of spinning. */
  private daemonDown(): Known | undefined {
    const reason = this.ctx.daemon.unavailableReason;
    return reason ? { state: 'unchecked', encryptionEnabled: undefined, target: null, detail: reason } : undefined;
  }

  get text(): string {
    return this.item.text;
  }

  /** Status summaries received from the daemon (tests). */
  get summaryCount(): number {
    return this.summaries;
  }

  dispose(): void {
    this.item.dispose();
  }
}
