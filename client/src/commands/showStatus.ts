import type { RowCounts, StatusReport } from '../../../shared/protocol';
import { Ctx, type DeploymentArg } from '../context';
import type { Deployment } from '../deployments';
import { describeState, describeVerdict } from '../describe';
import { currentLanguage, num, t, tn } from '../l10n';
import { protocol } from '../protocol';
import { CommandIds } from '../../../shared/commands';

function counts(name: string, c: RowCounts): string {
  return `| ${name} | ${num(c.total)} | ${num(c.encrypted)} | ${num(c.plaintext)} | ${num(c.unknown)} | ${num(c.empty)} |`;
}

function renderStatus(deployment: Deployment, report: StatusReport): string {
  const state = describeState(report.state, report.encryptionEnabled);
  const verdict = describeVerdict(report.dashboard.verdict);
  const lines = [
    `# ${t('GPT-Load encryption status')} — ${deployment.label}`,
    '',
    `- ${t('State')}: **${state.label}**`,
    `- ${t('Database')}: ${report.target} (${report.engine})`,
    `- ENCRYPTION_KEY: ${report.encryptionEnabled ? t('set (fingerprint {0})', report.keyFingerprint) : t('not set')}`,
    // Without a key, the dashboard's security panel shows its own warning rather than nothing.
    `- ${t('GPT-Load dashboard')}: ${verdict ?? (report.encryptionEnabled ? t('no warning') : t('ENCRYPTION_KEY is not set: sensitive data will be stored in plain text'))} (${tn(report.dashboard.sampled, '{0} row sampled', '{0} rows sampled')})`,
    '',
    `| ${t('Table')} | ${t('Rows')} | ${t('Encrypted')} | ${t('Plaintext')} | ${t('Undecryptable')} | ${t('Empty')} |`,
    '|---|---:|---:|---:|---:|---:|',
    counts('api_keys', report.apiKeys),
    counts('request_logs', report.requestLogs),
  ];
  if (report.apiKeys.unknownIds.length > 0) lines.push('', t('Undecryptable api_keys rows, e.g. ids {0}', report.apiKeys.unknownIds.join(', ')));
  // What status found beyond the table (GPT-Load's history, temp_migration), each with the command resolving it.
  if (report.attention?.length) {
    lines.push('', `## ${t('Needs attention')}`, '', ...report.attention.map((item) => `- ${currentLanguage() === 'zh-cn' ? item.zh : item.en}`));
  }
  lines.push('', `## ${t('Groups')}`, '', `| ${t('Group')} | ${t('Channel')} | ${t('Active')} | ${t('Invalid')} |`, '|---|---|---:|---:|');
  for (const g of report.groups) lines.push(`| ${g.displayName || g.name} | ${g.channelType} | ${num(g.active)} | ${num(g.invalid)} |`);
  if (report.state !== 'ok' && report.state !== 'empty') lines.push('', t('Run "GPT-Load: Migrate Keys" to fix the encryption state.'));
  return `${lines.join('\n')}\n`;
}

/** GPT-Load: Show Encryption Status — exact per-row counts and GPT-Load's dashboard verdict. */
export function registerShowStatus(ctx: Ctx): void {
  ctx.registerCommand(CommandIds.showStatus, async (arg?: DeploymentArg, options?: { open?: boolean }) => {
    const deployment = Ctx.required(await ctx.deploymentFor(arg));
    const { StatusRequest } = await protocol();
    const report = await ctx.daemon.request(StatusRequest.type, { deployment: await ctx.ref(deployment) }, { needsTrust: true, progress: t('Reading the encryption status of {0}', deployment.label) });
    ctx.fireStatus(deployment, report);
    if (options?.open !== false) await ctx.reports.show(t('Encryption status — {0}', deployment.label), deployment.envFile, renderStatus(deployment, report));
    return report;
  });
}
