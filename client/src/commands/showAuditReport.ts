import { Ctx, type DeploymentArg } from '../context';
import type { AuditResults } from '../views/auditNodes';
import { AuditReportPanels } from '../views/auditReport';
import { CommandIds } from '../../../shared/commands';

/**
 * GPT-Load: Security Audit — runs the audit for a deployment (GPT-Load's security best-practice
 * list, as `gpt-load-keystore audit`), refreshes the explorer's Security node and shows the report.
 */
export function registerShowAuditReport(ctx: Ctx, results: AuditResults, refresh: () => void): void {
  const panels = new AuditReportPanels();
  ctx.subscribe(panels);
  ctx.registerCommand(CommandIds.showAuditReport, async (arg?: DeploymentArg) => {
    ctx.requireTrust();
    const deployment = Ctx.required(await ctx.deploymentFor(arg));
    results.clear();
    refresh();
    const result = await results.get(deployment);
    const panel = panels.show(deployment, result);
    return { summary: result.summary, findings: result.findings.length, viewType: panel.viewType, scripts: panel.webview.options.enableScripts === true };
  });
}
