import * as vscode from 'vscode';
import type { RowCounts, StatusReport } from '../../../shared/protocol';
import { Ctx, type DeploymentArg } from '../context';
import type { Deployment } from '../deployments';
import { describeState, describeVerdict } from '../describe';
import { t } from '../l10n';
import { protocol } from '../protocol';
import { CommandIds } from './ids';

export const STATUS_SCHEME = 'gptload-status';

/** Read-only documents holding the rendered status of each deployment. */
class StatusDocuments implements vscode.TextDocumentContentProvider {
  private readonly pages = new Map<string, string>();
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;

  set(uri: vscode.Uri, markdown: string): void {
    this.pages.set(uri.toString(), markdown);
    this.emitter.fire(uri);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.pages.get(uri.toString()) ?? '';
  }
}

function counts(name: string, c: RowCounts): string {
  return `| ${name} | ${c.total} | ${c.encrypted} | ${c.plaintext} | ${c.unknown} | ${c.empty} |`;
}

export function renderStatus(deployment: Deployment, report: StatusReport): string {
  const state = describeState(report.state, report.encryptionEnabled);
  const verdict = describeVerdict(report.dashboard.verdict);
  const lines = [
    `# ${t('GPT-Load encryption status')} — ${deployment.label}`,
    '',
    `- ${t('State')}: **${state.label}**`,
    `- ${t('Database')}: ${report.target} (${report.engine})`,
    `- ENCRYPTION_KEY: ${report.encryptionEnabled ? t('set (fingerprint {0})', report.keyFingerprint) : t('not set')}`,
    `- ${t('GPT-Load dashboard')}: ${verdict ?? t('no warning')} (${t('{0} rows sampled', report.dashboard.sampled)})`,
    '',
    `| ${t('Table')} | ${t('Rows')} | ${t('Encrypted')} | ${t('Plaintext')} | ${t('Undecryptable')} | ${t('Empty')} |`,
    '|---|---:|---:|---:|---:|---:|',
    counts('api_keys', report.apiKeys),
    counts('request_logs', report.requestLogs),
  ];
  if (report.apiKeys.unknownIds.length > 0) lines.push('', t('Undecryptable api_keys rows, e.g. ids {0}', report.apiKeys.unknownIds.join(', ')));
  lines.push('', `## ${t('Groups')}`, '', `| ${t('Group')} | ${t('Channel')} | ${t('Active')} | ${t('Invalid')} |`, '|---|---|---:|---:|');
  for (const g of report.groups) lines.push(`| ${g.displayName || g.name} | ${g.channelType} | ${g.active} | ${g.invalid} |`);
  if (report.state !== 'ok' && report.state !== 'empty') lines.push('', t('Run "GPT-Load: Migrate Keys" to fix the encryption state.'));
  return `${lines.join('\n')}\n`;
}

/** GPT-Load: Show Encryption Status — exact per-row counts and GPT-Load's dashboard verdict. */
export function registerShowStatus(ctx: Ctx): void {
  const documents = new StatusDocuments();
  ctx.subscribe(vscode.workspace.registerTextDocumentContentProvider(STATUS_SCHEME, documents));
  ctx.registerCommand(CommandIds.showStatus, async (arg?: DeploymentArg, options?: { open?: boolean }) => {
    const deployment = Ctx.required(await ctx.deploymentFor(arg));
    const { StatusRequest } = await protocol();
    const report = await ctx.withProgress(t('Reading the encryption status of {0}', deployment.label), StatusRequest.type, {
      deployment: await ctx.ref(deployment),
    });
    ctx.fireStatus(deployment, report);
    if (options?.open !== false) {
      const uri = vscode.Uri.from({ scheme: STATUS_SCHEME, path: `/${deployment.label.replace(/[\\/]/g, '_')}.md`, query: deployment.envFile });
      documents.set(uri, renderStatus(deployment, report));
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.languages.setTextDocumentLanguage(doc, 'markdown');
      await vscode.window.showTextDocument(doc, { preview: true });
    }
    return report;
  });
}
